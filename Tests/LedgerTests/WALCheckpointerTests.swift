import Foundation
import Testing
import TestSupport
@testable import Ledger

/// The writer's commits leave checkpoints to a thread of their own (`WALCheckpointer`).
@Suite("Checkpointing the WAL off the writer's thread")
struct WALCheckpointerTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("checkpoint") }

    private func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    @Test("a run's writes are checkpointed in the background, the WAL stays bounded, and closing removes it")
    func backgroundCheckpoints() async throws {
        let path = dir.path("run.db")
        var ledger: Ledger? = try Ledger.create(
            at: path, run: LedgerFixtures.run(rows: 20_000), indices: 0..<Int64(20_000), nowMs: 1)
        // About 8 KB of result a row, committed 64 rows at a time: far past 1,000 WAL pages.
        let big = String(repeating: "x", count: 8_000)
        var largestWAL = 0
        for batch in 0..<60 {
            let rows = try #require(ledger).claim(limit: 64, nowMs: Int64(10 + batch), owner: "t")
            try #require(ledger).apply(rows.map { row in
                var result = LedgerFixtures.result(row.index)
                result.line = #"[{"role": "user", "content": "\#(big)"}]"#
                return .complete(row.index, result, LedgerFixtures.attempt(row.attempt))
            }, nowMs: Int64(10 + batch))
            largestWAL = max(largestWAL, size(path + "-wal"))
        }
        // The checkpointer answers the writer's hook: wait for it to have run, not for a time.
        let deadline = ContinuousClock.now + .seconds(60)
        while try #require(ledger).backgroundCheckpoints == 0 {
            try #require(ContinuousClock.now < deadline, "no background checkpoint within 60 s")
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(try #require(ledger).counts().done == 60 * 64)
        // 60 commits of ~130 pages each, without a pause: the WAL outgrew the checkpoints (36 MB
        // before commits waited past `limitFrames`); now it stays under that and one commit.
        #expect(largestWAL < 20 << 20, "the WAL grew to \(largestWAL) bytes")
        ledger = nil
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the last connection's close checkpoints and removes the WAL")
        let reader = try LedgerReader(path: path)
        #expect(try reader.counts().done == 60 * 64)
    }
}
