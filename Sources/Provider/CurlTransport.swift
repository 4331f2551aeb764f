import CurlShim
import Foundation

/// An ``HTTPTransport`` on libcurl's multi interface.
///
/// One dedicated thread drives every transfer: `curl_multi_socket_action` over epoll on Linux
/// (only ready sockets are touched, so the cost per request does not grow with the number in
/// flight), `curl_multi_poll` elsewhere. `send` may be called from any task; submissions and
/// cancellations are queued under a lock and the thread is woken (an eventfd on Linux,
/// `curl_multi_wakeup` elsewhere); each completion resumes the awaiting continuation.
/// Connections are kept alive and reused across requests, HTTP/2 is negotiated over TLS when
/// the server offers it (several requests then share one connection), and the number of
/// open connections is capped (requests beyond the cap wait inside libcurl for a free one).
///
/// Every request has a connect timeout and a total deadline, so a server that never answers,
/// or trickles bytes, cannot hold a caller forever. Cancelling the awaiting task aborts the
/// transfer and closes its connection.
///
/// Call ``shutdown()`` when done (it also runs when the transport is released); requests in
/// flight then fail with ``TransportError/Kind-swift.struct/shutdown``.
public final class CurlTransport: HTTPTransport, Sendable {
    private let loop: CurlEventLoop

    /// - Parameters:
    ///   - maxConnections: the most connections open at once, to all hosts together.
    ///   - maxConcurrentStreams: the most HTTP/2 streams multiplexed on one connection.
    ///   - maxResponseBytes: a response body larger than this fails the request.
    public convenience init(maxConnections: Int = 1024, maxConcurrentStreams: Int = 16, maxResponseBytes: Int = 64 << 20) throws {
        try self.init(options: CurlTransportOptions(
            maxConnections: maxConnections, maxConcurrentStreams: maxConcurrentStreams, maxResponseBytes: maxResponseBytes))
    }

    /// - Throws: ``TransportError`` when libcurl or the system cannot set up the event loop.
    public init(options: CurlTransportOptions) throws {
        loop = try CurlEventLoop(options: options)
    }

    deinit { loop.shutdown() }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = loop.makeTransfer(request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                transfer.onComplete = { continuation.resume(with: $0.mapError { $0 as any Error }) }
                loop.submit(transfer)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
    }

    /// Submits the request to the event thread, which runs `completion` when it ends.
    public func start(
        _ request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, any Error>) -> Void
    ) -> PendingExchange {
        let transfer = loop.makeTransfer(request)
        transfer.onComplete = { completion($0.mapError { $0 as any Error }) }
        loop.submit(transfer)
        let loop = self.loop
        return PendingExchange { loop.cancel(transfer) }
    }

    /// Connections opened so far and the most handshakes under way at once.
    public var connectionStatistics: ConnectionStatistics { loop.connectionStatistics() }

    /// Stops the event thread and fails requests still in flight. Idempotent; blocks until
    /// the thread has released every libcurl handle.
    ///
    /// With `closingConnections: false`, for a process about to exit, the thread stops without
    /// closing its connections one by one (a TLS close_notify and an HTTP/2 GOAWAY on each),
    /// leaving the sockets and handles to the exit; nothing may use the transport afterwards.
    public func shutdown(closingConnections: Bool = true) { loop.shutdown(closingConnections: closingConnections) }
}

/// The libcurl version this process loaded, e.g. "libcurl/7.88.1 OpenSSL/3.0.15 ...".
public var curlVersionDescription: String { String(cString: curl_version()) }
