import Foundation

/// How many requests to keep in flight against a server that queues instead of refusing
/// (vLLM, SGLang and other self-hosted servers answer no 429: past their capacity latency just
/// grows until requests time out). `--concurrency auto`.
///
/// TCP Vegas applied to requests. The no-load latency is the lowest mean latency of a round
/// seen recently; in a round whose mean latency is `m`, about `limit × (1 − noLoad / m)`
/// requests were waiting in the server's queue rather than being served. While fewer than
/// `alpha` wait, the limit grows (doubling until the first queue shows, then by 5%); past
/// `beta` it drops to the capacity that round showed (`limit × noLoad / m`) plus `alpha`. A rate-limit answer, a timeout or an overload answer
/// (503) halves it at once, at most once per round.
///
/// It starts small (4), as TCP does, so that the first rounds see the server unloaded: a start
/// above the capacity would take the queued latency for the no-load one.
///
/// A round is one round trip: it ends once it holds a window's worth of successes (at least
/// `minimumSamples`) and spans at least its own mean latency. After a change the next round only measures (its answers were
/// sent under the old limit), so the limit moves at most every other round. Pure: latencies and times are passed in.
public struct AdaptiveWindow: Sendable, Equatable {
    /// Why the limit last moved.
    public enum Reason: String, Sendable, Codable {
        case start, growth, latency, rateLimited = "429", timeout, overload
    }

    public let maximum: Int
    public let minimum: Int
    public private(set) var limit: Int
    public private(set) var reason: Reason = .start
    /// The no-load latency in use (ms): the lowest round mean among the last `memory` rounds.
    public var noLoadLatencyMs: Double? { recentMeans.min() }
    let minimumSamples: Int
    private let memory: Int
    private var slowStart = true
    private var samples: [Double] = []
    private var roundStartMs: Int64?
    private var recentMeans: [Double] = []
    private var lastCutMs: Int64 = .min
    private var lastMeanMs: Double = 0
    /// After a change, the next round's answers were mostly sent under the old limit: it is
    /// measured but not decided on (Vegas' every-other-round; without it slow start overshoots
    /// twofold and a cut undershoots the capacity).
    private var settling = false

    public init(maximum: Int, initial: Int = 4, minimum: Int = 1, minimumSamples: Int = 8, memory: Int = 100) {
        self.maximum = max(1, maximum)
        self.minimum = max(1, min(minimum, self.maximum))
        self.limit = max(self.minimum, min(initial, self.maximum))
        self.minimumSamples = max(1, minimumSamples)
        self.memory = max(1, memory)
    }

    /// Queued requests tolerated before the limit stops growing (10% of it: the latency at most
    /// 1.11x the no-load one), and past which it drops (20%: 1.25x). Relative, so that a few
    /// milliseconds of noise at 1,024 in flight do not read as a queue, and a small server's
    /// queue stays short next to its capacity.
    static func thresholds(_ limit: Int) -> (alpha: Double, beta: Double) {
        let size = Double(limit)
        return (max(1, 0.1 * size), max(2, 0.2 * size))
    }

    /// A successful answer that took `latencyMs`, with `inFlight` requests out when it came
    /// back. Returns true when the limit moved.
    @discardableResult
    public mutating func succeeded(latencyMs: Int64, nowMs: Int64, inFlight: Int) -> Bool {
        samples.append(Double(max(latencyMs, 0)))
        let start = roundStartMs ?? nowMs
        roundStartMs = start
        // A round holds a whole window's answers: the first ones back are the ones the server
        // did not queue, so a shorter round would read low.
        guard samples.count >= max(minimumSamples, limit) else { return false }
        // The mean, not the median: a queue that serves in waves gives latencies of one or two
        // service times, and Little's law (in flight = rate x mean latency) needs the mean.
        let mean = samples.reduce(0, +) / Double(samples.count)
        guard Double(nowMs - start) >= mean else { return false }
        samples.removeAll(keepingCapacity: true)
        roundStartMs = nowMs
        lastMeanMs = mean
        recentMeans.append(mean)
        if recentMeans.count > memory { recentMeans.removeFirst(recentMeans.count - memory) }
        if settling {
            settling = false
            return false
        }
        let moved = decide(mean: mean, inFlight: inFlight)
        settling = moved
        return moved
    }

    private mutating func decide(mean: Double, inFlight: Int) -> Bool {
        guard let noLoad = noLoadLatencyMs, mean > 0 else { return false }
        let queued = Double(limit) * max(0, 1 - noLoad / mean)
        let (alpha, beta) = Self.thresholds(limit)
        let old = limit
        if queued <= alpha {
            // Only grow a window that is in use: a run held back by --rpm or near its end
            // shows no queue because it sends little.
            guard inFlight * 10 >= limit * 8 else { return false }
            let step = slowStart ? limit : max(1, limit / 20)
            limit = min(maximum, limit + step)
            if limit != old { reason = .growth }
        } else {
            slowStart = false
            if queued >= beta {
                let capacity = Double(limit) * noLoad / mean
                limit = max(minimum, min(limit - 1, Int(capacity + alpha)))
                reason = .latency
            }
        }
        return limit != old
    }

    /// A rate-limit answer, a timeout or an overload answer: the limit halves (once per round).
    /// Returns true when the limit moved.
    @discardableResult
    public mutating func congested(_ why: Reason, nowMs: Int64) -> Bool {
        slowStart = false
        let round = Int64(max(lastMeanMs, noLoadLatencyMs ?? 0, 1_000))
        guard nowMs >= lastCutMs &+ round || lastCutMs == .min else { return false }
        lastCutMs = nowMs
        let old = limit
        limit = max(minimum, limit / 2)
        reason = why
        samples.removeAll(keepingCapacity: true)
        roundStartMs = nil
        settling = limit != old
        return limit != old
    }
}
