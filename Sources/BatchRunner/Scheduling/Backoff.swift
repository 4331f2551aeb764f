/// Exponential backoff with full jitter: the wait before attempt `n + 1` after `n` failed attempts
/// is uniform in `0 ... min(cap, base * 2^(n-1))`.
///
/// Full jitter spreads the retries of many rows that failed together (a provider blip) instead of
/// sending them back in one wave. The random source is passed in, so tests fix it.
public struct Backoff: Sendable, Equatable {
    public var baseMs: Int64
    public var capMs: Int64

    public init(baseMs: Int64 = RunDefaults.backoffBaseMs, capMs: Int64 = RunDefaults.backoffCapMs) {
        self.baseMs = baseMs
        self.capMs = capMs
    }

    /// The upper bound of the wait after `failedAttempts` (1-based) failures.
    public func ceilingMs(afterFailedAttempts failedAttempts: Int) -> Int64 {
        let exponent = max(0, min(failedAttempts - 1, 40))
        let (grown, overflow) = baseMs.multipliedReportingOverflow(by: Int64(1) << exponent)
        return overflow ? capMs : min(capMs, grown)
    }

    /// A wait drawn uniformly from `0 ... ceiling`.
    public func delayMs(afterFailedAttempts failedAttempts: Int, using random: inout some RandomNumberGenerator) -> Int64 {
        let ceiling = ceilingMs(afterFailedAttempts: failedAttempts)
        return ceiling <= 0 ? 0 : Int64.random(in: 0...ceiling, using: &random)
    }
}
