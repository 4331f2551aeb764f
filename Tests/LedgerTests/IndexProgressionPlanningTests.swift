import Foundation
import Testing
import TestSupport
@testable import Ledger

@Suite("Planning an index progression inside SQLite")
struct IndexProgressionPlanningTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("progression") }

    @Test("a progression plans exactly the rows a row-by-row plan of the same indices does", arguments: [
        IndexProgression(from: 0, to: 0),
        IndexProgression(from: 0, to: 1),
        IndexProgression(from: 5, to: 6),
        IndexProgression(from: 2, to: 3, by: 4),
        IndexProgression(from: 3, to: 20, by: 4),
        IndexProgression(from: 1, to: 150_001, by: 2),  // crosses a 65,536-row chunk
        IndexProgression(from: 0, to: 140_000),
    ])
    func sameRowsAsRowByRow(_ progression: IndexProgression) throws {
        let fast = try Ledger.create(at: dir.path("fast.db"), run: LedgerFixtures.run(rows: 1), indices: progression, nowMs: 7)
        let slow = try Ledger.create(at: dir.path("slow.db"), run: LedgerFixtures.run(rows: 1), indices: Array(progression), nowMs: 7)
        let expected = Array(progression)
        #expect(progression.underestimatedCount == expected.count)
        #expect(try fast.counts() == StateCounts(pending: expected.count))
        #expect(try fast.counts() == slow.counts())
        for index in [expected.first, expected.last, expected.dropFirst().first].compactMap({ $0 }) {
            #expect(try fast.state(of: index)?.state == .pending)
        }
        if let last = expected.last {
            #expect(try fast.state(of: last + progression.step) == nil)
            if progression.step > 1 { #expect(try fast.state(of: last - 1) == nil) }
        }
        #expect(try fast.state(of: progression.start - 1) == nil)
    }
}
