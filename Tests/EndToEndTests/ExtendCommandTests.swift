import Foundation
import Testing
import TestSupport

/// `batch extend` as a real process on real ledgers: a finished run topped up and resumed, a
/// Slurm-style array extended shard by shard, and the refusals (a run writing the ledger, a
/// total not above the plan, a full disk).
@Suite("batch extend")
struct ExtendCommandTests {
    /// `planned_rows` of the first (or only) ledger in a `status --json` object.
    static func plannedRows(_ status: [String: Any]) -> Int {
        ((status["ledgers"] as? [[String: Any]])?.first?["planned_rows"] as? Int) ?? -1
    }

    @Test("a finished run of 20 rows extended to 35 and resumed exports 35 rows, each its own prompt's, the first 20 byte for byte as before", .timeLimit(.minutes(2)))
    func extendFinishedRun() async throws {
        let dir = try TemporaryDirectory("extend")
        defer { dir.remove() }
        let log = dir.path("sim.jsonl")
        let sim = try await SimulatorProcess(["--log", log])
        let ledger = dir.path("run.db")
        let run = try await RunSupport.run(ledger: ledger, rows: 20, simulator: sim)
        #expect(run.status == 0, "\(run.output)")
        let before = try await RunSupport.export([ledger], in: dir, name: "before")
        #expect(before.indices == Array(0..<20))

        let extend = try await runBatch(["extend", "--ledger", ledger, "--num", "35"])
        #expect(extend.status == 0, "\(extend.output)")
        #expect(extend.stderr.contains("\(ledger): planned 20 -> 35 rows (15 new, pending)"), "\(extend.stderr)")
        #expect(extend.stderr.contains("resume --ledger \(ledger)` to generate them"), "\(extend.stderr)")
        let extended = try await RunSupport.status([ledger])
        #expect(RunSupport.int(extended, "total") == 35 && Self.plannedRows(extended) == 35)
        #expect(RunSupport.int(extended, "done") == 20 && RunSupport.int(extended, "pending") == 15)
        let text = try await runBatch(["status", "--ledger", ledger])
        #expect(text.stdout.contains("35: 20 done"), "\(text.stdout)")

        // Not complete until the new rows are done; a plain export still writes the old rows as they were.
        let incomplete = try await runBatch(["export", "--ledger", ledger, "--output", dir.path("x.jsonl"), "--require-complete"])
        #expect(incomplete.status == 2, "\(incomplete.output)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("x.jsonl")))
        let partial = try await RunSupport.export([ledger], in: dir, name: "partial")
        #expect(partial.lines == before.lines && partial.indices == before.indices)

        // A total not above the plan, or over what one ledger plans, is a usage error and changes nothing.
        for total in ["35", "15"] {
            let refused = try await runBatch(["extend", "--ledger", ledger, "--num", total])
            #expect(refused.status == 64, "\(refused.output)")
            #expect(refused.stderr.contains("it already plans 35 rows, and --num is the new total"), "\(refused.stderr)")
        }
        let tooLarge = try await runBatch(["extend", "--ledger", ledger, "--num", "20000000"])
        #expect(tooLarge.status == 64 && tooLarge.stderr.contains("the limit is 10000000 per ledger"), "\(tooLarge.output)")
        #expect(RunSupport.int(try await RunSupport.status([ledger]), "total") == 35)

        let resumed = try await runBatch(["resume", "--ledger", ledger])
        #expect(resumed.status == 0, "\(resumed.output)")
        let after = try await RunSupport.export([ledger], in: dir, name: "after")
        #expect(after.indices == Array(0..<35))
        let served = try RunSupport.servedOK(log)
        for (line, index) in zip(after.lines, after.indices) {
            let id = RunSupport.generationID(of: line, answering: index)
            #expect(id.map(served.contains) == true, "row \(index) does not answer its own prompt")
        }
        let beforeBytes = try Data(contentsOf: URL(fileURLWithPath: dir.path("before.jsonl")))
        let afterBytes = try Data(contentsOf: URL(fileURLWithPath: dir.path("after.jsonl")))
        #expect(afterBytes.prefix(beforeBytes.count) == beforeBytes, "the first 20 lines are byte for byte the export before extending")
        #expect(try RunSupport.servedOK(log).count == 35, "each new row was generated once, no old row again")
        #expect(RunSupport.int(try await RunSupport.status([ledger]), "attempts") == 35, "no row was sent twice")
        let complete = try await runBatch(["export", "--ledger", ledger, "--output", dir.path("x.jsonl"), "--require-complete"])
        #expect(complete.status == 0, "\(complete.output)")
        await sim.stop()
    }

    @Test("extending is refused while a run writes the ledger, naming its pid; once it stopped, extend and resume finish every row", .timeLimit(.minutes(2)))
    func refusedWhileRunning() async throws {
        let dir = try TemporaryDirectory("extend-running")
        defer { dir.remove() }
        // 200 rows, two at a time, 300 ms each: half a minute, so the run is still going when extend tries.
        let sim = try await SimulatorProcess(["--latency-ms", "300"])
        let ledger = dir.path("run.db")
        let running = try RunSupport.startRun(ledger: ledger, rows: 200, concurrency: 2, simulator: sim)
        try await RunSupport.waitUntilDone(ledger)
        let refused = try await runBatch(["extend", "--ledger", ledger, "--num", "260"])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(refused.stderr.contains("cannot extend the run while it is running: another process (pid \(running.pid)) holds the ledger"), "\(refused.stderr)")
        #expect(refused.stderr.contains("wait for it to finish or stop it") && refused.stderr.contains("Extend once it has stopped"), "\(refused.stderr)")
        let during = try await RunSupport.status([ledger])
        #expect(RunSupport.int(during, "total") == 200 && Self.plannedRows(during) == 200)

        running.signal(SIGTERM)
        #expect(await running.exitCode() == 143)
        let extend = try await runBatch(["extend", "--ledger", ledger, "--num", "260"])
        #expect(extend.status == 0, "\(extend.output)")
        let resumed = try await runBatch(["resume", "--ledger", ledger, "--concurrency", "64"])
        #expect(resumed.status == 0, "\(resumed.output)")
        let export = try await RunSupport.export([ledger], in: dir)
        #expect(export.indices == Array(0..<260))
        await sim.stop()
    }

    @Test("each shard's ledger of an array gains only its own new indices; extended alike, the shards resume and export as one run", .timeLimit(.minutes(2)))
    func shards() async throws {
        let dir = try TemporaryDirectory("extend-shards")
        defer { dir.remove() }
        let sim = try await SimulatorProcess([])
        let pattern = dir.path("run-{shard}.db")
        let ledgers = [dir.path("run-0.db"), dir.path("run-1.db")]
        for k in 0..<2 {
            let run = try await RunSupport.run(ledger: pattern, rows: 9, simulator: sim, ["--shard", "\(k)/2"])
            #expect(run.status == 0, "\(run.output)")
        }
        let wrongShard = try await runBatch(["extend", "--ledger", ledgers[0], "--shard", "1/2", "--num", "15"])
        #expect(wrongShard.status == 64, "\(wrongShard.output)")
        #expect(wrongShard.stderr.contains("holds shard 0/2, not 1/2"), "\(wrongShard.stderr)")

        let first = try await runBatch(["extend", "--ledger", pattern, "--shard", "0/2", "--num", "15"])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.stderr.contains("planned 9 -> 15 rows (3 new in shard 0/2, pending)"), "\(first.stderr)")
        #expect(first.stderr.contains("extend every shard's ledger with --num 15"), "\(first.stderr)")
        let mixed = try await runBatch(["export", "--output", dir.path("mixed.jsonl")] + ledgers.flatMap { ["--ledger", $0] })
        #expect(mixed.status != 0, "shards of different totals are not exported together: \(mixed.output)")

        // The Slurm array's own variables pick the shard, as in a job array task.
        let second = try await runBatch(["extend", "--ledger", pattern, "--num", "15"],
                                        environment: ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2"])
        #expect(second.status == 0, "\(second.output)")
        #expect(second.stderr.contains("planned 9 -> 15 rows (3 new in shard 1/2, pending)"), "\(second.stderr)")
        for k in 0..<2 {
            let resumed = try await runBatch(["resume", "--ledger", pattern, "--shard", "\(k)/2"])
            #expect(resumed.status == 0, "\(resumed.output)")
        }
        let status = try await RunSupport.status(ledgers)
        #expect(RunSupport.int(status, "total") == 15 && RunSupport.int(status, "done") == 15)
        let export = try await RunSupport.export(ledgers, in: dir)
        #expect(export.result.status == 0, "\(export.result.output)")
        #expect(export.indices == Array(0..<15))
        for (line, index) in zip(export.lines, export.indices) {
            #expect(RunSupport.generationID(of: line, answering: index) != nil, "row \(index)")
        }
        await sim.stop()
    }

    @Test("a full disk: exit 7, nothing added, and the ledger still opens", .timeLimit(.minutes(2)))
    func diskFull() async throws {
        let dir = try TemporaryDirectory("extend-disk-full")
        defer { dir.remove() }
        guard let disk = try RunSupport.smallDisk(at: dir.path("disk"), for: "ExtendCommandTests.diskFull") else { return }
        defer { RunSupport.unmount(disk) }
        let sim = try await SimulatorProcess([])
        let ledger = disk + "/run.db"
        let run = try await RunSupport.run(ledger: ledger, rows: 20, simulator: sim)
        #expect(run.status == 0, "\(run.output)")
        // Extending writes no row (the run writes them as it claims them), only the new total: a
        // disk with no block left refuses even that.
        RunSupport.fill(disk)
        let full = try await runBatch(["extend", "--ledger", ledger, "--num", "300000"])
        #expect(full.status == 7, "\(full.output)")
        #expect(full.stderr.contains("disk full") && full.stderr.contains("No row was added"), "\(full.stderr)")
        try FileManager.default.removeItem(atPath: disk + "/filler")
        let status = try await RunSupport.status([ledger])
        #expect(RunSupport.int(status, "total") == 20 && Self.plannedRows(status) == 20 && RunSupport.int(status, "done") == 20)
        let export = try await runBatch(["export", "--ledger", ledger, "--output", "-", "--require-complete"])
        #expect(export.status == 0 && export.stdout.split(separator: "\n").count == 20, "\(export.output)")
        await sim.stop()
    }
}
