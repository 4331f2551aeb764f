import Foundation

/// Posts chat-completion requests and classifies every answer into one ``ProviderOutcome``.
///
/// The body comes ready-made (the recipe builds it); the client adds the URL, the key and the
/// attribution headers, measures latency, and never lets the key reach an outcome's message.
public struct ChatClient: Sendable {
    public let transport: any HTTPTransport
    public let config: ProviderConfig
    private let classifier: ResponseClassifier
    private let now: @Sendable () -> Date

    /// - Parameter now: the wall clock, for HTTP-date `Retry-After` (injected in tests).
    public init(transport: any HTTPTransport, config: ProviderConfig, now: @escaping @Sendable () -> Date = { Date() }) {
        self.transport = transport
        self.config = config
        self.classifier = ResponseClassifier(apiKeyEnvName: config.apiKeyEnvName, maxWait: config.maxRetryAfter)
        self.now = now
    }

    /// The request `complete(body:)` sends.
    public func request(body: [UInt8]) -> HTTPRequest {
        HTTPRequest(
            url: config.chatCompletionsURL,
            method: .post,
            headers: [("Content-Type", "application/json")] + config.requestHeaders,
            body: body,
            connectTimeout: config.connectTimeout,
            deadline: config.requestDeadline
        )
    }

    /// Sends one chat-completion request (`body` is the JSON request) and classifies the result.
    public func complete(body: [UInt8]) async -> ProviderOutcome {
        let started = ContinuousClock.now
        let result: Result<HTTPResponse, any Error>
        do {
            result = .success(try await transport.send(request(body: body)))
        } catch {
            result = .failure(error)
        }
        return outcome(of: Answer(result: result, latency: started.duration(to: .now)))
    }

    /// What ``start(body:completion:)`` hands back: the transport's result, unclassified, and
    /// how long the exchange took. Classifying (parsing the body) is the costly part, so the
    /// caller chooses where it runs, with ``outcome(of:)``.
    public struct Answer: Sendable {
        public let result: Result<HTTPResponse, any Error>
        /// From the call to `start` to the last byte of the response.
        public let latency: Duration

        public init(result: Result<HTTPResponse, any Error>, latency: Duration) {
            self.result = result
            self.latency = latency
        }

        /// The HTTP status, or nil when the exchange failed before a response.
        public var status: Int? { if case .success(let response) = result { response.status } else { nil } }
    }

    /// Like ``complete(body:)`` without awaiting: starts the request and returns; `completion`
    /// gets the raw answer on the transport's thread (see ``HTTPTransport/start(_:completion:)``).
    /// The body is not kept past this call: the transport holds the one copy in flight.
    public func start(body: [UInt8], completion: @escaping @Sendable (Answer) -> Void) -> PendingExchange {
        let started = ContinuousClock.now
        return transport.start(request(body: body)) { result in
            completion(Answer(result: result, latency: started.duration(to: .now)))
        }
    }

    /// Classifies an answer into exactly one outcome; the key never reaches its message.
    public func outcome(of answer: Answer) -> ProviderOutcome {
        let outcome: ProviderOutcome
        switch answer.result {
        case .success(let response):
            outcome = classifier.classify(
                status: response.status, headers: response.headers, body: scrubbed(response.body),
                now: now(), latency: answer.latency
            )
        case .failure(let error as TransportError):
            outcome = classifier.classify(error)
        case .failure(is CancellationError):
            outcome = classifier.classify(TransportError(.cancelled, "the request was cancelled"))
        case .failure(let error):
            outcome = classifier.classify(TransportError(.other, "the transport failed: \(type(of: error))"))
        }
        return redacted(outcome)
    }

    /// The body with any copy of the key replaced, in case a provider echoes it back.
    private func scrubbed(_ body: [UInt8]) -> [UInt8] {
        guard let key = config.apiKey?.value, key.utf8.count >= 4 else { return body }
        let needle = Array(key.utf8)
        guard body.firstRange(of: needle) != nil else { return body }
        var clean = body
        let mask = Array("<redacted>".utf8)
        while let range = clean.firstRange(of: needle) { clean.replaceSubrange(range, with: mask) }
        return clean
    }

    /// Removes the key from failure messages, in case a provider echoes it back.
    private func redacted(_ outcome: ProviderOutcome) -> ProviderOutcome {
        guard let key = config.apiKey?.value, key.count >= 4, let failure = outcome.failure,
              failure.message.contains(key) else { return outcome }
        var clean = failure
        clean.message = failure.message.replacingOccurrences(of: key, with: "<redacted>")
        switch outcome {
        case .success: return outcome
        case .retry: return .retry(clean)
        case .retryAfter(let wait, _): return .retryAfter(wait, clean)
        case .failRow: return .failRow(clean)
        case .abortRun: return .abortRun(clean)
        }
    }
}
