import Ledger

/// A snapshot of a run for progress displays.
public struct RunProgress: Sendable {
    public var counts: StateCounts
    public var elapsedMs: Int64
    /// Rows finished (done or failed) per second over the last minute or so.
    public var rowsPerSecond: Double
    /// Seconds until every row is finished at the current rate, when it can be told.
    public var etaSeconds: Double?
    public var usage: UsageTotals
    /// The whole run's cost at this process's cost per done row so far (nil before a row is done).
    public var projectedCost: Double?
    /// The current concurrency window (lower than the setting after rate-limit answers; with
    /// `--concurrency auto`, what the server's latency allows).
    public var window: Int
    /// Why the window last moved: start, growth, latency, 429, timeout, overload.
    public var windowReason: String
    /// `--concurrency auto`.
    public var adaptive: Bool
    /// True while every worker waits out a rate limit.
    public var paused: Bool
    public var requestsSent: Int
}

/// Why a run stopped.
public enum StopReason: Sendable, Equatable {
    /// Every planned row is done or failed.
    case finished
    /// SIGINT or SIGTERM (the signal number); unfinished rows are back to pending.
    case interrupted(signal: Int32)
    /// The provider said every row would fail (bad key, no credits, unknown model...).
    case aborted(message: String)
    /// `--max-cost` reached: no new row was claimed after it.
    case budgetReached(cost: Double, budget: Double)
    /// Many attempts in a row failed the same way, or every attempt so far failed (`kind` is the last one's).
    case circuitOpen(kind: String, count: Int, lastError: String)
    /// `--pilot K`: K rows were sent and answered; the rest wait for a look at the projection.
    case pilotFinished(rows: Int)
}

/// How a run ended.
public struct RunSummary: Sendable {
    public var reason: StopReason
    public var counts: StateCounts
    public var requestsSent: Int
    public var elapsedMs: Int64
    public var usage: UsageTotals
    /// In-flight rows put back to pending at the stop.
    public var released: Int
}
