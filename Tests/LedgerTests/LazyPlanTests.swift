import Foundation
import Testing
import TestSupport
@testable import Ledger

/// A large plan is written as claims reach it (`LazyPlan`): nothing a run, a reader or a resume
/// sees may differ from a plan written whole at creation.
@Suite("A plan written as the run claims it")
struct LazyPlanTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("lazy-plan") }

    /// Claims `limit` rows at a time until none is due, completing each; the indices in claim order.
    private func drain(_ ledger: Ledger, limit: Int, nowMs: Int64 = 50) throws -> [Int64] {
        var claimed: [Int64] = []
        while true {
            let rows = try ledger.claim(limit: limit, nowMs: nowMs, owner: "t")
            if rows.isEmpty { return claimed }
            claimed += rows.map(\.index)
            try ledger.apply(rows.map { .complete($0.index, LedgerFixtures.result($0.index), LedgerFixtures.attempt($0.attempt)) }, nowMs: nowMs)
        }
    }

    private func itemRows(_ path: String) throws -> Int {
        let reader = try LedgerReader(path: path)
        let s = try reader.db.statement("SELECT COUNT(*) FROM items")
        defer { s.reset() }
        _ = try s.step(doing: "test")
        return s.int(0)
    }

    @Test("a large plan gets its first rows at creation and the rest as claims reach them, in the order a whole plan gives", arguments: [
        (nil as Shard?, Int64(5_000)), (Shard(index: 1, count: 3), Int64(4_000)),
    ])
    func claimsInEagerOrder(shard: Shard?, rows: Int64) throws {
        let run = LedgerFixtures.run(rows: rows, shard: shard)
        let lazy = try Ledger.create(at: dir.path("lazy.db"), run: run, indices: shardIndices(num: rows, shard: shard), nowMs: 7, initialRows: 100)
        let whole = try Ledger.create(at: dir.path("whole.db"), run: run, indices: shardIndices(num: rows, shard: shard), nowMs: 7, initialRows: .max)
        #expect(try itemRows(dir.path("lazy.db")) == 100)
        #expect(try lazy.counts() == whole.counts())
        #expect(try lazy.counts().pending == shardIndices(num: rows, shard: shard).underestimatedCount)

        // A retry due later and a failure among the first rows: claims must still go in index order.
        for ledger in [lazy, whole] {
            let first = try ledger.claim(limit: 3, nowMs: 10, owner: "t")
            try ledger.scheduleRetry(first[0].index, atMs: 1_000, attempt: LedgerFixtures.attempt(1), nowMs: 10)
            try ledger.fail(first[1].index, attempt: LedgerFixtures.attempt(1), nowMs: 10)
            try ledger.complete(first[2].index, result: LedgerFixtures.result(first[2].index), attempt: LedgerFixtures.attempt(1), nowMs: 10)
        }
        #expect(try lazy.nextDueMs() == whole.nextDueMs())
        let lazyOrder = try drain(lazy, limit: 64)
        let wholeOrder = try drain(whole, limit: 64)
        #expect(lazyOrder == wholeOrder)
        #expect(Set(lazyOrder).count == lazyOrder.count, "no row claimed twice")
        #expect(try lazy.counts() == whole.counts())
        #expect(try itemRows(dir.path("lazy.db")) == shardIndices(num: rows, shard: shard).underestimatedCount)
        // Only the retry, due at 1,000, is left; a whole plan has nothing unwritten.
        #expect(try lazy.nextDueMs() == 1_000)
        #expect(try LazyPlan.unplanned(lazy.db) == nil)
        #expect(try drain(lazy, limit: 64, nowMs: 1_000).count == 1)
    }

    @Test("rows not written yet are pending to counts, readers, state and the next due time")
    func unwrittenRowsArePending() throws {
        let ledger = try Ledger.create(at: dir.path("p.db"), run: LedgerFixtures.run(rows: 100), indices: 0..<Int64(100), nowMs: 7, initialRows: 10)
        #expect(try ledger.counts() == StateCounts(pending: 100))
        #expect(try ledger.state(of: 99)?.state == .pending)
        #expect(try ledger.state(of: 100) == nil)
        #expect(try ledger.nextDueMs() == 0)
        let rows = try ledger.claim(limit: 10, nowMs: 10, owner: "t")
        try ledger.complete(rows[0].index, result: LedgerFixtures.result(0), attempt: LedgerFixtures.attempt(1), nowMs: 10)
        #expect(try LazyPlan.unplanned(ledger.db) == IndexProgression(from: 10, to: 100))

        let reader = try LedgerReader(path: dir.path("p.db"))
        #expect(try reader.counts() == StateCounts(pending: 90, inFlight: 9, done: 1))
        #expect(try reader.unfinishedIndices(limit: 12) == Array(1...12))
        var unfinished: [Int64] = []
        try reader.forEachUnfinishedIndex { unfinished.append($0) }
        #expect(unfinished == Array(1..<100))
    }

    @Test("a ledger closed half-written (as a kill -9 leaves it) goes on with its plan where it stopped")
    func reopenedMidway() throws {
        let path = dir.path("r.db")
        var first: [Int64] = []
        do {
            let ledger = try Ledger.create(at: path, run: LedgerFixtures.run(rows: 3_000), indices: 0..<Int64(3_000), nowMs: 7, initialRows: 100)
            first = try ledger.claim(limit: 1_500, nowMs: 10, owner: "dead").map(\.index)
            try ledger.apply(first.prefix(700).map { .complete($0, LedgerFixtures.result($0), LedgerFixtures.attempt(1)) }, nowMs: 10)
        }
        let ledger = try Ledger(openForWriting: path)
        #expect(try ledger.counts() == StateCounts(pending: 1_500, inFlight: 800, done: 700))
        #expect(try ledger.releaseOrphans(nowMs: 20) == 800)
        let rest = try drain(ledger, limit: 64, nowMs: 30)
        #expect((Array(first.prefix(700)) + rest).sorted() == Array(0..<3_000))
        #expect(try ledger.counts() == StateCounts(done: 3_000))
    }

    @Test("extend raises the plan at once, whether its rows are all written or not", arguments: [Int64(50), Int64(10)])
    func extendIsImmediate(initialRows: Int64) throws {
        let ledger = try Ledger.create(at: dir.path("e.db"), run: LedgerFixtures.run(rows: 50), indices: 0..<Int64(50), nowMs: 7, initialRows: initialRows)
        let extension_ = try ledger.extend(toPlannedRows: 1_000_000, nowMs: 8)
        #expect(extension_ == PlanExtension(oldPlannedRows: 50, newPlannedRows: 1_000_000, added: 999_950))
        #expect(try itemRows(dir.path("e.db")) <= 50, "nothing was written for the new rows")
        #expect(try ledger.counts() == StateCounts(pending: 1_000_000))
        let claimed = try ledger.claim(limit: 2_000, nowMs: 9, owner: "t").map(\.index)
        #expect(claimed == Array(0..<2_000))
    }

    @Test("a batch submission's claim writes the plan as far as it takes")
    func submissionClaims() throws {
        let ledger = try Ledger.create(at: dir.path("s.db"), run: LedgerFixtures.run(rows: 5_000), indices: 0..<Int64(5_000), nowMs: 7, initialRows: 10)
        let (submission, rows) = try #require(try ledger.claimSubmission(limit: 3_000, api: "openai", nowMs: 9))
        #expect(submission.rows == 3_000)
        #expect(rows.map(\.index) == Array(0..<3_000))
        #expect(try ledger.counts() == StateCounts(pending: 2_000, inFlight: 3_000))
    }
}
