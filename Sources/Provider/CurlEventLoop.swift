import CurlShim
import Foundation

private let curlGlobalInit: Void = {
    _ = curl_global_init(batch_curl_global_all)
}()

/// libcurl's receive buffer per request. Small, because at 1,024 requests in flight every
/// buffer is live at once; a chat answer of a few KB then takes a few reads.
///
/// It is set once, when a handle is made, and pooled handles are never `curl_easy_reset`:
/// libcurl refuses a new size while a handle still holds its buffer, and a handle reused after
/// an HTTP/2 transfer does (libcurl 7.88 frees it only when the connection is idle), while a
/// reset puts the *size* back to 16 KB: reading 16 KB into a 1 KB buffer was the heap overflow
/// behind the HTTP/2 crash. So `configure` sets every per-request option itself instead.
let curlReceiveBufferBytes = 1_024

/// libcurl's upload buffer per request, its minimum: the ~12 KB chat body fits whole. Over
/// HTTP/2 (and HTTPS HTTP/1.1) libcurl copies the body through it, and 7.88 keeps it until the
/// connection is idle, which a multiplexed one never is; so the loop frees it as soon as the
/// body is sent (`releaseUploadBuffers`): otherwise 1,024 requests in flight hold 16 MB of
/// buffers that are done.
let curlUploadBufferBytes = 16_384

/// The event thread and the state it owns.
///
/// Requests wait in `waiting` until the connection ramp (``ConnectionRamp``) has room for them,
/// then go to libcurl. Time spent waiting counts against each request's deadline.
final class CurlEventLoop: @unchecked Sendable {
    private enum Command {
        case add(Transfer)
        case cancel(Transfer)
    }
    private enum State { case running, stopping, stopped }

    let maxResponseBytes: Int
    let options: CurlTransportOptions
    private let multi: UnsafeMutableRawPointer
    /// The TLS session cache every handle shares, so new connections resume sessions.
    private let share: UnsafeMutableRawPointer?
    /// Waits for socket activity, libcurl timeouts and wake-ups (epoll on Linux).
    private let driver: UnsafeMutablePointer<batch_curl_driver>
    private let maxIdleHandles: Int
    private let environment: [String: String]

    // Guarded by `lock`.
    private let lock = NSLock()
    private var commands: [Command] = []
    private var state = State.running
    /// Whether the event thread closes its connections when it stops (see ``CurlTransport/shutdown(closingConnections:)``).
    private var closesConnections = true
    private var statistics = ConnectionStatistics()

    // Event thread only.
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var idleHandles: [EasyHandle] = []
    /// Requests not yet handed to libcurl, oldest first from `waitingHead`.
    private var waiting: [Transfer] = []
    private var waitingHead = 0
    /// Transfers with a body that libcurl may still be sending (see ``curlUploadBufferBytes``).
    private var uploading: [Transfer] = []
    private(set) var ramp: ConnectionRamp
    /// A response (any status) has come back: the path to the server works.
    private var anyResponse = false
    private var proxyCache: (url: String, proxy: String?)?

    private let finished = DispatchSemaphore(value: 0)
    private var thread: Thread?

    init(options: CurlTransportOptions, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        curlGlobalInit
        let maxConnections = max(1, options.maxConnections)
        guard let multi = curl_multi_init() else {
            throw TransportError(.other, "libcurl could not allocate a multi handle")
        }
        self.multi = multi
        self.options = options
        self.environment = environment
        self.maxResponseBytes = max(1024, options.maxResponseBytes)
        self.maxIdleHandles = maxConnections
        self.share = batch_curl_share_ssl_sessions().map { UnsafeMutableRawPointer($0) }
        self.ramp = ConnectionRamp(
            maxConnections: maxConnections, streamsPerConnection: max(1, options.maxConcurrentStreams),
            burst: options.connectBurst)
        _ = batch_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections)
        _ = batch_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
        _ = batch_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, options.httpVersion == .http1_1 ? 0 : batch_curl_pipe_multiplex)
        _ = batch_curl_multi_setopt_long(multi, CURLMOPT_MAX_CONCURRENT_STREAMS, max(1, options.maxConcurrentStreams))
        driver = .allocate(capacity: 1)
        guard batch_curl_driver_open(driver, multi) == 0 else {
            let code = errno
            driver.deallocate()
            curl_multi_cleanup(multi)
            if let share { curl_share_cleanup(share) }
            throw TransportError(.other, "could not create the HTTP event loop's epoll or eventfd descriptors (errno \(code))")
        }
        let thread = Thread { [self] in run() }
        thread.name = "curl-event-loop"
        self.thread = thread
        thread.start()
    }

    /// The bytes HTTPS request bodies share (see ``RequestBody``).
    private let bodyPrefixes = BodyPrefixCache()

    // MARK: Called from any thread

    /// A transfer for `request`. Over HTTPS libcurl copies every body through its upload buffer
    /// anyway, so the body may be kept in shared pieces; over plain http:// libcurl sends it with
    /// the headers from one piece (CURLOPT_POSTFIELDS).
    func makeTransfer(_ request: HTTPRequest) -> Transfer {
        let https = request.url.utf8.count > 5 && request.url.prefix(6).lowercased() == "https:"
        return Transfer(request: request, maxResponseBytes: maxResponseBytes, nowMs: monotonicMs(), prefixes: https ? bodyPrefixes : nil)
    }

    func submit(_ transfer: Transfer) {
        lock.lock()
        guard state == .running else {
            lock.unlock()
            transfer.complete(.failure(TransportError(.shutdown, "the HTTP transport was shut down")))
            return
        }
        let wake = commands.isEmpty
        commands.append(.add(transfer))
        lock.unlock()
        if wake { batch_curl_driver_wake(driver) }
    }

    func cancel(_ transfer: Transfer) {
        lock.lock()
        transfer.cancelRequested = true
        guard state == .running else { lock.unlock(); return }
        let wake = commands.isEmpty
        commands.append(.cancel(transfer))
        lock.unlock()
        if wake { batch_curl_driver_wake(driver) }
    }

    func shutdown(closingConnections: Bool = true) {
        lock.lock()
        let wasRunning = state == .running
        if wasRunning {
            state = .stopping
            closesConnections = closingConnections
        }
        lock.unlock()
        guard wasRunning else { return }
        batch_curl_driver_wake(driver)
        if Thread.current !== thread { finished.wait() }
    }

    /// Connections opened so far and the most handshakes seen under way at once.
    func connectionStatistics() -> ConnectionStatistics {
        lock.lock()
        defer { lock.unlock() }
        return statistics
    }

    // MARK: Event thread

    private func run() {
        while true {
            lock.lock()
            let pending = commands
            commands.removeAll(keepingCapacity: true)
            let stopping = state == .stopping
            lock.unlock()

            for command in pending {
                switch command {
                case .add(let transfer):
                    transfer.loop = self
                    waiting.append(transfer)
                case .cancel(let transfer): abort(transfer)
                }
            }
            if stopping { break }

            admitWaiting()
            let waitMs = expireWaiting(nowMs: monotonicMs())
            batch_curl_driver_run_once(driver, waitMs)
            releaseUploadBuffers()
            collectCompletions()
        }
        let shutdownError = TransportError(.shutdown, "the HTTP transport was shut down")
        for transfer in Array(active.values) { finish(transfer, .failure(shutdownError)) }
        for transfer in waiting[waitingHead...] { transfer.complete(.failure(shutdownError)) }
        waiting.removeAll()
        waitingHead = 0
        lock.lock()
        let leftover = commands
        commands.removeAll()
        state = .stopped
        let closing = closesConnections
        lock.unlock()
        for case .add(let transfer) in leftover { transfer.complete(.failure(shutdownError)) }
        guard closing else {
            // The process is about to exit and the kernel closes the sockets.
            finished.signal()
            return
        }
        idleHandles.removeAll()
        curl_multi_cleanup(multi)
        if let share { curl_share_cleanup(share) }
        batch_curl_driver_close(driver)
        driver.deallocate()
        finished.signal()
    }

    /// Hands waiting requests to libcurl while the ramp has room.
    private func admitWaiting() {
        while waitingHead < waiting.count,
              let admission = ramp.admit(inside: active.count, queued: waiting.count - waitingHead) {
            let transfer = waiting[waitingHead]
            waitingHead += 1
            start(transfer, newConnection: admission == .newConnection)
        }
        if waitingHead == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        } else if waitingHead > 4_096, waitingHead * 2 > waiting.count {
            waiting.removeFirst(waitingHead)
            waitingHead = 0
        }
    }

    /// Fails waiting requests whose deadline passed; returns how long the loop may sleep (ms).
    private func expireWaiting(nowMs: Int64) -> Int32 {
        var sleep: Int64 = 1000
        let index = waitingHead
        // Deadlines are submission time plus one transport-wide duration, so the queue is
        // nearly in deadline order: look at the front only.
        while index < waiting.count {
            let transfer = waiting[index]
            guard transfer.deadlineMs <= nowMs else {
                sleep = min(sleep, transfer.deadlineMs - nowMs)
                break
            }
            waiting.remove(at: index)
            transfer.complete(.failure(TransportError(
                .timeout, "no complete response within the \(transfer.request.deadline) deadline (still waiting for a connection)")))
        }
        return Int32(max(0, sleep))
    }

    /// - Parameter newConnection: the ramp counts the request's new connection from now
    ///   (``ConnectionRamp/Admission/newConnection``).
    private func start(_ transfer: Transfer, newConnection: Bool) {
        if transfer.cancelRequested {
            transfer.complete(.failure(TransportError(.cancelled, "the request was cancelled before it was sent")))
            return
        }
        let remainingMs = transfer.deadlineMs - monotonicMs()
        guard remainingMs > 0 else {
            transfer.complete(.failure(TransportError(.timeout, "no complete response within the \(transfer.request.deadline) deadline")))
            return
        }
        guard let easy = acquireHandle() else {
            transfer.complete(.failure(TransportError(.other, "libcurl could not allocate a request handle")))
            return
        }
        transfer.easy = easy
        if newConnection { transfer.connection.reserve(&ramp) }
        if let problem = configure(easy, for: transfer, timeoutMs: remainingMs) {
            finish(transfer, .failure(problem), added: false)
            return
        }
        let code = curl_multi_add_handle(multi, easy.handle)
        guard code == CURLM_OK else {
            finish(transfer, .failure(TransportError(.other, "libcurl refused the request (multi error \(code.rawValue))")), added: false)
            return
        }
        active[easy.handle] = transfer
        if transfer.bodyCount > 0 { uploading.append(transfer) }
    }

    /// A pooled handle as its last transfer left it, or a new one with the options that never
    /// change set (see ``curlReceiveBufferBytes``).
    private func acquireHandle() -> EasyHandle? {
        if let easy = idleHandles.popLast() { return easy }
        guard let easy = EasyHandle(),
              batch_curl_easy_setopt_long(easy.handle, CURLOPT_BUFFERSIZE, curlReceiveBufferBytes) == CURLE_OK else { return nil }
        setStableOptions(easy)
        lock.lock()
        statistics.handlesCreated += 1
        lock.unlock()
        return easy
    }

    /// Frees the upload buffer of every transfer whose body is all sent: nothing in libcurl
    /// reads it after that, and setting its size again is how libcurl lets it go.
    private func releaseUploadBuffers() {
        guard !uploading.isEmpty else { return }
        var kept = 0
        defer {
            let released = uploading.count - kept
            uploading.removeLast(released)
            if released > 0 {
                lock.lock()
                statistics.uploadBuffersReleased += released
                lock.unlock()
            }
        }
        for transfer in uploading {
            guard let easy = transfer.easy else { continue }
            var sent: curl_off_t = 0
            if batch_curl_easy_getinfo_off_t(easy.handle, CURLINFO_SIZE_UPLOAD_T, &sent) == CURLE_OK, sent >= transfer.bodyCount {
                _ = batch_curl_easy_setopt_long(easy.handle, CURLOPT_UPLOAD_BUFFERSIZE, curlUploadBufferBytes)
                continue
            }
            uploading[kept] = transfer
            kept += 1
        }
    }

    private func abort(_ transfer: Transfer) {
        if let easy = transfer.easy, active[easy.handle] === transfer {
            finish(transfer, .failure(TransportError(.cancelled, "the request was cancelled; the transfer was aborted")))
            return
        }
        if let index = waiting[waitingHead...].firstIndex(where: { $0 === transfer }) {
            waiting.remove(at: index)
            transfer.complete(.failure(TransportError(.cancelled, "the request was cancelled before it was sent")))
        }
    }

    private func collectCompletions() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                  let transfer = active[handle] else { continue }
            let code = message.pointee.data.result
            if code == CURLE_OK {
                var status = 0
                _ = batch_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
                anyResponse = true
                let response = HTTPResponse(
                    status: status,
                    headers: HTTPHeaders(transfer.responseHeaders),
                    body: transfer.responseBody
                )
                finish(transfer, .success(response))
            } else if transfer.connection.connectRefused {
                if transfer.cancelRequested {
                    finish(transfer, .failure(TransportError(.cancelled, "the request was cancelled before it was sent")))
                } else {
                    requeue(transfer, timedOut: false)
                }
            } else if code == CURLE_OPERATION_TIMEDOUT, transfer.connection.mayRequeue(
                cancelRequested: transfer.cancelRequested, anyResponse: anyResponse,
                remainingMs: transfer.deadlineMs - monotonicMs(), connectTimeoutMs: transfer.request.connectTimeout.wholeMilliseconds
            ) {
                requeue(transfer, timedOut: true)
                transfer.connection.requeued()
            } else {
                finish(transfer, .failure(transportError(code, transfer)))
            }
        }
        admitWaiting()
    }

    /// Puts a transfer back at the front of the queue: a connect that timed out while other
    /// connections to the server work (``TransferConnection/mayRequeue``; the window shrinks), or
    /// one the ramp refused (``TransferConnection/connectRefused``).
    private func requeue(_ transfer: Transfer, timedOut: Bool) {
        detach(transfer, timedOut: timedOut)
        // Its next attempt is listed again when it starts.
        if let index = uploading.firstIndex(where: { $0 === transfer }) { uploading.remove(at: index) }
        if waitingHead > 0 {
            waitingHead -= 1
            waiting[waitingHead] = transfer
        } else {
            waiting.insert(transfer, at: 0)
        }
    }

    /// Takes the transfer out of libcurl and recycles its handle, keeping the ramp's counts.
    private func detach(_ transfer: Transfer, added: Bool = true, timedOut: Bool = false) {
        var httpMajorVersion: Int?
        if let easy = transfer.easy {
            if added {
                var version = 0
                if transfer.connection.attached { _ = batch_curl_easy_getinfo_long(easy.handle, CURLINFO_HTTP_VERSION, &version) }
                active[easy.handle] = nil
                _ = curl_multi_remove_handle(multi, easy.handle)
                httpMajorVersion = version >= 3 ? 2 : (version > 0 ? 1 : 0)
            }
            transfer.easy = nil
            if idleHandles.count < maxIdleHandles {
                // An idle handle keeps no upload buffer (a transfer that ended before its body
                // was sent may have left one), nor pointers into the finished transfer.
                _ = batch_curl_easy_setopt_long(easy.handle, CURLOPT_UPLOAD_BUFFERSIZE, curlUploadBufferBytes)
                idleHandles.append(easy)
            }
        }
        transfer.connection.detach(&ramp, httpMajorVersion: httpMajorVersion, timedOut: timedOut)
        if let list = transfer.headerList {
            curl_slist_free_all(list)
            transfer.headerList = nil
        }
        transfer.responseBody = []
        transfer.responseHeaders = []
        transfer.bodyTooLarge = false
    }

    /// Detaches the transfer from libcurl, recycles its handle and resumes its caller.
    private func finish(_ transfer: Transfer, _ result: Result<HTTPResponse, TransportError>, added: Bool = true) {
        var connectTimedOut = false
        if case .failure(let error) = result, error.kind == .timeout, transfer.connection.isConnecting {
            connectTimedOut = true
        }
        detach(transfer, added: added, timedOut: connectTimedOut)
        transfer.complete(result)
    }

    // MARK: Callbacks from libcurl (event thread)

    /// Whether libcurl may open a socket for `transfer` (see ``TransferConnection/socketOpened(_:)``).
    fileprivate func socketOpened(by transfer: Transfer) -> Bool {
        guard transfer.connection.socketOpened(&ramp) else {
            lock.lock()
            statistics.connectsRefused += 1
            lock.unlock()
            return false
        }
        defer { lock.unlock() }
        lock.lock()
        statistics.socketsOpened += 1
        statistics.peakConnecting = max(statistics.peakConnecting, ramp.connecting)
        statistics.peakOpen = max(statistics.peakOpen, ramp.open)
        statistics.streamsPerConnection = ramp.streamsPerConnection
        return true
    }

    fileprivate func socketClosed(_ connection: ConnectionLoads.Key? = nil) {
        ramp.socketClosed()
        if let connection { ramp.loads.closed(connection) }
    }

    fileprivate func attached(_ transfer: Transfer, on connection: ConnectionLoads.Key) {
        transfer.connection.attach(&ramp, on: connection)
        // The body goes out whole from here, every time. libcurl 7.88 sends a request again after
        // the server refused its stream (more streams than it allows), but rewinds the body only
        // if some of it was already sent: one it had read but not sent went out empty (nginx:
        // "client prematurely closed stream", HTTP 400).
        transfer.bodyOffset = 0
    }

    // MARK: Options

    /// The proxy for `url` from the environment (cached for the last URL's prefix).
    private func proxy(for url: String) -> String? {
        if let cache = proxyCache, url == cache.url { return cache.proxy }
        let proxy = ProxySetting.proxy(for: url, environment: environment)
        proxyCache = (url, proxy)
        return proxy
    }

    /// The options every request of this loop shares, set once on a new handle: pooled handles
    /// are reused as they are (see ``curlReceiveBufferBytes``), so these stay.
    private func setStableOptions(_ easy: EasyHandle) {
        let h = easy.handle
        _ = batch_curl_easy_setopt_pointer(h, CURLOPT_ERRORBUFFER, easy.errorBuffer)
        _ = batch_curl_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = batch_curl_easy_setopt_long(
            h, CURLOPT_HTTP_VERSION, options.httpVersion == .http1_1 ? batch_curl_http_version_1_1 : batch_curl_http_version_2tls)
        _ = batch_curl_easy_setopt_string(h, CURLOPT_ACCEPT_ENCODING, "")
        _ = batch_curl_easy_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        _ = batch_curl_easy_setopt_long(h, CURLOPT_UPLOAD_BUFFERSIZE, curlUploadBufferBytes)
        if let share { _ = batch_curl_easy_setopt_pointer(h, CURLOPT_SHARE, share) }
        // One certificate store for the whole process: libcurl caches the store it builds from a
        // CA *file* (CURLOPT_CA_CACHE_TIMEOUT), but not when a CA *directory* is also set, as
        // Debian's libcurl does by default (/etc/ssl/certs): then every new connection parses the
        // whole system bundle again. (No effect on plain http://.)
        _ = batch_curl_easy_setopt_string(h, CURLOPT_CAPATH, nil)
        if let caFile = options.caFile { _ = batch_curl_easy_setopt_string(h, CURLOPT_CAINFO, caFile) }
        _ = batch_curl_easy_setopt_long(h, CURLOPT_CA_CACHE_TIMEOUT, -1)
        _ = batch_curl_easy_setopt_opensocket(h, openSocket)
        _ = batch_curl_easy_setopt_closesocket(h, closeSocket)
        _ = batch_curl_easy_setopt_pointer(h, CURLOPT_CLOSESOCKETDATA, Unmanaged.passUnretained(self).toOpaque())
        _ = batch_curl_easy_setopt_prereq(h, requestAttached)
        _ = batch_curl_easy_setopt_data_callback(h, CURLOPT_WRITEFUNCTION, writeBody)
        _ = batch_curl_easy_setopt_data_callback(h, CURLOPT_HEADERFUNCTION, writeHeader)
        _ = batch_curl_easy_setopt_data_callback(h, CURLOPT_READFUNCTION, readBody)
        _ = batch_curl_easy_setopt_seek(h, seekBody)
    }

    /// Sets every option that differs between requests (on a pooled handle, the previous
    /// request's values are still there); returns an error if the request cannot be sent.
    private func configure(_ easy: EasyHandle, for transfer: Transfer, timeoutMs: Int64) -> TransportError? {
        let h = easy.handle
        let request = transfer.request
        easy.errorBuffer[0] = 0
        var code = batch_curl_easy_setopt_string(h, CURLOPT_URL, request.url)
        guard code == CURLE_OK else {
            return TransportError(.invalidRequest, "the URL is not valid (\(String(cString: curl_easy_strerror(code))))")
        }
        _ = batch_curl_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(clamping: request.connectTimeout.wholeMilliseconds))
        _ = batch_curl_easy_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(clamping: max(1, timeoutMs)))
        // An explicit proxy (or "" for none), decided from the environment as libcurl would.
        let proxy = proxy(for: request.url) ?? ""
        if easy.proxy != proxy {
            _ = batch_curl_easy_setopt_string(h, CURLOPT_PROXY, proxy)
            easy.proxy = proxy
        }
        // Over HTTPS, wait for a connection that may multiplex (HTTP/2) instead of opening
        // many. Not over plain http://, where libcurl would wait for each connection in turn.
        let https = request.url.utf8.count > 5 && request.url.prefix(6).lowercased() == "https:"
        _ = batch_curl_easy_setopt_long(h, CURLOPT_PIPEWAIT, https && options.httpVersion != .http1_1 ? 1 : 0)
        // A request admitted for a new connection opens one: libcurl 7.88 would otherwise put it
        // on a connection still connecting, whose server may allow fewer streams than it gets.
        _ = batch_curl_easy_setopt_long(h, CURLOPT_FRESH_CONNECT, transfer.connection.reservedConnection ? 1 : 0)

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        _ = batch_curl_easy_setopt_pointer(h, CURLOPT_OPENSOCKETDATA, context)
        _ = batch_curl_easy_setopt_pointer(h, CURLOPT_PREREQDATA, context)
        _ = batch_curl_easy_setopt_pointer(h, CURLOPT_WRITEDATA, context)
        _ = batch_curl_easy_setopt_pointer(h, CURLOPT_HEADERDATA, context)

        // Never a pointer to an earlier (freed) transfer on a reused handle.
        _ = batch_curl_easy_setopt_pointer(h, CURLOPT_READDATA, context)
        _ = batch_curl_easy_setopt_pointer(h, CURLOPT_SEEKDATA, context)
        transfer.bodyOffset = 0
        // The body before the method: setting CURLOPT_POSTFIELDS, even to NULL, makes a request a POST.
        if request.method == .post || transfer.bodyCount > 0 {
            _ = batch_curl_easy_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(transfer.bodyCount))
            // POSTFIELDS does not copy: the transfer owns the bytes until the handle is done with
            // them. A body in pieces (NULL here) is read through the callbacks, its size known, so
            // not chunked.
            code = batch_curl_easy_setopt_pointer(h, CURLOPT_POSTFIELDS, transfer.body.contiguous)
            guard code == CURLE_OK else {
                return TransportError(.other, "libcurl could not take the request body (\(String(cString: curl_easy_strerror(code))))")
            }
        } else {
            _ = batch_curl_easy_setopt_pointer(h, CURLOPT_POSTFIELDS, nil)
            _ = batch_curl_easy_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, -1)
        }
        _ = batch_curl_easy_setopt_string(h, CURLOPT_CUSTOMREQUEST, nil)
        switch request.method {
        case .get where transfer.bodyCount == 0:
            _ = batch_curl_easy_setopt_long(h, CURLOPT_HTTPGET, 1)
        case .post:
            _ = batch_curl_easy_setopt_long(h, CURLOPT_POST, 1)
        default:
            // Without a body, a GET's semantics under the custom name (a reused handle may still be set to POST).
            if transfer.bodyCount == 0 { _ = batch_curl_easy_setopt_long(h, CURLOPT_HTTPGET, 1) }
            _ = batch_curl_easy_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method.rawValue)
        }

        var list: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in request.headers {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        // No "Expect: 100-continue" round trip before sending the body.
        list = curl_slist_append(list, "Expect:")
        transfer.headerList = list
        _ = batch_curl_easy_setopt_slist(h, CURLOPT_HTTPHEADER, list)
        return nil
    }

    private func transportError(_ code: CURLcode, _ transfer: Transfer) -> TransportError {
        let detail = transfer.easy.map(\.errorText).flatMap { $0.isEmpty ? nil : $0 }
            ?? String(cString: curl_easy_strerror(code))
        let suffix = "(curl error \(code.rawValue): \(detail))"
        let viaProxy = proxy(for: transfer.request.url) != nil && !anyResponse
        switch code {
        case CURLE_PEER_FAILED_VERIFICATION:
            return TransportError(.tls, "the server's TLS certificate was refused \(suffix)")
        case CURLE_SSL_CACERT_BADFILE:
            return TransportError(.tls, "the CA certificates could not be loaded \(options.caFile.map { "from \($0) " } ?? "")\(suffix)")
        case CURLE_COULDNT_RESOLVE_PROXY:
            return TransportError(.proxy, "the proxy's host name could not be resolved \(suffix)")
        case CURLE_COULDNT_CONNECT where viaProxy:
            return TransportError(.proxy, "could not connect to the proxy \(suffix)")
        case CURLE_RECV_ERROR where viaProxy && detail.contains("CONNECT"):
            return TransportError(.proxy, "the proxy refused the tunnel \(suffix)")
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_SSL_CONNECT_ERROR:
            return TransportError(.connect, "could not connect to the server \(suffix)")
        case CURLE_OPERATION_TIMEDOUT:
            if transfer.connection.isConnecting {
                return TransportError(.timeout, "could not connect within \(transfer.request.connectTimeout) \(suffix)")
            }
            return TransportError(.timeout, "no complete response within the \(transfer.request.deadline) deadline \(suffix)")
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING,
             CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return TransportError(.reset, "the connection closed before the response was complete \(suffix)")
        case CURLE_WRITE_ERROR where transfer.bodyTooLarge:
            return TransportError(.other, "the response body was larger than \(transfer.maxResponseBytes) bytes")
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return TransportError(.invalidRequest, "the URL cannot be requested \(suffix)")
        default:
            return TransportError(.other, "the HTTP exchange failed \(suffix)")
        }
    }
}

// MARK: libcurl callbacks (run on the event thread, inside curl_multi_socket_action)

/// Opens the socket of a new connection (as libcurl would) and counts it in the ramp.
private let openSocket: curl_opensocket_callback = { context, _, address in
    guard let context, let address else { return batch_curl_socket_bad }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    guard transfer.loop?.socketOpened(by: transfer) != false else { return batch_curl_socket_bad }
    let fd = socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
    guard fd >= 0 else {
        transfer.loop?.socketClosed()
        return batch_curl_socket_bad
    }
    return fd
}

private let closeSocket: curl_closesocket_callback = { context, fd in
    if let context {
        Unmanaged<CurlEventLoop>.fromOpaque(context).takeUnretainedValue().socketClosed(ConnectionLoads.Key(connectedSocket: fd))
    }
    return close(fd)
}

/// The connection is up (new or reused) and the request is about to go out.
private let requestAttached: curl_prereq_callback = { context, _, _, remotePort, localPort in
    if let context {
        let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
        transfer.loop?.attached(transfer, on: ConnectionLoads.Key(localPort: Int(localPort), remotePort: Int(remotePort)))
    }
    return batch_curl_prereqfunc_ok
}

private let writeBody: batch_curl_data_callback = { data, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    guard transfer.responseBody.count + length <= transfer.maxResponseBytes else {
        transfer.bodyTooLarge = true
        return 0
    }
    if length > 0, let data {
        data.withMemoryRebound(to: UInt8.self, capacity: length) {
            transfer.responseBody.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
        }
    }
    return length
}

/// Hands libcurl the next bytes of a body kept in pieces.
private let readBody: batch_curl_data_callback = { destination, size, count, context in
    guard let destination, let context else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    let copied = transfer.body.read(at: transfer.bodyOffset, into: destination, capacity: size * count)
    transfer.bodyOffset += copied
    return copied
}

/// Rewinds a body (libcurl sends it again when a reused connection turned out dead).
private let seekBody: curl_seek_callback = { context, offset, origin in
    guard let context, origin == SEEK_SET, offset >= 0 else { return batch_curl_seekfunc_cantseek }
    let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
    guard offset <= transfer.bodyCount else { return batch_curl_seekfunc_cantseek }
    transfer.bodyOffset = Int(offset)
    return batch_curl_seekfunc_ok
}

private let writeHeader: batch_curl_data_callback = { data, size, count, context in
    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    guard length > 0, let data else { return length }
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        UnsafeBufferPointer(start: $0, count: length)
    }
    if line.count > 5, line[0] == UInt8(ascii: "H"), line[1] == UInt8(ascii: "T"), line[2] == UInt8(ascii: "T"),
       line[3] == UInt8(ascii: "P"), line[4] == UInt8(ascii: "/") {
        // A new status line (after "100 Continue" or a redirect): keep only the last response's headers.
        transfer.responseHeaders.removeAll(keepingCapacity: true)
        return length
    }
    guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return length }
    let name = trimmedString(line[line.startIndex..<colon])
    let value = trimmedString(line[(colon + 1)...])
    if !name.isEmpty { transfer.responseHeaders.append((name, value)) }
    if name.count == 14, name.lowercased() == "content-length", let expected = Int(value), expected > 0 {
        transfer.responseBody.reserveCapacity(min(expected, transfer.maxResponseBytes))
    }
    return length
}

private func trimmedString(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String {
    var start = bytes.startIndex
    var end = bytes.endIndex
    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
    while start < end, isSpace(bytes[start]) { start += 1 }
    while end > start, isSpace(bytes[end - 1]) { end -= 1 }
    return String(decoding: bytes[start..<end], as: UTF8.self)
}
