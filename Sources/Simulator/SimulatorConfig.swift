/// How `batch simulate` behaves: where it listens, how slowly it answers, and which faults
/// it injects at which rates.
public struct SimulatorConfig: Sendable, Equatable {
    /// How long the simulator waits before answering.
    public enum Latency: Sendable, Equatable {
        case fixed(Duration)
        /// `median * exp(sigma * Z)` with Z standard normal: a long right tail, like real APIs.
        case lognormal(median: Duration, sigma: Double)
    }

    public var host: String
    /// 0 picks a free port; read the chosen one from ``SimulatorServer/port``.
    public var port: Int
    /// Event-loop threads.
    public var threads: Int
    public var latency: Latency

    /// Fault rates, each a probability in 0...1; their sum must not exceed 1.
    public var rate429: Double
    public var rate500: Double
    /// 502 with an HTML (non-JSON) body, as a proxy sends.
    public var rate502: Double
    public var rate503: Double
    /// Accept the request and never answer, holding the connection until the client leaves.
    public var rateTimeout: Double
    /// Send the headers and part of the body, then reset the connection.
    public var rateReset: Double
    /// Content that is not JSON.
    public var rateMalformed: Double
    /// JSON content whose roles are wrong.
    public var rateBadConversation: Double
    /// `finish_reason: "length"` with partial content.
    public var rateTruncated: Double
    /// HTTP 200 whose body is `{"error": {...}, "choices": null}`.
    public var rateErrorIn200: Double

    /// The `Retry-After` seconds sent with 429s.
    public var retryAfterSeconds: Int
    /// Requests per minute accepted (a sliding window); more get 429 with Retry-After. nil: no limit.
    public var requestsPerMinute: Int?
    /// When set, requests without `Authorization: Bearer <this>` get 401.
    public var requiredAPIKey: String?
    /// Seeds fault, latency and content choices. The same seed and the same order of requests
    /// give the same choices; with concurrent clients the order itself varies.
    public var seed: UInt64
    /// Appends one JSON line per response (serial, outcome, prompt_sha256, generation_id).
    public var logPath: String?
    /// An inference server's capacity model: at most this many requests served at once (on a
    /// schedule: the capacity from each step's time since start), the rest queued first in,
    /// first out. nil: every request is served at once, after `latency`.
    public var capacity: [CapacityStep]?
    /// How long serving one request takes under the capacity model (on top of any queueing).
    public var serviceTime: Duration = .milliseconds(300)
    /// Requests waiting past this many are answered 503 at once. nil: the queue has no limit.
    public var queueLimit: Int?
    /// An implicit prompt cache, as OpenAI, DeepSeek and Gemini run one: the longest prefix of a
    /// prompt (in 1,024-byte blocks of its messages' text) that an earlier request already sent
    /// is read from the cache, billed at a tenth of the prompt price; the answer's usage carries
    /// `prompt_tokens_details.cached_tokens` and `cache_discount`.
    public var promptCache = false
    /// The account's credits: `GET /api/v1/key` reports them as the key's limit (less what was
    /// billed) and `GET /api/v1/credits` as its total. nil: no limit, and /credits answers 403
    /// (as OpenRouter does for a key that may not read them).
    public var credits: Double?
    /// The Batch APIs (`BatchStore`): how long a batch takes, and the rates of its fates and faults.
    public var batchTurnaround: Duration = .seconds(2)
    /// A batch fails validation (status `failed`, nothing run).
    public var batchFailRate = 0.0
    /// A batch expires with half its requests answered.
    public var batchExpireRate = 0.0
    /// A batch never finishes (until cancelled).
    public var batchStuckRate = 0.0
    /// A request in a batch ends with an error line instead of an answer.
    public var batchRequestErrorRate = 0.0
    /// Creating a batch is answered 429 with Retry-After.
    public var batchCreate429Rate = 0.0
    /// Polling a batch (GET) is answered 500.
    public var batchPoll5xxRate = 0.0
    /// The answer to a batch create is sent this long after the batch was made: a client killed
    /// meanwhile has a batch it does not know the id of (its resume must not make a second one).
    public var batchCreateDelay: Duration = .zero
    /// false: `Idempotency-Key` is ignored on batch creates, as OpenAI's API does; a client must
    /// find a batch it lost by listing (its metadata).
    public var batchIdempotency = true
    /// false: answers carry no `usage.cost` (clients price tokens from the model list).
    public var reportCost = true
    /// Prompts whose topic (the seed's `**Topic to explore:**` line) contains this text are
    /// refused 403 "flagged by moderation", as a provider's moderation refuses a subject: those
    /// rows fail, and the dataset comes out biased against that topic.
    public var refusedTopic: String?
    /// Conversations that follow their prompt (`VariedConversations`) instead of the canned few.
    public var variedContent = false
    /// Flaws put in the data of valid answers (with `variedContent`), each a probability; their
    /// sum must not exceed 1.
    public var dataFaultRates: [DataFault: Double] = [:]

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        threads: Int = 1,
        latency: Latency = .fixed(.zero),
        rate429: Double = 0, rate500: Double = 0, rate502: Double = 0, rate503: Double = 0,
        rateTimeout: Double = 0, rateReset: Double = 0, rateMalformed: Double = 0,
        rateBadConversation: Double = 0, rateTruncated: Double = 0, rateErrorIn200: Double = 0,
        retryAfterSeconds: Int = 1,
        requestsPerMinute: Int? = nil,
        requiredAPIKey: String? = nil,
        seed: UInt64 = 0,
        logPath: String? = nil
    ) {
        self.host = host
        self.port = port
        self.threads = threads
        self.latency = latency
        self.rate429 = rate429
        self.rate500 = rate500
        self.rate502 = rate502
        self.rate503 = rate503
        self.rateTimeout = rateTimeout
        self.rateReset = rateReset
        self.rateMalformed = rateMalformed
        self.rateBadConversation = rateBadConversation
        self.rateTruncated = rateTruncated
        self.rateErrorIn200 = rateErrorIn200
        self.retryAfterSeconds = retryAfterSeconds
        self.requestsPerMinute = requestsPerMinute
        self.requiredAPIKey = requiredAPIKey
        self.seed = seed
        self.logPath = logPath
    }

    /// A config answering every request with `fault` (or success for `.ok`).
    public static func always(_ fault: SimulatorFault, port: Int = 0) -> SimulatorConfig {
        var config = SimulatorConfig(port: port)
        config.setRate(for: fault, 1)
        return config
    }

    /// The rate of each injected fault, in the order faults are drawn.
    public var faultRates: [(SimulatorFault, Double)] {
        [
            (.status429, rate429), (.status500, rate500), (.status502, rate502), (.status503, rate503),
            (.timeout, rateTimeout), (.reset, rateReset), (.malformed, rateMalformed),
            (.badConversation, rateBadConversation), (.truncated, rateTruncated), (.errorIn200, rateErrorIn200),
        ]
    }

    public mutating func setRate(for fault: SimulatorFault, _ rate: Double) {
        switch fault {
        case .ok: break
        case .status429: rate429 = rate
        case .status500: rate500 = rate
        case .status502: rate502 = rate
        case .status503: rate503 = rate
        case .timeout: rateTimeout = rate
        case .reset: rateReset = rate
        case .malformed: rateMalformed = rate
        case .badConversation: rateBadConversation = rate
        case .truncated: rateTruncated = rate
        case .errorIn200: rateErrorIn200 = rate
        }
    }

    /// Checks the values; the error says which one is wrong and what is allowed.
    public func validate() throws(SimulatorError) {
        for (fault, rate) in faultRates where !(rate >= 0 && rate <= 1) {
            throw SimulatorError("the \(fault.rawValue) fault rate is \(rate); use a probability between 0 and 1")
        }
        let total = faultRates.reduce(0) { $0 + $1.1 }
        if total > 1.000_000_1 {
            throw SimulatorError("the fault rates add up to \(total); their sum must be at most 1")
        }
        if !(0...65535).contains(port) { throw SimulatorError("port \(port) is out of range; use 0...65535 (0 picks a free port)") }
        if threads < 1 { throw SimulatorError("threads must be at least 1") }
        if retryAfterSeconds < 0 { throw SimulatorError("retry-after seconds must not be negative") }
        if let rpm = requestsPerMinute, rpm < 1 { throw SimulatorError("the requests-per-minute limit must be at least 1") }
        if let capacity, capacity.isEmpty || capacity.contains(where: { $0.capacity < 1 }) {
            throw SimulatorError("the capacity must be at least 1 request at a time")
        }
        if serviceTime < .zero { throw SimulatorError("the service time must not be negative") }
        let batchRates = [("--batch-fail", batchFailRate), ("--batch-expire", batchExpireRate), ("--batch-stuck", batchStuckRate),
                          ("--batch-request-errors", batchRequestErrorRate), ("--batch-create-429", batchCreate429Rate),
                          ("--batch-poll-500", batchPoll5xxRate)]
        for (name, rate) in batchRates where !(rate >= 0 && rate <= 1) {
            throw SimulatorError("\(name) is \(rate); use a probability between 0 and 1")
        }
        if batchFailRate + batchExpireRate + batchStuckRate > 1.000_000_1 {
            throw SimulatorError("--batch-fail, --batch-expire and --batch-stuck add up to more than 1")
        }
        for (fault, rate) in dataFaultRates where !(rate >= 0 && rate <= 1) {
            throw SimulatorError("the \(fault.rawValue) data fault rate is \(rate); use a probability between 0 and 1")
        }
        if dataFaultRates.values.reduce(0, +) > 1.000_000_1 { throw SimulatorError("the --data-* rates add up to more than 1") }
        if batchTurnaround < .zero { throw SimulatorError("the batch turnaround must not be negative") }
        if let queueLimit, queueLimit < 0 { throw SimulatorError("the queue limit must not be negative") }
        switch latency {
        case .fixed(let value) where value < .zero:
            throw SimulatorError("latency must not be negative")
        case .lognormal(let median, let sigma) where median < .zero || sigma < 0 || !sigma.isFinite:
            throw SimulatorError("lognormal latency needs a median >= 0 and a sigma >= 0")
        default: break
        }
    }
}

/// What the simulator does with one chat request.
public enum SimulatorFault: String, Sendable, CaseIterable, Codable {
    case ok
    case status429 = "429"
    case status500 = "500"
    case status502 = "502"
    case status503 = "503"
    case timeout
    case reset
    case malformed
    case badConversation = "bad_conversation"
    case truncated
    case errorIn200 = "error_in_200"
}

/// A simulator that cannot start or was configured wrongly.
public struct SimulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
