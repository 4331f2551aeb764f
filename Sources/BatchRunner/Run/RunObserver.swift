import Ledger

/// Watches a run as it goes, for live metrics (`--metrics-listen`). The run calls it from its
/// loop, once per ended attempt and once per progress snapshot, so every method must return at
/// once: no I/O, no lock held for long, no allocation per call. Every method does nothing unless
/// implemented.
public protocol RunObserver: Sendable {
    /// One request ended and was judged (online), or one answer of a provider batch was collected
    /// (`--mode batch`).
    func attemptEnded(_ attempt: EndedAttempt)
    /// An online run's snapshot: at most ``BatchRun/observerIntervalMs`` apart while it runs, and
    /// once more at its end.
    func progressed(_ progress: RunProgress)
    /// `--mode batch`: the ledger's rows after each pass of the loop, and the batches open.
    func batchesProgressed(counts: StateCounts, batchesOpen: Int)
}

extension RunObserver {
    public func attemptEnded(_ attempt: EndedAttempt) {}
    public func progressed(_ progress: RunProgress) {}
    public func batchesProgressed(counts: StateCounts, batchesOpen: Int) {}
}

/// What one attempt came to, as the ledger records it.
public struct EndedAttempt: Sendable {
    /// The attempt's outcome in the ledger's words.
    public enum Outcome: Int, Sendable, CaseIterable {
        /// The row is done.
        case done
        /// The row goes back to pending, to be tried again.
        case retry
        /// The row failed for good (a permanent error, or its attempts ran out).
        case failed
        /// The request was cut off by a hard stop, or the provider refused the whole run: the row
        /// is pending again and the attempt does not count (the ledger's `abandoned`).
        case abandoned

        public var label: String {
            switch self {
            case .done: "done"
            case .retry: "retry"
            case .failed: "failed"
            case .abandoned: "abandoned"
            }
        }
    }

    public var outcome: Outcome
    /// The ledger's error kind (`rate_limited`, `timeout`, `abandoned`...); nil when done.
    public var errorKind: String?
    /// From sending the request to its answer; nil in `--mode batch` (a batch's turnaround is no
    /// request's latency).
    public var latencyMs: Int64?
    public var promptTokens: Int
    public var completionTokens: Int
    public var cachedTokens: Int
    public var cost: Double
    /// This answer (a rate limit in a storm) paused every worker (``CongestionWindow``).
    public var pausedRun: Bool

    public init(
        outcome: Outcome, errorKind: String?, latencyMs: Int64?, promptTokens: Int = 0, completionTokens: Int = 0,
        cachedTokens: Int = 0, cost: Double = 0, pausedRun: Bool = false
    ) {
        self.outcome = outcome
        self.errorKind = errorKind
        self.latencyMs = latencyMs
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
        self.cost = cost
        self.pausedRun = pausedRun
    }

    /// An attempt the ledger records with its usage (done, retry, failed).
    init(_ outcome: Outcome, _ attempt: AttemptRecord, latencyMs: Int64?, pausedRun: Bool = false) {
        self.init(
            outcome: outcome, errorKind: attempt.errorKind, latencyMs: latencyMs, promptTokens: attempt.promptTokens ?? 0,
            completionTokens: attempt.completionTokens ?? 0, cachedTokens: attempt.cachedTokens ?? 0, cost: attempt.cost ?? 0,
            pausedRun: pausedRun)
    }

    /// A request abandoned at a hard stop or by the provider's refusal: no usage, as in the ledger.
    static func abandoned(latencyMs: Int64?) -> EndedAttempt {
        EndedAttempt(outcome: .abandoned, errorKind: "abandoned", latencyMs: latencyMs)
    }
}
