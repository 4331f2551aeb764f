import Provider
import Testing

@Suite("Duration to milliseconds: one rule, rounded up for waits and timeouts")
struct DurationMillisecondsTests {
    @Test("a wait or timeout rounds up, so a positive one never becomes 0 ms", arguments: [
        (Duration.milliseconds(1) + .microseconds(500), Int64(2)),  // 1.5 ms
        (.microseconds(999), 1),
        (.nanoseconds(1), 1),
        (.zero, 0),
        (.milliseconds(1), 1),
        (.seconds(300), 300_000),
        (.seconds(1) + .nanoseconds(1), 1_001),
        (.milliseconds(-1) - .microseconds(500), -1),  // -1.5 ms rounds up, toward zero
        (.seconds(Int64.max / 1_000), Int64.max / 1_000 * 1_000),  // large: exact
        (.seconds(Int64.max), .max),  // beyond Int64 milliseconds: clamped
        (.seconds(Int64.min), .min),
    ])
    func roundsUp(duration: Duration, expected: Int64) {
        #expect(duration.wholeMilliseconds == expected)
        #expect(duration.milliseconds(rounded: .up) == expected)
    }

    @Test("a measurement truncates, and the nearest rules round half as named", arguments: [
        (Duration.milliseconds(1) + .microseconds(500), FloatingPointRoundingRule.towardZero, Int64(1)),
        (.microseconds(999), .towardZero, 0),
        (.milliseconds(-1) - .microseconds(500), .towardZero, -1),
        (.milliseconds(-1) - .microseconds(500), .down, -2),
        (.microseconds(1_500), .toNearestOrAwayFromZero, 2),
        (.microseconds(2_500), .toNearestOrEven, 2),
        (.microseconds(3_500), .toNearestOrEven, 4),
        (.microseconds(2_499), .toNearestOrAwayFromZero, 2),
        (.microseconds(-2_500), .toNearestOrAwayFromZero, -3),
        (.microseconds(2_001), .awayFromZero, 3),
    ])
    func otherRules(duration: Duration, rule: FloatingPointRoundingRule, expected: Int64) {
        #expect(duration.milliseconds(rounded: rule) == expected)
    }

    @Test("seconds a person gives lose a Double's noise before rounding, and keep what is below a millisecond",
          arguments: [(1.1, Int64(1_100)), (2.675, 2_675), (0.05, 50), (0.5, 500), (0.0005, 1), (0.0, 0), (1e-7, 0), (20, 20_000)])
    func givenSeconds(seconds: Double, expected: Int64) {
        #expect(Duration.seconds(roundingToMicroseconds: seconds).wholeMilliseconds == expected)
    }

    @Test("out-of-range and NaN seconds are clamped, not a crash")
    func givenSecondsOutOfRange() {
        #expect(Duration.seconds(roundingToMicroseconds: 1e300).wholeMilliseconds == Int64.max / 1_000 + 1)
        #expect(Duration.seconds(roundingToMicroseconds: .nan) == .zero)
    }

    @Test("seconds as a Double")
    func inSeconds() {
        #expect((Duration.milliseconds(1_500)).inSeconds == 1.5)
        #expect(Duration.zero.inSeconds == 0)
    }
}
