/// How many requests may be in flight, slowed down for everyone when the provider pushes back.
///
/// A rate-limit answer (429, or a wait the provider asked for) halves the window and pauses
/// every worker until the wait it named has passed; successes grow the window back by one per
/// window's worth of successes (additive increase, multiplicative decrease), up to the
/// configured concurrency. Pure: times are passed in.
public struct CongestionWindow: Sendable, Equatable {
    public let maximum: Int
    public private(set) var window: Int
    /// No request may start before this time (a global cool-down).
    public private(set) var pausedUntilMs: Int64 = 0
    private var successesSinceGrowth = 0
    private var lastDecreaseMs: Int64 = .min

    public init(maximum: Int) {
        self.maximum = max(1, maximum)
        self.window = self.maximum
    }

    public func isPaused(nowMs: Int64) -> Bool { nowMs < pausedUntilMs }

    /// A rate-limit answer at `nowMs`, asking to wait `waitMs`. Several answers from one burst
    /// (requests that were already in flight) halve the window once, not once each.
    public mutating func rateLimited(nowMs: Int64, waitMs: Int64) {
        pausedUntilMs = max(pausedUntilMs, nowMs + max(0, waitMs))
        if nowMs >= lastDecreaseMs + max(waitMs, 1_000) {
            window = max(1, window / 2)
            lastDecreaseMs = nowMs
        }
        successesSinceGrowth = 0
    }

    public mutating func succeeded() {
        guard window < maximum else { return }
        successesSinceGrowth += 1
        if successesSinceGrowth >= window {
            window += 1
            successesSinceGrowth = 0
        }
    }
}
