import ArgumentParser
import Foundation
import BatchRunner
import Ledger
import Provider

/// Limits and endpoint flags shared by run, resume, retry and cancel-batches. On resume and
/// retry, only the flags given override what the ledger stored. `--metrics-listen` is this
/// process's alone and never stored.
struct SettingsOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Requests in flight at once (default \(RunDefaults.concurrency)); or auto[:MAX] to find a self-hosted server's capacity from its latency (vLLM, SGLang: they queue instead of answering 429), up to MAX (default \(RunDefaults.adaptiveConcurrencyMaximum)).",
        valueName: "N|auto[:MAX]")) var concurrency: ConcurrencySetting?
    @Option(help: "Requests per minute (default: no limit). For a Slurm array (--shard K/N, {shard} in --ledger): the whole array's.") var rpm: Double?
    @Option(help: "Tokens per minute, prompt plus completion (default: no limit). For a Slurm array: the whole array's.") var tpm: Double?
    @Option(help: "Attempts per row before it is marked failed (default \(RunDefaults.maxAttempts)).") var maxAttempts: Int?
    @Option(help: "Stop claiming new rows once the recorded cost reaches this many credits (USD on OpenRouter). For a Slurm array: the whole array's.") var maxCost: Double?
    @Option(help: "API root; requests go to <base-url>/chat/completions (default \(RunDefaults.baseURL)).") var baseURL: String?
    @Option(help: "Environment variable (or .env entry) holding the API key (default \(RunDefaults.apiKeyEnv)).") var apiKeyEnv: String?
    @Option(help: "Total deadline per request, in seconds (default \(helpSeconds(RunDefaults.requestDeadlineMs))).") var requestTimeout: Double?
    @Option(help: "Seconds in-flight requests may finish after SIGINT/SIGTERM (default \(helpSeconds(RunDefaults.gracePeriodMs))).") var gracePeriod: Double?
    @Option(help: "First backoff ceiling in seconds after a server error; doubles per attempt up to --backoff-cap (default \(helpSeconds(RunDefaults.backoffBaseMs))).") var backoffBase: Double?
    @Option(help: "Largest backoff in seconds (default \(helpSeconds(RunDefaults.backoffCapMs))).") var backoffCap: Double?
    @Option(help: "Identical failures in a row that stop the run (default \(RunDefaults.breakerThreshold)).") var breaker: Int?
    @Option(help: "Seed for retry jitter (default: random).") var seed: UInt64?
    @Option(help: ArgumentHelp(
        "A PEM file of certificate authorities to trust instead of the system's, for a corporate or private CA (default: SSL_CERT_FILE or CURL_CA_BUNDLE when set, else the system's).",
        valueName: "file")) var caCert: String?
    @Flag(name: .customLong("http1.1"), help: "Speak HTTP/1.1 only, never HTTP/2 (for proxies or gateways that break HTTP/2). Stored for resume; --no-http1.1 undoes it.")
    var http11: Bool = false
    @Flag(name: .customLong("no-http1.1"), help: .hidden) var noHttp11: Bool = false
    @Option(help: ArgumentHelp(
        "online (default): one request per row, answers in seconds. batch: the provider's Batch API, about half the price, answers within 24 h; rows are submitted in batches, polled and collected into the same ledger, exactly once across crashes (`batch resume` collects batches left open). Stored for resume.",
        valueName: "online|batch")) var mode: RunMode?
    @Option(name: .customLong("batch-api"), help: ArgumentHelp("With --mode batch: which Batch API the provider speaks (default: openrouter for openrouter.ai, else openai).", valueName: "openrouter|openai"))
    var batchAPI: BatchAPIKind?
    @Option(name: .customLong("batch-size"), help: "With --mode batch: rows per batch (default and most: 5,000 on OpenRouter, 50,000 on OpenAI, and 190 MB of requests either way: about 16,000 of the built-in recipe's rows).")
    var batchSize: Int?
    @Option(name: .customLong("batches-open"), help: "With --mode batch: batches open at once (default \(RunDefaults.batchesOpen)).")
    var batchesOpen: Int?
    @Option(name: .customLong("poll-interval"), help: "With --mode batch: seconds between polls of an open batch (default \(helpSeconds(RunDefaults.pollIntervalMs))).")
    var pollInterval: Double?
    @Option(name: .customLong("finish-online-after"), help: ArgumentHelp(
        "With --mode batch: this many seconds after the run was created, cancel the batches still open (keeping what they finished) and finish the rest online, to meet a deadline at a mixed price.",
        valueName: "seconds")) var finishOnlineAfter: Double?
    @Flag(help: "Start even when the provider says the key or account has too little left for the run (checked before anything is planned or sent, and again after a --pilot). Not stored.")
    var ignoreCredits = false
    @Option(name: .customLong("metrics-listen"), help: ArgumentHelp(
        "Serve live Prometheus metrics at http://ADDR:PORT/metrics for as long as this process runs: rows by state, requests by outcome, errors by kind, request latency, tokens, cost, the concurrency window and rate-limit pauses (names start with batch_). E.g. 127.0.0.1:9464 (this machine only), 0.0.0.0:9464 (every interface), [::1]:9464; port 0 picks a free one, printed at start. Not stored.",
        valueName: "ADDR:PORT")) var metricsListen: String?

    func validate() throws {
        if let concurrency, concurrency.limit < 1 || concurrency.limit > 4_096 {
            throw ValidationError("--concurrency must be between 1 and 4096 (or auto, auto:MAX with MAX in that range)")
        }
        if let rpm, rpm <= 0 { throw ValidationError("--rpm must be positive") }
        if let tpm, tpm <= 0 { throw ValidationError("--tpm must be positive") }
        if let maxAttempts, maxAttempts < 1 { throw ValidationError("--max-attempts must be at least 1") }
        if let maxCost, maxCost < 0 { throw ValidationError("--max-cost must not be negative") }
        if let baseURL, !(baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://")) {
            throw ValidationError("--base-url must start with http:// or https://, like \(RunDefaults.baseURL)")
        }
        if let baseURL, let components = URLComponents(string: baseURL), components.user != nil || components.password != nil {
            throw ValidationError("--base-url must not hold credentials (user:password@): they would be stored in the ledger. Put the key in the variable named by --api-key-env instead")
        }
        if let requestTimeout, requestTimeout <= 0 { throw ValidationError("--request-timeout must be positive") }
        if let breaker, breaker < 1 { throw ValidationError("--breaker must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let batchesOpen, batchesOpen < 1 { throw ValidationError("--batches-open must be at least 1") }
        if let finishOnlineAfter, finishOnlineAfter < 0 { throw ValidationError("--finish-online-after must not be negative") }
        if let pollInterval, pollInterval < 0.05 { throw ValidationError("--poll-interval must be at least 0.05 seconds") }
        if http11 && noHttp11 { throw ValidationError("--http1.1 and --no-http1.1 contradict each other; give one") }
        if let metricsListen, MetricsAddress(metricsListen) == nil {
            throw ValidationError("--metrics-listen takes ADDR:PORT, like 127.0.0.1:9464, 0.0.0.0:9464 or [::1]:9464 (port 0 picks a free one); \(metricsListen) is not one")
        }
    }

    /// The settings these flags give (only those given), applied to the defaults by `run` and
    /// to the stored settings by the others.
    var overrides: RunSettingsOverrides {
        var o = RunSettingsOverrides()
        o.concurrency = concurrency
        o.requestsPerMinute = rpm
        o.tokensPerMinute = tpm
        o.maxAttempts = maxAttempts
        o.maxCost = maxCost
        o.baseURL = baseURL
        o.apiKeyEnv = apiKeyEnv
        o.requestDeadlineMs = requestTimeout.map(milliseconds)
        o.gracePeriodMs = gracePeriod.map(milliseconds)
        o.backoffBaseMs = backoffBase.map(milliseconds)
        o.backoffCapMs = backoffCap.map(milliseconds)
        o.breakerThreshold = breaker
        o.seed = seed
        o.caCert = caCert
        o.http11Only = http11 ? true : noHttp11 ? false : nil
        o.mode = mode
        o.batchAPI = batchAPI
        o.batchSize = batchSize
        o.batchesOpen = batchesOpen
        o.pollIntervalMs = pollInterval.map(milliseconds)
        o.finishOnlineAfterMs = finishOnlineAfter.map(milliseconds)
        return o
    }
}

extension RunMode: ExpressibleByArgument {}

extension BatchAPIKind: ExpressibleByArgument {}

/// `--durability normal|full`.
extension Durability: ExpressibleByArgument {}

extension ConcurrencySetting: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

/// Milliseconds as the seconds a flag takes, for a default in `--help`: 500 -> "0.5", 20000 -> "20".
private func helpSeconds(_ ms: Int64) -> String {
    ms % 1_000 == 0 ? String(ms / 1_000) : String(Double(ms) / 1_000)
}

/// A flag's seconds in whole milliseconds, rounded up as a wait or a timeout is (0.0005 s is
/// 1 ms, not 0).
private func milliseconds(_ seconds: Double) -> Int64 {
    Duration.seconds(roundingToMicroseconds: seconds).wholeMilliseconds
}
