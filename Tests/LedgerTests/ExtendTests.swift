import Foundation
import Testing
import TestSupport
@testable import Ledger

@Suite("Extending a run's plan")
struct ExtendTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("extend") }

    func makeLedger(_ name: String = "run.db", rows: Int64, shard: Shard? = nil) throws -> Ledger {
        try Ledger.create(
            at: dir.path(name), run: LedgerFixtures.run(rows: rows, shard: shard), indices: shardIndices(num: rows, shard: shard),
            nowMs: 0)
    }

    /// Column 0 of every row `sql` returns, as text.
    func texts(_ ledger: Ledger, _ sql: String) throws -> [String] {
        let s = try ledger.db.prepare(sql)
        var out: [String] = []
        while try s.step(doing: "reading") { out.append(s.text(0)) }
        return out
    }

    /// The plan: the rows written into `items`, then those still to be written as claims reach them (`LazyPlan`).
    func plannedIndices(_ ledger: Ledger) throws -> [Int64] {
        try texts(ledger, "SELECT idx FROM items ORDER BY idx").map { Int64($0)! } + Array(LazyPlan.unplanned(ledger.db) ?? IndexProgression(from: 0, to: 0))
    }

    func writtenRows(_ ledger: Ledger) throws -> Int {
        try texts(ledger, "SELECT COUNT(*) FROM items").first.flatMap { Int($0) } ?? -1
    }

    /// Every item and result of indices below `bound`, column by column (lines as hex: byte for byte).
    func snapshot(_ ledger: Ledger, below bound: Int64) throws -> [String] {
        try texts(ledger, """
            SELECT quote(idx) || '|' || quote(state) || '|' || quote(attempts) || '|' || quote(next_attempt_ms) || '|' ||
                   quote(lease_owner) || '|' || quote(last_error) || '|' || quote(updated_at_ms)
            FROM items WHERE idx < \(bound) ORDER BY idx
            """) + texts(ledger, """
            SELECT quote(idx) || '|' || hex(line) || '|' || quote(topic) || '|' || quote(generation_id) || '|' ||
                   quote(prompt_tokens) || '|' || quote(cost) || '|' || quote(finished_at_ms)
            FROM results ORDER BY idx
            """) + texts(ledger, "SELECT count(*) || '|' || max(id) FROM attempts")
    }

    @Test("extending raises the planned rows and plans exactly the new indices, pending")
    func plansNewIndices() throws {
        let ledger = try makeLedger(rows: 20)
        let plan = try ledger.extend(toPlannedRows: 35, nowMs: 9)
        #expect(plan == PlanExtension(oldPlannedRows: 20, newPlannedRows: 35, added: 15))
        #expect(try ledger.run().plannedRows == 35)
        #expect(try ledger.counts() == StateCounts(pending: 35))
        #expect(try plannedIndices(ledger) == Array(0..<35))
        #expect(try ledger.state(of: 34)?.state == .pending && ledger.state(of: 34)?.attempts == 0)
        #expect(try ledger.claim(limit: 100, nowMs: 10, owner: "w").map(\.index) == Array(0..<35))
    }

    @Test("done, failed, retried and in-flight rows, their results and the audit trail are left byte for byte as they were")
    func oldRowsUntouched() throws {
        let ledger = try makeLedger(rows: 10)
        let claimed = try ledger.claim(limit: 6, nowMs: 1, owner: "w")
        for row in claimed.prefix(3) {
            try ledger.complete(row.index, result: LedgerFixtures.result(row.index), attempt: LedgerFixtures.attempt(1, cost: 0.25), nowMs: 2)
        }
        try ledger.fail(claimed[3].index, attempt: LedgerFixtures.attempt(1, kind: "bad", error: "no"), nowMs: 3)
        try ledger.scheduleRetry(claimed[4].index, atMs: 500, attempt: LedgerFixtures.attempt(1, kind: "rate_limited"), nowMs: 4)
        let before = try snapshot(ledger, below: 10)
        let usage = try ledger.usage()

        _ = try ledger.extend(toPlannedRows: 1_000, nowMs: 99)
        #expect(try snapshot(ledger, below: 10) == before)
        #expect(try ledger.usage() == usage)
        #expect(try ledger.counts() == StateCounts(pending: 5 + 990, inFlight: 1, done: 3, failed: 1))
        var done: [Int64] = []
        try ledger.forEachDone { done.append($0.index) }
        #expect(done == [0, 1, 2])
    }

    @Test("a shard's ledger gains only the new indices its shard owns, as creation picks them", arguments: [
        (Shard(index: 0, count: 4), Int64(10), Int64(23)),
        (Shard(index: 3, count: 4), Int64(10), Int64(23)),
        (Shard(index: 1, count: 3), Int64(2), Int64(3)),  // the shard had no index yet and gains none
        (Shard(index: 2, count: 3), Int64(2), Int64(9)),  // the shard had no index yet
        (Shard(index: 1, count: 2), Int64(7), Int64(8)),  // the one new index is another shard's
        (Shard(index: 0, count: 1), Int64(5), Int64(9)),
    ])
    func shardGetsItsShare(shard: Shard, from old: Int64, to new: Int64) throws {
        let ledger = try makeLedger("shard.db", rows: old, shard: shard)
        let plan = try ledger.extend(toPlannedRows: new, nowMs: 1)
        let expected = Array(shardIndices(num: new, shard: shard))
        #expect(try plannedIndices(ledger) == expected)
        #expect(plan.added == expected.count - Array(shardIndices(num: old, shard: shard)).count)
        #expect(try ledger.run().plannedRows == new)
        #expect(try ledger.run().shard == shard)
    }

    @Test("a total not above the planned rows is refused and changes nothing", arguments: [Int64(20), 19, 1])
    func refusesSmallerTotal(total: Int64) throws {
        let ledger = try makeLedger(rows: 20)
        #expect {
            try ledger.extend(toPlannedRows: total, nowMs: 1)
        } throws: { error in
            guard let error = error as? LedgerError else { return false }
            return error.code == .invalidPlan && error.message.contains("already plans 20 rows")
        }
        #expect(try ledger.run().plannedRows == 20)
        #expect(try ledger.counts() == StateCounts(pending: 20))
    }

    @Test("a claim that fails part-way through writing the extended plan (after a first chunk of 65,536 rows) leaves the ledger as it was")
    func atomic() throws {
        let ledger = try makeLedger(rows: 10)
        _ = try ledger.extend(toPlannedRows: 200_000, nowMs: 1)
        // A temporary trigger (on this connection only) that fails the plan at index 100,000.
        try ledger.db.execute("""
            CREATE TEMP TRIGGER refuse_one BEFORE INSERT ON items WHEN NEW.idx = 100000
            BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
            """, doing: "adding a test trigger")
        #expect(throws: LedgerError.self) { try ledger.claim(limit: 150_000, nowMs: 2, owner: "w") }
        #expect(try ledger.run().plannedRows == 200_000)
        #expect(try ledger.counts() == StateCounts(pending: 200_000))
        #expect(try writtenRows(ledger) == 10)
        try ledger.db.execute("DROP TRIGGER refuse_one", doing: "dropping the test trigger")
        #expect(try ledger.claim(limit: 150_000, nowMs: 2, owner: "w").map(\.index) == Array(0..<150_000))
        #expect(try ledger.counts() == StateCounts(pending: 50_000, inFlight: 150_000))
    }

    @Test("a million new rows cost nothing until the run claims them: none is written by extend")
    func large() throws {
        let ledger = try makeLedger(rows: 10)
        let plan = try ledger.extend(toPlannedRows: 1_000_010, nowMs: 1)
        #expect(plan.added == 1_000_000)
        #expect(try ledger.counts().pending == 1_000_010)
        #expect(try writtenRows(ledger) == 10)
        #expect(try ledger.claim(limit: 64, nowMs: 2, owner: "w").map(\.index) == Array(0..<64))
        #expect(try writtenRows(ledger) == 10 + Int(LazyPlan.chunkRows))
    }

    @Test("the writer lock is needed: a second writer of the same file is refused while one has it open")
    func needsWriterLock() throws {
        let ledger = try makeLedger(rows: 5)
        #expect {
            _ = try Ledger(openForWriting: dir.path("run.db"))
        } throws: { error in
            (error as? LedgerError)?.code == .locked
        }
        _ = try ledger.extend(toPlannedRows: 6, nowMs: 1)
        #expect(try ledger.run().plannedRows == 6)
    }

    @Test("a progression without its indices below a bound", arguments: [
        (IndexProgression(from: 0, to: 10), Int64(4)),
        (IndexProgression(from: 0, to: 10), Int64(0)),
        (IndexProgression(from: 0, to: 10), Int64(10)),
        (IndexProgression(from: 0, to: 10), Int64(15)),
        (IndexProgression(from: 3, to: 30, by: 4), Int64(3)),
        (IndexProgression(from: 3, to: 30, by: 4), Int64(4)),
        (IndexProgression(from: 3, to: 30, by: 4), Int64(7)),
        (IndexProgression(from: 3, to: 30, by: 4), Int64(8)),
        (IndexProgression(from: 3, to: 30, by: 4), Int64(-5)),
        (IndexProgression(from: 3, to: .max, by: 4), Int64.max - 1),
    ])
    func startingAtLeast(progression: IndexProgression, bound: Int64) {
        let tail = progression.starting(atLeast: bound)
        #expect(tail.step == progression.step && tail.end == progression.end)
        if progression.end - progression.start < 100 {
            #expect(Array(tail) == Array(progression).filter { $0 >= bound })
        } else {
            #expect(tail.start >= bound && (tail.start - progression.start) % progression.step == 0 || tail.start >= tail.end)
        }
    }
}
