import Provider

/// The settings a command line gives for a run. `run` applies them to the defaults; `resume`,
/// `retry` and `cancel-batches` to the settings the ledger stored, where only what was given
/// changes (and is stored for later resumes). A nil field leaves the setting as it is.
///
/// Everything in ``RunSettings`` may be overridden but what fixes the run's rows: its shard and
/// its array (``ShardRules``), and the prices checked before it started.
public struct RunSettingsOverrides: Sendable, Equatable {
    /// `--concurrency N|auto[:MAX]`. A fixed N also turns an adaptive window off.
    public var concurrency: ConcurrencySetting?
    public var requestsPerMinute: Double?
    public var tokensPerMinute: Double?
    public var maxAttempts: Int?
    public var maxCost: Double?
    public var baseURL: String?
    public var apiKeyEnv: String?
    public var requestDeadlineMs: Int64?
    public var gracePeriodMs: Int64?
    public var backoffBaseMs: Int64?
    public var backoffCapMs: Int64?
    public var breakerThreshold: Int?
    public var seed: UInt64?
    public var caCert: String?
    /// `--http1.1` (true) or `--no-http1.1` (false).
    public var http11Only: Bool?
    public var mode: RunMode?
    public var batchAPI: BatchAPIKind?
    public var batchSize: Int?
    public var batchesOpen: Int?
    public var pollIntervalMs: Int64?
    public var finishOnlineAfterMs: Int64?

    public init() {}

    public func apply(to settings: inout RunSettings) {
        if let concurrency {
            settings.concurrency = concurrency.limit
            settings.adaptiveConcurrency = concurrency.adaptive ? true : nil
        }
        if let requestsPerMinute { settings.requestsPerMinute = requestsPerMinute }
        if let tokensPerMinute { settings.tokensPerMinute = tokensPerMinute }
        if let maxAttempts { settings.maxAttempts = maxAttempts }
        if let maxCost { settings.maxCost = maxCost }
        if let baseURL { settings.baseURL = baseURL }
        if let apiKeyEnv { settings.apiKeyEnv = apiKeyEnv }
        if let requestDeadlineMs { settings.requestDeadlineMs = requestDeadlineMs }
        if let gracePeriodMs { settings.gracePeriodMs = gracePeriodMs }
        if let backoffBaseMs { settings.backoffBaseMs = backoffBaseMs }
        if let backoffCapMs { settings.backoffCapMs = backoffCapMs }
        if let breakerThreshold { settings.breakerThreshold = breakerThreshold }
        if let seed { settings.seed = seed }
        if let caCert { settings.caCert = caCert }
        if let http11Only { settings.httpVersion = http11Only ? CurlTransportOptions.HTTPVersion.http1_1.rawValue : nil }
        if let mode { settings.mode = mode == .batch ? RunMode.batch.rawValue : nil }
        if let batchAPI { settings.batchAPI = batchAPI.rawValue }
        if let batchSize { settings.batchSize = batchSize }
        if let batchesOpen { settings.batchesOpen = batchesOpen }
        if let pollIntervalMs { settings.pollIntervalMs = pollIntervalMs }
        if let finishOnlineAfterMs { settings.finishOnlineAfterMs = finishOnlineAfterMs }
    }
}

/// `--mode online|batch`: one request per row, or the provider's Batch API.
public enum RunMode: String, Sendable { case online, batch }

/// `--concurrency N`, `auto` or `auto:MAX`.
public struct ConcurrencySetting: Sendable, Equatable {
    /// The fixed window, or the adaptive window's maximum.
    public var limit: Int
    public var adaptive: Bool

    public init(limit: Int, adaptive: Bool) {
        self.limit = limit
        self.adaptive = adaptive
    }

    /// `N`, `auto` (up to ``RunDefaults/adaptiveConcurrencyMaximum``) or `auto:MAX`, in any case;
    /// nil for anything else.
    public init?(parsing text: String) {
        let text = text.lowercased()
        if let n = Int(text) {
            self.init(limit: n, adaptive: false)
        } else if text == "auto" {
            self.init(limit: RunDefaults.adaptiveConcurrencyMaximum, adaptive: true)
        } else if text.hasPrefix("auto:"), let max = Int(text.dropFirst(5)) {
            self.init(limit: max, adaptive: true)
        } else {
            return nil
        }
    }
}
