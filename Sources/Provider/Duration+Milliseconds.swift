extension Duration {
    /// This duration in whole milliseconds, the one conversion from `Duration` to milliseconds.
    ///
    /// A timeout or a wait rounds `.up`, so that a positive one never becomes 0 ms (for libcurl
    /// and the run loop, 0 means no timeout, or no wait at all); a measurement (a latency)
    /// rounds `.towardZero`, as the ledger has always recorded it. Durations beyond what
    /// `Int64` milliseconds hold are clamped to its bounds.
    public func milliseconds(rounded rule: FloatingPointRoundingRule) -> Int64 {
        let (seconds, attoseconds) = components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (whole, sumOverflow) = scaled.addingReportingOverflow(attoseconds / perMillisecond)
        if sumOverflow { return seconds < 0 ? .min : .max }
        // `components` gives both parts the same sign, so the remainder has the sign of the whole.
        let remainder = attoseconds % perMillisecond
        let step: Int64
        switch rule {
        case .up: step = remainder > 0 ? 1 : 0
        case .down: step = remainder < 0 ? -1 : 0
        case .towardZero: step = 0
        case .awayFromZero: step = remainder == 0 ? 0 : (remainder > 0 ? 1 : -1)
        case .toNearestOrEven, .toNearestOrAwayFromZero:
            let half = perMillisecond / 2
            let magnitude = remainder.magnitude
            if magnitude > half || (magnitude == half && (rule == .toNearestOrAwayFromZero || whole % 2 != 0)) {
                step = remainder > 0 ? 1 : -1
            } else {
                step = 0
            }
        @unknown default: step = remainder > 0 ? 1 : 0
        }
        let (result, stepOverflow) = whole.addingReportingOverflow(step)
        return stepOverflow ? whole : result
    }

    /// Whole milliseconds for a timeout or a wait: rounded up, so a positive one never becomes 0.
    public var wholeMilliseconds: Int64 { milliseconds(rounded: .up) }

    /// Seconds as a `Double`, for rates and display.
    public var inSeconds: Double { self / .seconds(1) }

    /// `seconds` (a number a person gave: a flag, a header) to the whole microsecond, so that a
    /// `Double`'s noise (1.1 is 1.1000000000000000888 s) is no part of it and cannot round a
    /// millisecond up. Beyond what `Int64` microseconds hold it is clamped; NaN is zero.
    public static func seconds(roundingToMicroseconds seconds: Double) -> Duration {
        let micros = (seconds * 1_000_000).rounded()
        if micros.isNaN { return .zero }
        return .microseconds(Int64(exactly: micros) ?? (micros > 0 ? .max : .min))
    }
}
