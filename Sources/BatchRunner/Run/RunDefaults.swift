import Provider

/// Each run setting's default, in one place: ``RunSettings`` starts from these, and the CLI's
/// flags and their `--help` texts read them, so the two cannot disagree. The provider-side ones
/// (endpoint, key variable, timeouts) are the Provider's own defaults, named here.
public enum RunDefaults {
    /// Requests in flight at once (`--concurrency`).
    public static let concurrency = 16
    /// The most `--concurrency auto` lets the adaptive window reach.
    public static let adaptiveConcurrencyMaximum = 1_024
    /// Attempts per row before it is failed (`--max-attempts`).
    public static let maxAttempts = 8
    /// The API root (`--base-url`).
    public static let baseURL = ProviderConfig.defaultBaseURL
    /// The variable (or `.env` entry) holding the API key (`--api-key-env`).
    public static let apiKeyEnv = APIKeyResolver.defaultEnvName
    /// The first backoff ceiling after a server-side failure (`--backoff-base`). 0.5 s, as
    /// openai-python and the Anthropic SDK start: rows failing near the end of a run then do not
    /// hold it open for seconds. Long outages are the circuit breaker's and the rate-limit
    /// storm's business, not this.
    public static let backoffBaseMs: Int64 = 500
    /// The largest backoff (`--backoff-cap`).
    public static let backoffCapMs: Int64 = 180_000
    /// The longest wait a provider may ask for (Retry-After) before it is capped.
    public static let maxRetryAfterMs = ProviderConfig.defaultMaxRetryAfter.wholeMilliseconds
    /// How long connecting may take.
    public static let connectTimeoutMs = ProviderConfig.defaultConnectTimeout.wholeMilliseconds
    /// The total deadline per request (`--request-timeout`).
    public static let requestDeadlineMs = ProviderConfig.defaultRequestDeadline.wholeMilliseconds
    /// How long requests in flight may finish after SIGINT/SIGTERM (`--grace-period`).
    public static let gracePeriodMs: Int64 = 20_000
    /// Identical failures in a row that stop the run (`--breaker`).
    public static let breakerThreshold = 50
    /// `--mode batch`: batches open at once (`--batches-open`).
    public static let batchesOpen = 4
    /// `--mode batch`: time between polls of an open batch (`--poll-interval`).
    public static let pollIntervalMs: Int64 = 30_000
}
