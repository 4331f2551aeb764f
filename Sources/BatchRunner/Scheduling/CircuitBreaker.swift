/// Stops a run that can only waste requests: when the last `threshold` attempts all failed the
/// same way (say every request answers 500, or every answer is malformed), nothing is going to
/// succeed until someone looks. Rate-limit answers do not count: they are waited out instead.
public struct CircuitBreaker: Sendable, Equatable {
    public let threshold: Int
    public private(set) var streakKind: String?
    public private(set) var streak = 0

    public init(threshold: Int) {
        self.threshold = max(1, threshold)
    }

    /// Records an attempt's outcome (nil for success). Returns true when the breaker trips.
    public mutating func record(failureKind: String?) -> Bool {
        guard let kind = failureKind else {
            streak = 0
            streakKind = nil
            return false
        }
        if kind == streakKind {
            streak += 1
        } else {
            streakKind = kind
            streak = 1
        }
        return streak >= threshold
    }
}
