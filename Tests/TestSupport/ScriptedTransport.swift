import Foundation
import Provider

/// A transport that answers from a script and remembers what it was sent and, with a clock,
/// when (in virtual time) each request came.
///
/// `start` answers before it returns, at the present virtual time: with no other work in
/// flight, the run loop goes idle (and lets a timer move the clock) only once every answer is in.
public final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private let clock: VirtualClock?
    private let answer: @Sendable (Int) -> Result<HTTPResponse, TransportError>
    private var sentRequests: [HTTPRequest] = []
    private var requestTimes: [Int64] = []

    /// Answers the n-th request (counting from 1) with `answer(n)`, noting the clock's time of each.
    public convenience init(clock: VirtualClock, answer: @escaping @Sendable (Int) -> HTTPResponse) {
        self.init(clock: Optional(clock)) { .success(answer($0)) }
    }

    /// Answers with `responses` in order; once they are used up, every request fails ("script exhausted").
    public convenience init(_ responses: [Result<HTTPResponse, TransportError>]) {
        self.init(clock: nil) { n in
            n <= responses.count ? responses[n - 1] : .failure(TransportError(.other, "script exhausted"))
        }
    }

    private init(clock: VirtualClock?, answer: @escaping @Sendable (Int) -> Result<HTTPResponse, TransportError>) {
        self.clock = clock
        self.answer = answer
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse { try respond(to: request).get() }

    public func start(
        _ request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, any Error>) -> Void
    ) -> PendingExchange {
        completion(respond(to: request).mapError { $0 })
        return PendingExchange {}
    }

    private func respond(to request: HTTPRequest) -> Result<HTTPResponse, TransportError> {
        let n: Int = lock.withLock {
            sentRequests.append(request)
            if let clock { requestTimes.append(clock.nowMs()) }
            return sentRequests.count
        }
        return answer(n)
    }

    /// The requests sent so far, in order.
    public var sent: [HTTPRequest] { lock.withLock { sentRequests } }
    /// When each request came, in the clock's milliseconds (empty without a clock).
    public var times: [Int64] { lock.withLock { requestTimes } }

    /// A 200 chat completion (generation id `gen-<n>`) whose message is `content`.
    public static func success(_ n: Int, content: String = #"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello, I am nanochat."}]}"#) -> HTTPResponse {
        let escaped = content.replacingOccurrences(of: "\"", with: "\\\"")
        let body = #"{"id": "gen-\#(n)", "model": "m", "choices": [{"message": {"role": "assistant", "content": "\#(escaped)"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 5, "cost": 0.001}}"#
        return HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: Array(body.utf8))
    }

    /// A 429 asking to wait `seconds` (Retry-After).
    public static func rateLimited(retryAfter seconds: Int) -> HTTPResponse {
        HTTPResponse(status: 429, headers: ["Retry-After": "\(seconds)"],
                     body: Array(#"{"error": {"code": 429, "message": "Rate limit exceeded"}}"#.utf8))
    }
}
