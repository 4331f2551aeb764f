/// How many requests may be in flight, slowed down for everyone when the provider pushes back.
///
/// A lone rate-limit answer only delays its own row (the caller's business). A storm — at least
/// half of the last `sampleSize` answers rate-limited — halves the window and pauses every
/// worker until the wait the provider named has passed. Successes grow the window back by one per
/// window's worth of successes (additive increase, multiplicative decrease), up to the configured
/// concurrency. Pure: times are passed in.
public struct CongestionWindow: Sendable, Equatable {
    public let maximum: Int
    public private(set) var window: Int
    /// No request may start before this time (a global cool-down).
    public private(set) var pausedUntilMs: Int64 = 0
    private var successesSinceGrowth = 0
    private var lastDecreaseMs: Int64 = .min
    /// The last answers, true where rate-limited (a ring).
    private var recent: [Bool]
    private var next = 0
    private var limitedInRecent = 0
    private var answers = 0

    public init(maximum: Int, sampleSize: Int = 16) {
        self.maximum = max(1, maximum)
        self.window = self.maximum
        self.recent = Array(repeating: false, count: max(2, sampleSize))
    }

    public func isPaused(nowMs: Int64) -> Bool { nowMs < pausedUntilMs }

    /// True when at least half of the recent answers were rate-limited.
    public var isStorm: Bool { answers >= recent.count / 2 && limitedInRecent * 2 >= min(answers, recent.count) }

    private mutating func record(_ limited: Bool) {
        if recent[next] { limitedInRecent -= 1 }
        recent[next] = limited
        if limited { limitedInRecent += 1 }
        next = (next + 1) % recent.count
        answers += 1
    }

    /// A rate-limit answer at `nowMs`, asking to wait `waitMs`. Returns true when it is part of a
    /// storm and every worker now waits. Answers from one burst (requests already in flight)
    /// halve the window once, not once each.
    @discardableResult
    public mutating func rateLimited(nowMs: Int64, waitMs: Int64) -> Bool {
        record(true)
        successesSinceGrowth = 0
        guard isStorm else { return false }
        pausedUntilMs = max(pausedUntilMs, nowMs + max(0, waitMs))
        if nowMs >= lastDecreaseMs + max(waitMs, 1_000) {
            window = max(1, window / 2)
            lastDecreaseMs = nowMs
        }
        return true
    }

    /// Any answer that was not a rate limit (success or another failure).
    public mutating func answered() {
        record(false)
    }

    public mutating func succeeded() {
        record(false)
        guard window < maximum else { return }
        successesSinceGrowth += 1
        if successesSinceGrowth >= window {
            window += 1
            successesSinceGrowth = 0
        }
    }
}
