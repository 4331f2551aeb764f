import Testing
@testable import batch

/// Issue #14, item 6: `run` projects how long planning takes when that is more than a second.
@Suite("planning duration")
struct PlanDurationTests {
    @Test("the projection is rows over the assumed pace; plans under a second are not announced")
    func projection() {
        #expect(PlanSize.projectedSeconds(rows: 10_000_000) == 40)
        #expect(PlanSize.projectedSeconds(rows: 250_000) == 1)
        #expect(PlanSize.projectedSeconds(rows: 1_000, rowsPerSecond: 500) == 2)
    }

    @Test("durations read as seconds, or minutes and seconds")
    func wording() {
        #expect(PlanSize.duration(0.2) == "about 1 s")
        #expect(PlanSize.duration(40) == "about 40 s")
        #expect(PlanSize.duration(200) == "about 3 min 20 s")
    }
}
