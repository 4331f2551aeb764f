import Foundation
import Recipe
import Testing
import TestSupport
@testable import Ledger
import Wire

@Suite("Ledger state transitions")
struct LedgerTransitionTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("ledger") }

    func makeLedger(rows: Int64 = 10) throws -> Ledger {
        try Ledger.create(at: dir.path("run.db"), run: LedgerFixtures.run(rows: rows), indices: 0..<rows, nowMs: 0)
    }

    @Test("a new ledger plans every index as pending and keeps the run record")
    func createPlans() throws {
        let ledger = try makeLedger(rows: 25)
        #expect(try ledger.counts() == StateCounts(pending: 25))
        #expect(try ledger.run() == LedgerFixtures.run(rows: 25))
        #expect(try ledger.state(of: 24)?.state == .pending)
        #expect(try ledger.state(of: 25) == nil)
    }

    @Test("a ledger can plan a given set of indices, and be extended")
    func planSetAndExtend() throws {
        let ledger = try Ledger.create(at: dir.path("set.db"), run: LedgerFixtures.run(rows: 100), indices: [3, 17, 40, 99], nowMs: 0)
        #expect(try ledger.counts().pending == 4)
        let added = try ledger.extend(indices: [17, 100, 101], plannedRows: 102, nowMs: 1)
        #expect(added == 2)
        #expect(try ledger.counts().pending == 6)
        #expect(try ledger.run().plannedRows == 102)
    }

    @Test("claim takes due pending rows lowest index first and counts the attempt")
    func claimOrderAndAttempts() throws {
        let ledger = try makeLedger()
        let first = try ledger.claim(limit: 3, nowMs: 5, owner: "w")
        #expect(first == [ClaimedRow(index: 0, attempt: 1), ClaimedRow(index: 1, attempt: 1), ClaimedRow(index: 2, attempt: 1)])
        #expect(try ledger.counts() == StateCounts(pending: 7, inFlight: 3))
        #expect(try ledger.claim(limit: 100, nowMs: 5, owner: "w").count == 7)
        #expect(try ledger.claim(limit: 100, nowMs: 5, owner: "w").isEmpty)
        #expect(try ledger.claim(limit: 0, nowMs: 5, owner: "w").isEmpty)
    }

    @Test("complete writes the result in the same transaction as the done state")
    func completeWritesResult() throws {
        let ledger = try makeLedger()
        let row = try #require(try ledger.claim(limit: 1, nowMs: 1, owner: "w").first)
        try ledger.complete(row.index, result: LedgerFixtures.result(row.index), attempt: LedgerFixtures.attempt(1, cost: 0.5), nowMs: 2)
        #expect(try ledger.state(of: 0)?.state == .done)
        var rows: [DoneRow] = []
        try ledger.forEachDone { rows.append($0) }
        #expect(rows.count == 1)
        #expect(rows.first?.result == LedgerFixtures.result(0))
        #expect(rows.first?.cost == 0.5)
        #expect(try ledger.usage() == UsageTotals(attempts: 1, promptTokens: 100, completionTokens: 50, cost: 0.5))
    }

    @Test("cached prompt tokens and the cache discount are kept per attempt and added up, failed attempts included")
    func cacheUsageTotals() throws {
        let ledger = try makeLedger()
        let rows = try ledger.claim(limit: 2, nowMs: 1, owner: "w")
        var first = LedgerFixtures.attempt(1, cost: 0.5)
        first.cachedTokens = 80
        first.cacheDiscount = 0.25
        try ledger.complete(rows[0].index, result: LedgerFixtures.result(rows[0].index), attempt: first, nowMs: 2)
        var second = LedgerFixtures.attempt(1, kind: "invalid_conversation", error: "x", cost: 0.1)
        second.cachedTokens = 90
        second.cacheDiscount = -0.05
        try ledger.scheduleRetry(rows[1].index, atMs: 3, attempt: second, nowMs: 2)
        let usage = try ledger.usage()
        #expect(usage.cachedTokens == 170)
        #expect(abs(usage.cacheDiscount - 0.2) < 1e-12)
        let reader = try LedgerReader(path: ledger.path)
        #expect(try reader.usage() == usage)
    }

    @Test("a row that is not in flight cannot be completed, retried or failed")
    func transitionsNeedInFlight() throws {
        let ledger = try makeLedger()
        #expect(throws: LedgerError.self) { try ledger.complete(0, result: LedgerFixtures.result(0), attempt: LedgerFixtures.attempt(1), nowMs: 1) }
        #expect(throws: LedgerError.self) { try ledger.scheduleRetry(0, atMs: 5, attempt: LedgerFixtures.attempt(1), nowMs: 1) }
        #expect(throws: LedgerError.self) { try ledger.fail(99, attempt: LedgerFixtures.attempt(1), nowMs: 1) }
        let row = try #require(try ledger.claim(limit: 1, nowMs: 1, owner: "w").first)
        try ledger.complete(row.index, result: LedgerFixtures.result(0), attempt: LedgerFixtures.attempt(1), nowMs: 2)
        do {
            try ledger.complete(row.index, result: LedgerFixtures.result(0), attempt: LedgerFixtures.attempt(1), nowMs: 3)
            Issue.record("completing a done row twice must fail")
        } catch {
            #expect(error.code == .invalidTransition)
            #expect(error.message.contains("it is done"))
        }
        var count = 0
        try ledger.forEachDone { _ in count += 1 }
        #expect(count == 1)
    }

    @Test("a retried row goes back to pending and is not claimed before it is due")
    func retryWaitsUntilDue() throws {
        let ledger = try makeLedger(rows: 2)
        _ = try ledger.claim(limit: 1, nowMs: 0, owner: "w")
        try ledger.scheduleRetry(0, atMs: 1_000, attempt: LedgerFixtures.attempt(1, kind: "rate_limited", error: "429"), nowMs: 10)
        #expect(try ledger.state(of: 0)! == (ItemState.pending, 1))
        #expect(try ledger.nextDueMs() == 0)  // row 1 is due now
        #expect(try ledger.claim(limit: 5, nowMs: 999, owner: "w").map(\.index) == [1])
        #expect(try ledger.nextDueMs() == 1_000)
        #expect(try ledger.claim(limit: 5, nowMs: 999, owner: "w").isEmpty)
        #expect(try ledger.claim(limit: 5, nowMs: 1_000, owner: "w") == [ClaimedRow(index: 0, attempt: 2)])
    }

    @Test("a failed row keeps its last error and attempt count")
    func failKeepsError() throws {
        let ledger = try makeLedger(rows: 1)
        _ = try ledger.claim(limit: 1, nowMs: 0, owner: "w")
        try ledger.fail(0, attempt: LedgerFixtures.attempt(1, kind: "truncated", error: "finish_reason length"), nowMs: 1)
        #expect(try ledger.counts() == StateCounts(failed: 1))
        #expect(try ledger.failedRows() == [FailedRow(index: 0, attempts: 1, lastError: "finish_reason length")])
        let reader = try LedgerReader(path: ledger.path)
        #expect(try reader.errorsByKind().map(\.kind) == ["truncated"])
    }

    @Test("release puts in-flight rows back without counting the unfinished attempt")
    func releaseUncounts() throws {
        let ledger = try makeLedger(rows: 3)
        let rows = try ledger.claim(limit: 2, nowMs: 0, owner: "w")
        try ledger.complete(0, result: LedgerFixtures.result(0), attempt: LedgerFixtures.attempt(1), nowMs: 1)
        #expect(try ledger.release(rows, nowMs: 2) == 1)  // row 0 is done: left alone
        #expect(try ledger.state(of: 1)! == (ItemState.pending, 0))
        #expect(try ledger.state(of: 0)?.state == .done)
    }

    @Test("rows found in flight when a ledger is reopened are orphans and go back to pending")
    func orphansReleased() throws {
        let path = dir.path("orphans.db")
        do {
            let ledger = try Ledger.create(at: path, run: LedgerFixtures.run(rows: 5), indices: 0..<5, nowMs: 0)
            _ = try ledger.claim(limit: 3, nowMs: 1, owner: "dead")
        }  // the writer goes away with rows in flight, as a killed process would
        let reopened = try Ledger(openForWriting: path)
        #expect(try reopened.counts() == StateCounts(pending: 2, inFlight: 3))
        #expect(try reopened.releaseOrphans(nowMs: 2) == 3)
        #expect(try reopened.counts() == StateCounts(pending: 5))
        #expect(try reopened.claim(limit: 1, nowMs: 3, owner: "w") == [ClaimedRow(index: 0, attempt: 1)])
        #expect(try LedgerReader(path: path).errorsByKind().first { $0.kind == "orphaned" }?.count == 3)
    }

    @Test("reset puts failed rows back to pending, all or listed, and never touches done rows")
    func resetFailed() throws {
        let ledger = try makeLedger(rows: 6)
        _ = try ledger.claim(limit: 6, nowMs: 0, owner: "w")
        for index: Int64 in [0, 2, 4] { try ledger.fail(index, attempt: LedgerFixtures.attempt(1, error: "x"), nowMs: 1) }
        for index: Int64 in [1, 3, 5] { try ledger.complete(index, result: LedgerFixtures.result(index), attempt: LedgerFixtures.attempt(1), nowMs: 1) }
        #expect(try ledger.resetFailed([2, 3, 77], nowMs: 2) == 1)
        #expect(try ledger.state(of: 2)! == (ItemState.pending, 0))
        #expect(try ledger.state(of: 3)?.state == .done)
        #expect(try ledger.resetFailed(nowMs: 3) == 2)
        #expect(try ledger.counts() == StateCounts(pending: 3, done: 3))
    }

    @Test("done rows stream in index order from a starting index")
    func doneRowsInOrder() throws {
        let ledger = try makeLedger(rows: 50)
        let rows = try ledger.claim(limit: 50, nowMs: 0, owner: "w")
        for row in rows.shuffled() {
            try ledger.complete(row.index, result: LedgerFixtures.result(row.index), attempt: LedgerFixtures.attempt(1), nowMs: 1)
        }
        var seen: [Int64] = []
        try LedgerReader(path: ledger.path).forEachDone(from: 10) { seen.append($0.index) }
        #expect(seen == Array(10..<50))
    }

    @Test("a batch of transitions is applied all together or not at all")
    func applyIsAtomic() throws {
        let ledger = try makeLedger(rows: 4)
        let rows = try ledger.claim(limit: 3, nowMs: 0, owner: "w")
        #expect(throws: LedgerError.self) {
            try ledger.apply([.complete(0, LedgerFixtures.result(0), LedgerFixtures.attempt(1)), .fail(3, LedgerFixtures.attempt(1))], nowMs: 1)
        }
        #expect(try ledger.counts() == StateCounts(pending: 1, inFlight: 3))
        let changed = try ledger.apply([
            .complete(0, LedgerFixtures.result(0), LedgerFixtures.attempt(1)),
            .retry(1, atMs: 50, LedgerFixtures.attempt(1, kind: "server_error")),
            .release(rows[2], startedAtMs: 0),
            .release(ClaimedRow(index: 3, attempt: 1), startedAtMs: 0),  // not in flight: skipped
        ], nowMs: 2)
        #expect(changed == 3)
        #expect(try ledger.counts() == StateCounts(pending: 3, done: 1))
    }

    @Test("a row is done if and only if it has exactly one result, after any sequence of transitions")
    func invariantUnderRandomTransitions() throws {
        let ledger = try makeLedger(rows: 200)
        var generator = SeededRandom(seed: 42)
        var now: Int64 = 0
        for _ in 0..<400 {
            now += 1
            let claimed = try ledger.claim(limit: Int(generator.next() % 8), nowMs: now, owner: "w")
            for row in claimed {
                switch generator.next() % 4 {
                case 0: try ledger.complete(row.index, result: LedgerFixtures.result(row.index), attempt: LedgerFixtures.attempt(row.attempt), nowMs: now)
                case 1: try ledger.scheduleRetry(row.index, atMs: now + Int64(generator.next() % 5), attempt: LedgerFixtures.attempt(row.attempt), nowMs: now)
                case 2: try ledger.fail(row.index, attempt: LedgerFixtures.attempt(row.attempt), nowMs: now)
                default: try ledger.release([row], nowMs: now)
                }
            }
            if generator.next() % 50 == 0 { try ledger.resetFailed(nowMs: now) }
        }
        let db = try Connection(path: ledger.path, flags: 1 /* SQLITE_OPEN_READONLY */)
        let mismatch = try db.prepare("""
            SELECT COUNT(*) FROM items i LEFT JOIN results r ON r.idx = i.idx
            WHERE (i.state = 'done') <> (r.idx IS NOT NULL)
            """)
        try mismatch.step(doing: "checking")
        #expect(mismatch.int(0) == 0)
        // The index-based counts agree with a plain scan.
        let scan = try db.prepare("SELECT state, COUNT(*) FROM items GROUP BY state")
        var scanned = StateCounts()
        while try scan.step(doing: "checking") {
            switch scan.text(0) {
            case "pending": scanned.pending = scan.int(1)
            case "in_flight": scanned.inFlight = scan.int(1)
            case "done": scanned.done = scan.int(1)
            default: scanned.failed = scan.int(1)
            }
        }
        #expect(try ledger.counts() == scanned)
        let sums = try db.prepare("SELECT COUNT(*), TOTAL(prompt_tokens) FROM attempts WHERE outcome NOT IN ('abandoned', 'orphaned')")
        try sums.step(doing: "checking")
        #expect(try ledger.usage().attempts == sums.int(0))
        #expect(try ledger.usage().promptTokens == Int(sums.double(1)))
        var done = 0
        try ledger.forEachDone { _ in done += 1 }
        #expect(done == (try ledger.counts().done))
        #expect(try ledger.counts().total == 200)
    }
}

