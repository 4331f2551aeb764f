/// What to do with one response (or transport failure) from the provider: exactly one decision.
public enum ProviderOutcome: Sendable, Equatable {
    /// A usable completion. Its content is raw: the caller still validates the conversation.
    case success(ChatCompletion)
    /// Retry this row after the caller's own backoff (exponential, with jitter).
    case retry(ProviderFailure)
    /// Retry this row after the given wait (already capped). When `failure.isRateLimit`,
    /// every worker should wait, not only this row.
    case retryAfter(Duration, ProviderFailure)
    /// Give up on this row: retrying the same request will not help.
    case failRow(ProviderFailure)
    /// Stop the run: every row would fail the same way (bad key, no credits, unknown model...).
    case abortRun(ProviderFailure)

    /// The failure behind any outcome but success.
    public var failure: ProviderFailure? {
        switch self {
        case .success: nil
        case .retry(let failure), .retryAfter(_, let failure), .failRow(let failure), .abortRun(let failure): failure
        }
    }

    /// A short stable name of the decision: "success", "retry", "retry_after", "fail_row", "abort_run".
    public var decision: String {
        switch self {
        case .success: "success"
        case .retry: "retry"
        case .retryAfter: "retry_after"
        case .failRow: "fail_row"
        case .abortRun: "abort_run"
        }
    }
}

/// A successful chat completion, as the provider reported it.
public struct ChatCompletion: Sendable, Equatable {
    /// `choices[0].message.content`, untouched (not trimmed, fences not removed).
    public var content: String
    public var promptTokens: Int?
    public var completionTokens: Int?
    /// `usage.cost`, in the provider's credits.
    public var cost: Double?
    /// Prompt tokens served from the provider's prompt cache
    /// (`usage.prompt_tokens_details.cached_tokens`).
    public var cachedTokens: Int?
    /// What the cache saved on this request, in the provider's credits (OpenRouter's
    /// `cache_discount`; negative when writing the cache cost extra).
    public var cacheDiscount: Double?
    /// The model that actually answered (may differ from the one requested).
    public var model: String?
    /// The generation id (`id` in the body, or the `X-Generation-Id` header).
    public var generationID: String?
    public var finishReason: String?
    /// Time from sending the request to receiving the whole response.
    public var latency: Duration

    public init(
        content: String,
        promptTokens: Int? = nil,
        completionTokens: Int? = nil,
        cost: Double? = nil,
        cachedTokens: Int? = nil,
        cacheDiscount: Double? = nil,
        model: String? = nil,
        generationID: String? = nil,
        finishReason: String? = nil,
        latency: Duration = .zero
    ) {
        self.content = content
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cost = cost
        self.cachedTokens = cachedTokens
        self.cacheDiscount = cacheDiscount
        self.model = model
        self.generationID = generationID
        self.finishReason = finishReason
        self.latency = latency
    }
}

/// Why a request did not produce a usable completion. Never holds secrets or whole bodies.
public struct ProviderFailure: Sendable, Equatable, CustomStringConvertible {
    /// A stable snake_case name, e.g. "rate_limited", "server_error", "timeout",
    /// "connection_reset", "error_in_200", "empty_content", "truncated", "auth".
    /// The list is in `ResponseClassifier`'s documentation.
    public var kind: String
    /// The HTTP status, when there was a response.
    public var httpStatus: Int?
    /// One short line saying what happened and, for run-stopping failures, what to do.
    public var message: String
    /// True when the provider is limiting the rate: every worker should slow down.
    public var isRateLimit: Bool

    public init(kind: String, httpStatus: Int? = nil, message: String, isRateLimit: Bool = false) {
        self.kind = kind
        self.httpStatus = httpStatus
        self.message = message
        self.isRateLimit = isRateLimit
    }

    public var description: String {
        if let httpStatus { return "\(kind) (HTTP \(httpStatus)): \(message)" }
        return "\(kind): \(message)"
    }
}
