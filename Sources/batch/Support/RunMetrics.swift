import BatchRunner
import Ledger
import NIOConcurrencyHelpers
import Prometheus

/// The run's Prometheus metrics (`--metrics-listen`): fed by the run loop as its `RunObserver`,
/// read by `MetricsServer` at each scrape.
///
/// Counters count this process's attempts from 0 (as Prometheus expects of a counter: a resume is
/// a restart); `batch_rows` is the whole ledger's. Every metric is made up front, so an attempt
/// costs a few relaxed atomic adds and one short lock (the latency histogram), with no lookup or
/// allocation; an error kind's counter is looked up in a small table, made on its first error.
/// Labels hold only fixed words and the ledger's error kinds, never a message, a URL or the key.
final class RunMetrics: RunObserver {
    let registry: PrometheusCollectorRegistry

    /// Indexed like `StateCounts`: pending, in flight, done, failed.
    private let rows: [Gauge]
    /// Indexed by `EndedAttempt.Outcome.rawValue`.
    private let requests: [Counter]
    private let errors: NIOLockedValueBox<[String: Counter]>
    private let duration: ValueHistogram
    private let promptTokens: Counter
    private let completionTokens: Counter
    private let cachedPromptTokens: Counter
    private let cost: Counter
    private let window: Gauge
    private let paused: Gauge
    private let pauses: Counter
    private let rowsPerSecond: Gauge
    private let batchesOpen: Gauge

    /// Attempt latency, in seconds: LLM calls take from a tenth of a second (a cached or short
    /// answer) to minutes (long completions, queueing servers).
    static let durationBuckets: [Double] = [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 90, 120]

    init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func name(_ metric: String, unit: String = "", _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "batch", metricName: metric, unitName: unit, helpText: help)
        }
        let rowsName = name("rows", "Rows of the ledger by state (the whole run, not only this process).")
        rows = ["pending", "in_flight", "done", "failed"].map { registry.makeGauge(descriptor: rowsName, labels: [("state", $0)]) }
        let requestsName = name(
            "requests", unit: "total",
            "Attempts this process ended, by outcome: done, retry (back to pending), failed (for good), abandoned (cut off by a stop or a refused run; not counted as an attempt).")
        requests = EndedAttempt.Outcome.allCases.map { registry.makeCounter(descriptor: requestsName, labels: [("outcome", $0.label)]) }
        errors = NIOLockedValueBox([:])
        duration = registry.makeValueHistogram(
            descriptor: name("request_duration", unit: "seconds", "Time from sending a request to its answer (online attempts)."),
            buckets: Self.durationBuckets)
        promptTokens = registry.makeCounter(descriptor: name("prompt_tokens", unit: "total", "Prompt tokens of the answers this process received."))
        completionTokens = registry.makeCounter(descriptor: name("completion_tokens", unit: "total", "Completion tokens of the answers this process received."))
        cachedPromptTokens = registry.makeCounter(
            descriptor: name("cached_prompt_tokens", unit: "total", "Prompt tokens the provider served from its prompt cache."))
        cost = registry.makeCounter(
            descriptor: name("cost", unit: "total", "What the answers this process received cost, in the provider's credits (USD on OpenRouter)."))
        window = registry.makeGauge(descriptor: name("window", "Online runs: requests allowed in flight at once now (the concurrency window)."))
        paused = registry.makeGauge(descriptor: name("rate_limit_paused", "1 while every request waits out a storm of rate limits, else 0."))
        pauses = registry.makeCounter(descriptor: name("rate_limit_pauses", unit: "total", "Times a storm of rate limits paused every request."))
        rowsPerSecond = registry.makeGauge(descriptor: name("rows_per_second", "Online runs: rows finished (done or failed) per second over the last minute."))
        batchesOpen = registry.makeGauge(descriptor: name("batches_open", "--mode batch: provider batches open (submitted, not yet collected)."))
    }

    /// The text Prometheus scrapes.
    func exposition() -> [UInt8] { registry.emitToBuffer() }

    // MARK: RunObserver

    func attemptEnded(_ attempt: EndedAttempt) {
        requests[attempt.outcome.rawValue].increment()
        if let kind = attempt.errorKind { errorCounter(kind).increment() }
        if let latencyMs = attempt.latencyMs { duration.record(Double(max(0, latencyMs)) / 1_000) }
        if attempt.promptTokens > 0 { promptTokens.increment(by: Int64(attempt.promptTokens)) }
        if attempt.completionTokens > 0 { completionTokens.increment(by: Int64(attempt.completionTokens)) }
        if attempt.cachedTokens > 0 { cachedPromptTokens.increment(by: Int64(attempt.cachedTokens)) }
        // A counter never goes down (and traps on a negative add): a refund or nonsense is left out.
        if attempt.cost > 0, attempt.cost.isFinite { cost.increment(by: attempt.cost) }
        if attempt.pausedRun {
            pauses.increment()
            paused.set(to: 1)
        }
    }

    func progressed(_ progress: RunProgress) {
        setRows(progress.counts)
        window.set(to: Double(progress.window))
        paused.set(to: progress.paused ? 1 : 0)
        rowsPerSecond.set(to: progress.rowsPerSecond.isFinite ? progress.rowsPerSecond : 0)
    }

    func batchesProgressed(counts: StateCounts, batchesOpen open: Int) {
        setRows(counts)
        batchesOpen.set(to: Double(open))
    }

    private func setRows(_ counts: StateCounts) {
        rows[0].set(to: Double(counts.pending))
        rows[1].set(to: Double(counts.inFlight))
        rows[2].set(to: Double(counts.done))
        rows[3].set(to: Double(counts.failed))
    }

    /// The counter of one error kind, made on its first error.
    private func errorCounter(_ kind: String) -> Counter {
        errors.withLockedValue { table in
            if let counter = table[kind] { return counter }
            let counter = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "batch", metricName: "errors", unitName: "total",
                    helpText: "Attempts that ended in an error, by the ledger's error kind (as `batch status` lists them)."),
                labels: [("kind", kind)])
            table[kind] = counter
            return counter
        }
    }
}
