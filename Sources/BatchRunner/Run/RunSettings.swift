import Foundation
import Provider

/// Everything a run needs besides its recipe, stored in the ledger as JSON so that `batch resume`
/// continues with the same settings. Never holds a secret: only the *name* of the variable that
/// holds the API key.
public struct RunSettings: Codable, Sendable, Equatable {
    /// Requests in flight at once (the ceiling; rate-limit answers lower it for a while). With
    /// `adaptiveConcurrency`, the most the adaptive window may reach.
    public var concurrency: Int = RunDefaults.concurrency
    /// `--concurrency auto`: the window follows the server's latency (``AdaptiveWindow``), for
    /// self-hosted servers that queue instead of answering 429. nil (older ledgers) means false.
    public var adaptiveConcurrency: Bool?
    /// Requests per minute, or nil for no limit.
    public var requestsPerMinute: Double?
    /// Tokens (prompt plus completion) per minute, or nil for no limit.
    public var tokensPerMinute: Double?
    /// Attempts per row before it is failed with its last error.
    public var maxAttempts: Int = RunDefaults.maxAttempts
    /// No new row is claimed once the recorded cost reaches this, or nil for no budget.
    public var maxCost: Double?
    /// `--mode batch`: rows go through the provider's Batch API (``BatchModeRun``); nil: online.
    public var mode: String?
    /// `--batch-api openrouter|openai`; nil: from the base URL.
    public var batchAPI: String?
    /// `--batch-size`: rows per batch (nil: the provider's cap).
    public var batchSize: Int?
    /// `--batches-open`: batches open at once (nil: `RunDefaults.batchesOpen`).
    public var batchesOpen: Int?
    /// `--poll-interval`: milliseconds between polls of an open batch (nil: `RunDefaults.pollIntervalMs`).
    public var pollIntervalMs: Int64?
    /// `--finish-online-after`: milliseconds after the run was created when the rows still in
    /// batches are moved to the online path (their batches cancelled, what they finished kept).
    public var finishOnlineAfterMs: Int64?
    /// A shard of a Slurm array (`--shard K/N` with `{shard}` in the ledger path): the rate
    /// limits and `maxCost` above are the whole array's, shared as ``ArrayShares`` says. nil:
    /// they are this ledger's own.
    public var array: ArrayRun?
    /// The model's prices from the provider's model list, checked before the run: an answer
    /// without `usage.cost` is priced from its tokens with them. nil: not listed.
    public var prices: ModelPrices?
    public var baseURL: String = RunDefaults.baseURL
    public var apiKeyEnv: String = RunDefaults.apiKeyEnv
    /// The first backoff ceiling after a server-side failure (5xx, reset, timeout); it doubles
    /// per attempt up to `backoffCapMs`.
    public var backoffBaseMs: Int64 = RunDefaults.backoffBaseMs
    public var backoffCapMs: Int64 = RunDefaults.backoffCapMs
    /// The longest wait a provider may ask for (Retry-After) before it is capped.
    public var maxRetryAfterMs: Int64 = RunDefaults.maxRetryAfterMs
    public var connectTimeoutMs: Int64 = RunDefaults.connectTimeoutMs
    /// A total deadline per request: a server that trickles bytes cannot hold a worker forever.
    public var requestDeadlineMs: Int64 = RunDefaults.requestDeadlineMs
    /// How long in-flight requests may finish after SIGINT/SIGTERM before they are abandoned.
    public var gracePeriodMs: Int64 = RunDefaults.gracePeriodMs
    /// Identical failures in a row (rate limits excluded) that stop the run.
    public var breakerThreshold: Int = RunDefaults.breakerThreshold
    /// Seed for backoff jitter; nil draws one.
    public var seed: UInt64?
    /// A PEM file of certificate authorities to trust instead of the system's (`--ca-cert`);
    /// nil: `SSL_CERT_FILE` or `CURL_CA_BUNDLE` from the environment, else the system bundle.
    public var caCert: String?
    /// "http1.1" to never speak HTTP/2 (`--http1.1`); nil: HTTP/2 over TLS when offered.
    public var httpVersion: String?

    public init() {}
}

/// Where a Slurm array's shards keep their ledgers, so that each task can read its siblings'.
public struct ArrayRun: Codable, Sendable, Equatable {
    /// The ledger path with `{shard}` in it, absolute.
    public var ledgerPattern: String
    public var shard: Int
    public var shards: Int
    /// Rows over the whole array (`--num`).
    public var num: Int64

    public init(ledgerPattern: String, shard: Int, shards: Int, num: Int64) {
        self.ledgerPattern = ledgerPattern
        self.shard = shard
        self.shards = shards
        self.num = num
    }

    public func ledger(ofShard k: Int) -> String {
        ledgerPattern.replacingOccurrences(of: "{shard}", with: String(k))
    }
}
