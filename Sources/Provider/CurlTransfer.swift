import CurlShim
import Foundation

/// One request on its way through libcurl.
///
/// `onComplete` is written once before submission; `cancelRequested` is guarded by the
/// loop's lock; everything else is touched only on the event thread.
final class Transfer: @unchecked Sendable {
    /// The request, its body moved out into `body`.
    let request: HTTPRequest
    /// The body libcurl sends, owned by the transfer so it lives as long as libcurl may read it
    /// (libcurl sends it again if a reused connection turns out dead before any answer).
    let body: RequestBody
    let bodyCount: Int
    let maxResponseBytes: Int
    /// When the whole exchange must be over (CLOCK_MONOTONIC milliseconds): submission plus the
    /// request's deadline. Time spent waiting for a connection counts.
    let deadlineMs: Int64
    /// Resumes the caller: a continuation's, or a completion handler run on the event thread.
    var onComplete: (@Sendable (Result<HTTPResponse, TransportError>) -> Void)?
    var cancelRequested = false

    // Event thread only.
    var easy: EasyHandle?
    /// The loop that runs this transfer, for libcurl's socket and pre-request callbacks.
    unowned(unsafe) var loop: CurlEventLoop?
    var headerList: UnsafeMutablePointer<curl_slist>?
    var responseBody: [UInt8] = []
    var responseHeaders: [(String, String)] = []
    var bodyTooLarge = false
    /// Its part in the connection ramp: a connection opened, the request on one, requeues.
    var connection = TransferConnection()
    /// How far libcurl has read the body (CURLOPT_READFUNCTION).
    var bodyOffset = 0

    /// - Parameter prefixes: where bodies find the bytes they share with others' (nil: the body
    ///   is kept whole, in one piece).
    init(request: HTTPRequest, maxResponseBytes: Int, nowMs: Int64, prefixes: BodyPrefixCache? = nil) {
        body = RequestBody(request.body, sharing: prefixes)
        bodyCount = request.body.count
        var headersOnly = request
        headersOnly.body = []
        self.request = headersOnly
        self.maxResponseBytes = maxResponseBytes
        let (deadline, overflow) = nowMs.addingReportingOverflow(max(1, request.deadline.wholeMilliseconds))
        deadlineMs = overflow ? Int64.max : deadline
    }

    /// Resumes the caller exactly once.
    func complete(_ result: Result<HTTPResponse, TransportError>) {
        guard let onComplete else { return }
        self.onComplete = nil
        onComplete(result)
    }
}

/// A pooled easy handle and its error buffer.
final class EasyHandle {
    let handle: UnsafeMutableRawPointer
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// The CURLOPT_PROXY value set on the handle (nil: not set yet).
    var proxy: String?

    init?() {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(batch_curl_error_size))
        errorBuffer.initialize(repeating: 0, count: Int(batch_curl_error_size))
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    var errorText: String {
        String(cString: errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// CLOCK_MONOTONIC in milliseconds: the clock libcurl's timeouts and the loop's deadlines share.
func monotonicMs() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}
