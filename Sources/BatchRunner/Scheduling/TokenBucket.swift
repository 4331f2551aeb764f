/// A token bucket refilled continuously at `perMinute` tokens a minute, holding at most
/// `burst` tokens. Pure: the caller passes the time (milliseconds) in, nothing sleeps.
///
/// Used twice: requests per minute (one token a request) and tokens per minute (a request
/// takes its estimated tokens up front; the difference is settled when usage comes back, so the
/// bucket may go into debt and later requests wait).
public struct TokenBucket: Sendable, Equatable {
    public private(set) var perMinute: Double
    public private(set) var burst: Double
    private(set) var available: Double
    private var lastRefillMs: Int64

    /// A full bucket at `nowMs`. `burst` defaults to one second's worth (at least one token), so a
    /// fresh run does not fire a minute's quota at once.
    public init(perMinute: Double, burst: Double? = nil, nowMs: Int64) {
        self.perMinute = perMinute
        self.burst = max(1, burst ?? perMinute / 60)
        self.available = self.burst
        self.lastRefillMs = nowMs
    }

    private mutating func refill(_ nowMs: Int64) {
        guard nowMs > lastRefillMs else { return }
        available = min(burst, available + Double(nowMs - lastRefillMs) * perMinute / 60_000)
        lastRefillMs = nowMs
    }

    /// Takes `cost` tokens if they are there, returning nil; otherwise returns the time at which
    /// they will be, and takes nothing.
    public mutating func take(_ cost: Double = 1, nowMs: Int64) -> Int64? {
        refill(nowMs)
        let needed = min(cost, burst)  // a request larger than the burst waits for a full bucket, not forever
        if available >= needed {
            available -= cost
            return nil
        }
        let missing = needed - available
        return nowMs + Int64((missing * 60_000 / perMinute).rounded(.up))
    }

    /// Changes the rate from now on (a Slurm array task's share moving); tokens already there
    /// stay, up to the new burst (default one second's worth at the new rate).
    public mutating func setRate(perMinute rate: Double, burst newBurst: Double? = nil, nowMs: Int64) {
        refill(nowMs)
        perMinute = rate
        burst = max(1, newBurst ?? rate / 60)
        available = min(available, burst)
    }

    /// Settles an estimate: gives back (negative) or takes more (positive) tokens.
    public mutating func adjust(by delta: Double, nowMs: Int64) {
        refill(nowMs)
        available = min(burst, available - delta)
    }
}
