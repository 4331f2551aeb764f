/// Stops a run that can only waste requests: when the last `threshold` attempts all failed the
/// same way (say every request answers 500, or every answer is malformed), nothing is going to
/// succeed until someone looks. Rate-limit answers do not count: they are waited out instead.
///
/// A run that has not had a single success yet trips sooner, after `startupThreshold` failed
/// attempts of any kind (`startupTripped`): a wrong port or a dead endpoint stops a small run in
/// seconds instead of spending every row's attempts on it (a 2-row run never reaches a streak of
/// 50). The caller asks once every answer that arrived together has been recorded, so failures
/// judged before their batch's successes do not count as "nothing succeeded".
public struct CircuitBreaker: Sendable, Equatable {
    public let threshold: Int
    public let startupThreshold: Int
    public private(set) var streakKind: String?
    public private(set) var streak = 0
    /// Failed attempts before the first success (0 once anything succeeded).
    public private(set) var failuresBeforeSuccess = 0
    public private(set) var hasSucceeded = false

    /// `startupThreshold` defaults to `min(threshold, 10)`.
    public init(threshold: Int, startupThreshold: Int? = nil) {
        self.threshold = max(1, threshold)
        self.startupThreshold = max(1, min(self.threshold, startupThreshold ?? 10))
    }

    /// Records an attempt's outcome (nil for success). Returns true when the streak trips the breaker.
    public mutating func record(failureKind: String?) -> Bool {
        guard let kind = failureKind else {
            streak = 0
            streakKind = nil
            hasSucceeded = true
            failuresBeforeSuccess = 0
            return false
        }
        if kind == streakKind {
            streak += 1
        } else {
            streakKind = kind
            streak = 1
        }
        if !hasSucceeded { failuresBeforeSuccess += 1 }
        return streak >= threshold
    }

    /// True when nothing has succeeded yet and `startupThreshold` attempts have failed.
    public var startupTripped: Bool { !hasSucceeded && failuresBeforeSuccess >= startupThreshold }

    /// How many failures the trip is about: the streak, or every attempt so far before a success.
    public var failures: Int { hasSucceeded ? streak : max(streak, failuresBeforeSuccess) }
}
