import Testing
import Recipe
@testable import BatchRunner
import Wire

/// A generator that returns fixed values, to pin jitter in tests (then counts up, so that
/// rejection sampling in `random(in:)` always ends).
struct FixedRandom: RandomNumberGenerator {
    var values: [UInt64]
    var counter: UInt64 = 1
    mutating func next() -> UInt64 {
        if !values.isEmpty { return values.removeFirst() }
        counter &+= 1
        return counter
    }
}

@Suite("Backoff")
struct BackoffTests {
    @Test("the ceiling doubles from the base and stops at the cap", arguments: [
        (1, 2_000), (2, 4_000), (3, 8_000), (7, 128_000), (8, 180_000), (60, 180_000), (1_000, 180_000),
    ])
    func ceiling(attempts: Int, expected: Int64) {
        #expect(Backoff(baseMs: 2_000, capMs: 180_000).ceilingMs(afterFailedAttempts: attempts) == expected)
    }

    @Test("the delay is drawn with full jitter between zero and the ceiling")
    func fullJitter() {
        let backoff = Backoff(baseMs: 1_000, capMs: 10_000)
        var low = FixedRandom(values: [1])  // the smallest draw that is not rejected
        #expect(backoff.delayMs(afterFailedAttempts: 3, using: &low) == 0)
        var high = FixedRandom(values: [.max])
        #expect(backoff.delayMs(afterFailedAttempts: 3, using: &high) == 4_000)
        var seeded = SeededRandom(seed: 7)
        let delays = (0..<1_000).map { _ in backoff.delayMs(afterFailedAttempts: 5, using: &seeded) }
        #expect(delays.allSatisfy { (0...10_000).contains($0) })
        #expect(Set(delays).count > 500)  // spread, not a wave
    }
}

@Suite("Token bucket")
struct TokenBucketTests {
    @Test("a bucket allows its burst at once, then paces requests at the rate")
    func pacing() {
        var bucket = TokenBucket(perMinute: 600, burst: 3, nowMs: 0)
        let r1 = bucket.take(nowMs: 0)
        #expect(r1 == nil)
        let r2 = bucket.take(nowMs: 0)
        #expect(r2 == nil)
        let r3 = bucket.take(nowMs: 0)
        #expect(r3 == nil)
        #expect(bucket.take(nowMs: 0) == 100)  // 600/min is one every 100 ms
        let r4 = bucket.take(nowMs: 50)
        #expect(r4 == 100)
        let r5 = bucket.take(nowMs: 100)
        #expect(r5 == nil)
        let r6 = bucket.take(nowMs: 100)
        #expect(r6 == 200)
    }

    @Test("over a simulated minute a bucket admits its rate and no more")
    func minuteOfRequests() {
        var bucket = TokenBucket(perMinute: 120, nowMs: 0)
        var now: Int64 = 0
        var sent = 0
        while now < 60_000 {
            if let wait = bucket.take(nowMs: now) { now = wait } else { sent += 1 }
        }
        #expect((120...122).contains(sent))
    }

    @Test("a token estimate settled later can put the bucket in debt, delaying the next request")
    func tokenDebt() {
        var bucket = TokenBucket(perMinute: 6_000, burst: 1_000, nowMs: 0)
        let r7 = bucket.take(500, nowMs: 0)
        #expect(r7 == nil)
        bucket.adjust(by: 1_000, nowMs: 0)  // the answer used 1,500 tokens, not 500
        #expect(bucket.take(500, nowMs: 0) == 10_000)  // 500 missing, plus 500 needed, at 100/s
    }

    @Test("a request larger than the burst waits for a full bucket instead of forever")
    func oversizedRequest() {
        var bucket = TokenBucket(perMinute: 60, burst: 10, nowMs: 0)
        let r8 = bucket.take(10, nowMs: 0)
        #expect(r8 == nil)
        let r9 = bucket.take(50, nowMs: 0)
        #expect(r9 == 10_000)
        let r10 = bucket.take(50, nowMs: 10_000)
        #expect(r10 == nil)
    }
}

@Suite("Congestion window")
struct CongestionWindowTests {
    func stormed(_ maximum: Int = 64) -> CongestionWindow {
        var window = CongestionWindow(maximum: maximum, sampleSize: 4)
        for _ in 0..<2 { window.succeeded() }
        return window
    }

    @Test("a lone rate-limit answer among successes delays nobody else")
    func loneRateLimit() {
        var window = CongestionWindow(maximum: 16, sampleSize: 16)
        for _ in 0..<15 { window.succeeded() }
        let storm = window.rateLimited(nowMs: 0, waitMs: 1_000)
        #expect(!storm)
        #expect(window.window == 16)
        #expect(!window.isPaused(nowMs: 0))
    }

    @Test("a storm pauses every worker and halves the window once per burst")
    func halveOnce() {
        var window = stormed()
        _ = window.rateLimited(nowMs: 1_000, waitMs: 5_000)
        #expect(window.window == 64)  // one of three: not yet a storm
        let storm = window.rateLimited(nowMs: 1_000, waitMs: 5_000)
        #expect(storm)
        #expect(window.window == 32)
        #expect(window.isPaused(nowMs: 5_999))
        #expect(!window.isPaused(nowMs: 6_000))
        window.rateLimited(nowMs: 1_200, waitMs: 2_000)  // same burst: no second halving, pause kept
        #expect(window.window == 32)
        #expect(window.pausedUntilMs == 6_000)
        window.rateLimited(nowMs: 7_000, waitMs: 1_000)
        #expect(window.window == 16)
    }

    @Test("successes grow the window back by one per window of successes, up to the maximum")
    func additiveIncrease() {
        var window = CongestionWindow(maximum: 4, sampleSize: 2)
        window.rateLimited(nowMs: 0, waitMs: 0)
        window.rateLimited(nowMs: 0, waitMs: 0)
        #expect(window.window == 2)
        window.succeeded()
        window.succeeded()
        #expect(window.window == 3)
        for _ in 0..<10 { window.succeeded() }
        #expect(window.window == 4)
    }

    @Test("the window never drops below one")
    func floor() {
        var window = CongestionWindow(maximum: 2, sampleSize: 2)
        for step in 0..<10 { window.rateLimited(nowMs: Int64(step) * 10_000, waitMs: 1) }
        #expect(window.window == 1)
    }
}

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    @Test("the breaker trips after a streak of identical failures and a success resets it")
    func streak() {
        var breaker = CircuitBreaker(threshold: 3)
        let r11 = breaker.record(failureKind: "server_error")
        #expect(!r11)
        let r12 = breaker.record(failureKind: "server_error")
        #expect(!r12)
        let r13 = breaker.record(failureKind: nil)
        #expect(!r13)
        let r14 = breaker.record(failureKind: "server_error")
        #expect(!r14)
        let r15 = breaker.record(failureKind: "timeout")
        #expect(!r15)
        let r16 = breaker.record(failureKind: "timeout")
        #expect(!r16)
        let r17 = breaker.record(failureKind: "timeout")
        #expect(r17)
    }

    @Test("before the first success every failure counts, whatever its kind, so a small dead run stops early")
    func startup() {
        var breaker = CircuitBreaker(threshold: 50, startupThreshold: 4)
        for kind in ["connection_failed", "timeout", "connection_failed"] {
            let tripped = breaker.record(failureKind: kind)
            #expect(!tripped && !breaker.startupTripped)
        }
        let fourth = breaker.record(failureKind: "server_error")
        #expect(!fourth, "not a streak")
        #expect(breaker.startupTripped && breaker.failures == 4)

        var warm = CircuitBreaker(threshold: 50, startupThreshold: 4)
        _ = warm.record(failureKind: nil)
        for _ in 0..<10 {
            let tripped = warm.record(failureKind: "server_error")
            #expect(!tripped && !warm.startupTripped, "after a success only a streak of `threshold` trips it")
        }
        #expect(CircuitBreaker(threshold: 3).startupThreshold == 3 && CircuitBreaker(threshold: 50).startupThreshold == 10)
    }
}
