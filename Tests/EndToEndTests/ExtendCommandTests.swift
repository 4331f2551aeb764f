import Foundation
import Testing
import TestSupport

/// `batch extend` as a user runs it: real processes, a finished run topped up and resumed.
@Suite("batch extend: top a run up, then resume")
struct ExtendCommandTests {
    @Test("20 done rows extended to 35: the old rows' bytes are kept, the new ones answer their own prompts", .timeLimit(.minutes(2)))
    func extendAndResume() async throws {
        let dir = try TemporaryDirectory("extend")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "2"])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "20",
                                      "--concurrency", "8", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        #expect(run.status == 0, "\(run.output)")
        let before = try await RunSupport.export([ledger], in: dir, name: "before")

        let extended = try await runBatch(["extend", "--ledger", ledger, "--num", "35"])
        #expect(extended.status == 0, "\(extended.output)")
        #expect(extended.stderr.contains("planned 20 -> 35 rows (15 new, pending)"), "\(extended.stderr)")
        let status = try await RunSupport.status([ledger])
        #expect(RunSupport.int(status, "total") == 35 && RunSupport.int(status, "done") == 20 && RunSupport.int(status, "pending") == 15)
        let incomplete = try await runBatch(["export", "--ledger", ledger, "--output", dir.path("x.jsonl"), "--require-complete"])
        #expect(incomplete.status == 2, "\(incomplete.output)")
        // The same total again, or a smaller one, changes nothing.
        let again = try await runBatch(["extend", "--ledger", ledger, "--num", "35"])
        #expect(again.status == 1 && again.stderr.contains("already plans 35 rows"), "\(again.output)")
        #expect(try SQLiteProbe.integer(ledger, "SELECT COUNT(*) FROM items") == 35)

        let resumed = try await runBatch(["resume", "--ledger", ledger, "--base-url", sim.baseURL])
        #expect(resumed.status == 0, "\(resumed.output)")
        await sim.stop()
        let after = try await RunSupport.export([ledger], in: dir, name: "after")
        #expect(after.lines.count == 35)
        #expect(Array(after.lines.prefix(20)) == before.lines, "the first 20 lines are byte for byte those before extending")
        #expect(after.indices == Array(0..<35))
        for (line, index) in zip(after.lines, after.indices) {
            #expect(RunSupport.generationID(of: line, answering: index) != nil, "row \(index) answers its own prompt")
        }
        #expect(try SQLiteProbe.integer(ledger, "SELECT COUNT(*) FROM attempts") == 35, "no row was sent twice")
    }

    @Test("shards get their share of the new indices; their export is the whole new range once", .timeLimit(.minutes(2)))
    func shards() async throws {
        let dir = try TemporaryDirectory("extend-shards")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "2"])
        let pattern = dir.path("s{shard}.db")
        for k in 0..<3 {
            let run = try await runBatch(["run", "--ledger", pattern, "--shard", "\(k)/3", "--recipe", RunSupport.recipePath, "--num", "10",
                                          "--concurrency", "4", "--base-url", sim.baseURL] + RunSupport.fastRetries)
            #expect(run.status == 0, "\(run.output)")
            let extended = try await runBatch(["extend", "--ledger", pattern, "--shard", "\(k)/3", "--num", "25"])
            #expect(extended.status == 0, "\(extended.output)")
            let resumed = try await runBatch(["resume", "--ledger", pattern, "--shard", "\(k)/3", "--base-url", sim.baseURL])
            #expect(resumed.status == 0, "\(resumed.output)")
        }
        let wrong = try await runBatch(["extend", "--ledger", dir.path("s0.db"), "--shard", "1/3", "--num", "30"])
        #expect(wrong.status == 64 && wrong.stderr.contains("holds shard 0/3"), "\(wrong.output)")
        await sim.stop()
        let ledgers = (0..<3).map { dir.path("s\($0).db") }
        let export = try await RunSupport.export(ledgers, in: dir)
        #expect(export.result.status == 0, "\(export.result.output)")
        #expect(export.indices == Array(0..<25))
        #expect(try (0..<3).map { try SQLiteProbe.integer(ledgers[$0], "SELECT COUNT(*) FROM items") } == [9, 8, 8])
    }

    @Test("while a run writes the ledger, extend is refused naming the writer, and changes nothing", .timeLimit(.minutes(2)))
    func refusedWhileRunning() async throws {
        let dir = try TemporaryDirectory("extend-busy")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "300"])
        let ledger = dir.path("run.db")
        let running = try RunSupport.startRun(ledger: ledger, rows: 100, concurrency: 2, simulator: sim)
        try await waitUntil {
            guard FileManager.default.fileExists(atPath: ledger), let status = try? await RunSupport.status([ledger]) else { return false }
            return RunSupport.int(status, "done") > 0
        }
        let busy = try await runBatch(["extend", "--ledger", ledger, "--num", "150"])
        #expect(busy.status == 1 && busy.stderr.contains("another process (pid \(running.pid)) holds the ledger"), "\(busy.output)")
        running.signal(SIGTERM)
        #expect(await running.exitCode() == 143)
        await sim.stop()
        #expect(try SQLiteProbe.integer(ledger, "SELECT planned_rows FROM run") == 100)
        #expect(try SQLiteProbe.integer(ledger, "SELECT COUNT(*) FROM items") == 100)
    }
}
