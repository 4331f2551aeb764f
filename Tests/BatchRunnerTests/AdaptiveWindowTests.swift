import Testing
@testable import BatchRunner

@Suite("Adaptive concurrency window (--concurrency auto)")
struct AdaptiveWindowTests {
    /// A server that serves `capacity` requests at once in `serviceMs` and queues the rest:
    /// with `limit` requests out, each waits `serviceMs × limit / capacity` (never below `serviceMs`).
    static func latency(limit: Int, capacity: Int, serviceMs: Double) -> Int64 {
        Int64(serviceMs * max(1, Double(limit) / Double(capacity)))
    }

    /// Drives the window for `rounds` round trips against that server; returns the limits seen.
    static func drive(
        _ window: inout AdaptiveWindow, rounds: Int, capacity: (Int) -> Int, serviceMs: Double = 300, clock: inout Int64
    ) -> [Int] {
        var limits: [Int] = []
        // A round's answers were sent during the round before, under the limit of then.
        var sentUnder = window.limit
        for round in 0..<rounds {
            let l = latency(limit: sentUnder, capacity: capacity(round), serviceMs: serviceMs)
            sentUnder = window.limit
            // A round trip's answers: as many as the window holds.
            let answers = max(window.minimumSamples, window.limit)
            for i in 0..<answers {
                clock += i == answers - 1 ? l : 0
                window.succeeded(latencyMs: l, nowMs: clock, inFlight: window.limit)
            }
            limits.append(window.limit)
        }
        return limits
    }

    @Test("against a server with room for everything it grows to the maximum, doubling per round", arguments: [64, 1_024])
    func growsToMaximum(maximum: Int) {
        var window = AdaptiveWindow(maximum: maximum)
        var clock: Int64 = 0
        let limits = Self.drive(&window, rounds: 20, capacity: { _ in 1_000_000 }, clock: &clock)
        #expect(Array(limits.prefix(6)) == [8, 8, 16, 16, 32, 32].map { min($0, maximum) }, "doubling every other round")
        #expect(window.limit == maximum)
        #expect(window.reason == .growth)
    }

    @Test("against a server that queues past its capacity it settles just above it: the capacity's throughput, median latency under 1.5x service",
          arguments: [8, 48, 200])
    func settlesAtCapacity(capacity: Int) {
        var window = AdaptiveWindow(maximum: 1_024)
        var clock: Int64 = 0
        let limits = Self.drive(&window, rounds: 60, capacity: { _ in capacity }, clock: &clock)
        let settled = limits.suffix(20)
        let (alpha, beta) = AdaptiveWindow.thresholds(capacity)
        for limit in settled {
            #expect(Double(limit) >= Double(capacity) * 0.95, "throughput: \(limits)")
            #expect(Double(limit) <= Double(capacity) + 2 * beta + 2, "queue: \(limits)")
            #expect(Double(Self.latency(limit: limit, capacity: capacity, serviceMs: 300)) <= 450, "latency: \(limits)")
        }
        #expect(window.reason == .latency || window.reason == .growth)
        _ = alpha
    }

    @Test("when the capacity halves mid-run it follows within a few rounds")
    func followsHalving() {
        var window = AdaptiveWindow(maximum: 1_024)
        var clock: Int64 = 0
        let limits = Self.drive(&window, rounds: 80, capacity: { $0 < 40 ? 48 : 24 }, clock: &clock)
        let after = Array(limits[40...])
        #expect(limits[30..<40].allSatisfy { $0 >= 46 }, "before the drop: \(limits)")
        let (_, beta) = AdaptiveWindow.thresholds(24)
        let followed = after.firstIndex { Double($0) <= 24 + 2 * beta + 2 }
        #expect(followed != nil && followed! <= 6, "\(after)")
        #expect(after.suffix(20).allSatisfy { $0 >= 23 }, "keeps the smaller capacity busy: \(after)")
        #expect(window.reason == .latency || window.reason == .growth)
    }

    @Test("429s, timeouts and overload answers halve the limit at once, once per round", arguments: [
        AdaptiveWindow.Reason.rateLimited, .timeout, .overload,
    ])
    func congestionHalves(reason: AdaptiveWindow.Reason) {
        var window = AdaptiveWindow(maximum: 1_024, initial: 400)
        let first = window.congested(reason, nowMs: 10_000)
        #expect(first)
        #expect(window.limit == 200)
        #expect(window.reason == reason)
        let again = window.congested(reason, nowMs: 10_100)
        #expect(!again, "the same burst cuts once")
        #expect(window.limit == 200)
        let later = window.congested(reason, nowMs: 11_100)
        #expect(later)
        #expect(window.limit == 100)
        for t in 0..<20 { window.congested(reason, nowMs: 20_000 + Int64(t) * 2_000) }
        #expect(window.limit == 1, "never below the minimum")
    }

    @Test("a window the run does not fill does not grow")
    func idleWindowDoesNotGrow() {
        var window = AdaptiveWindow(maximum: 1_024, initial: 64)
        var clock: Int64 = 0
        for _ in 0..<10 {
            for i in 0..<64 {
                clock += i == 63 ? 300 : 0
                window.succeeded(latencyMs: 300, nowMs: clock, inFlight: 10)
            }
        }
        #expect(window.limit == 64)
        #expect(window.reason == .start)
    }

    @Test("a round needs its samples and its own latency's worth of time before a decision")
    func roundBoundaries() {
        var window = AdaptiveWindow(maximum: 1_024, initial: 4, minimumSamples: 4)
        for _ in 0..<3 {
            let moved = window.succeeded(latencyMs: 300, nowMs: 0, inFlight: 4)
            #expect(!moved)
        }
        let early = window.succeeded(latencyMs: 300, nowMs: 299, inFlight: 4)
        #expect(!early, "shorter than the round trip")
        let onTime = window.succeeded(latencyMs: 300, nowMs: 300, inFlight: 4)
        #expect(onTime)
        #expect(window.limit == 8)
        #expect(window.noLoadLatencyMs == 300)
    }
}
