import Foundation
import Recipe
import Testing
import TestSupport
import Wire

/// `--mode batch` as real processes against `batch simulate`'s Batch APIs.
@Suite("--mode batch: the provider Batch APIs over the same ledger")
struct BatchModeTests {
    static let faults = ["--batch-turnaround-ms", "300", "--batch-request-errors", "0.05", "--batch-expire", "0.2",
                         "--batch-fail", "0.05", "--batch-create-429", "0.2", "--batch-poll-500", "0.1"]
    static let fast = ["--mode", "batch", "--batch-size", "50", "--poll-interval", "0.05", "--max-attempts", "50"]

    /// Every index exactly once, each answering its own prompt, and the provider billed each done row once.
    static func expectExactlyOnce(_ ledger: String, rows: Int, sim: SimulatorProcess, in dir: TemporaryDirectory) async throws {
        let status = try await RunSupport.status([ledger])
        #expect(RunSupport.int(status, "done") == rows && RunSupport.int(status, "failed") == 0, "\(status)")
        let export = try await RunSupport.export([ledger], in: dir)
        #expect(export.indices == (0..<Int64(rows)).map { $0 })
        for (line, index) in zip(export.lines, export.indices) where RunSupport.generationID(of: line, answering: index) == nil {
            Issue.record("row \(index) does not answer its own prompt: \(line.prefix(120))")
            break
        }
        let stats = try sim.stats()
        #expect(stats["batch_billed_requests"] as? Int == rows, "billed \(stats["batch_billed_requests"] ?? "?") answers for \(rows) rows")
        let billed = stats["billed"] as? Double ?? -1, cost = status["cost"] as? Double ?? -2
        #expect(abs(billed - cost) < 1e-9, "the ledger's cost \(cost) is what the provider billed, \(billed)")
        // Every answer at half the model list's price: saved as much as was paid.
        let saved = status["batch_savings"] as? Double ?? -1
        #expect(abs(saved - cost) < 1e-6, "saved \(saved) against the online price, paid \(cost)")
    }

    @Test("both APIs, with failed, expired and erroring batches, 429s on create and 500s on poll: every row done once, at the batch price",
          .timeLimit(.minutes(2)), arguments: ["openai", "openrouter"])
    func runsThroughFaults(api: String) async throws {
        let dir = try TemporaryDirectory("batch-mode")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(Self.faults)
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "400",
                                      "--batch-api", api, "--base-url", sim.baseURL] + Self.fast)
        #expect(run.status == 0, "\(run.output.suffix(2_000))")
        try await Self.expectExactlyOnce(ledger, rows: 400, sim: sim, in: dir)
        await sim.stop()
    }

    /// OpenAI's API ignores idempotency keys: there a lost create is found by listing the batches.
    @Test("killed with SIGKILL at random moments, submissions included, and resumed: no row lost, none paid twice",
          .timeLimit(.minutes(3)), arguments: ["openai", "openrouter"])
    func killAndResume(api: String) async throws {
        let dir = try TemporaryDirectory("batch-crash")
        defer { dir.remove() }
        // Each create is answered 150 ms after its batch was made: many kills land in between.
        let sim = try await SimulatorProcess(
            Self.faults + ["--batch-create-delay-ms", "150"] + (api == "openai" ? ["--batch-no-idempotency"] : []))
        let ledger = dir.path("run.db"), rows = 800
        var random = SeededRandom(seed: 11)
        var arguments = ["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "\(rows)",
                         "--batch-api", api, "--base-url", sim.baseURL] + Self.fast
        var kills = 0
        while kills < 10 {
            let process = try BatchProcess(arguments)
            // The kill's moment: anywhere in the first 0.6 s (planning, claims, creates, polls, collects).
            try await Task.sleep(for: .milliseconds(Int(random.next() % 600)))
            guard process.process.isRunning else { break }
            process.signal(SIGKILL)
            _ = await process.exitCode()
            kills += 1
            if FileManager.default.fileExists(atPath: ledger) { arguments = ["resume", "--ledger", ledger] }
        }
        let last = try await runBatch(["resume", "--ledger", ledger])
        #expect(last.status == 0, "\(last.output.suffix(2_000))")
        #expect(kills >= 5, "only \(kills) kills landed before the run finished")
        try await Self.expectExactlyOnce(ledger, rows: rows, sim: sim, in: dir)
        await sim.stop()
    }

    @Test("SIGTERM leaves open batches running and exits at once; resume collects them without sending their rows again",
          .timeLimit(.minutes(2)))
    func termLeavesBatchesOpen() async throws {
        let dir = try TemporaryDirectory("batch-term")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--batch-turnaround-ms", "6000"])
        let ledger = dir.path("run.db")
        let process = try BatchProcess(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "200",
                                        "--base-url", sim.baseURL] + Self.fast)
        try await waitUntil { ((try? sim.stats())?["batches_created"] as? Int ?? 0) >= 4 }
        process.signal(SIGTERM)
        #expect(await process.exitCode() == 128 + SIGTERM)
        let stopped = try await RunSupport.status([ledger])
        // Every row is done (a batch that ended before the signal was collected) or held by an open batch.
        let open = RunSupport.int(stopped, "batches_open"), held = RunSupport.int(stopped, "rows_in_batches")
        #expect(open >= 1 && held == RunSupport.int(stopped, "in_flight") && held + RunSupport.int(stopped, "done") == 200, "\(stopped)")
        #expect(RunSupport.int(stopped, "pending") == 0)
        let text = try await runBatch(["status", "--ledger", ledger])
        #expect(text.stdout.contains("\(open) provider batches open, holding \(held) rows (`batch resume` collects them): batch_sim_"), "\(text.stdout)")
        let created = try sim.stats()["batches_created"] as? Int ?? 0
        let resumed = try await runBatch(["resume", "--ledger", ledger])
        #expect(resumed.status == 0, "\(resumed.output.suffix(2_000))")
        #expect(try sim.stats()["batches_created"] as? Int == created, "the open batches were collected, not sent again")
        try await Self.expectExactlyOnce(ledger, rows: 200, sim: sim, in: dir)
        await sim.stop()
    }

    @Test("cancel-batches cancels the open batches, keeps what they finished, and a resume sends only the rest",
          .timeLimit(.minutes(2)))
    func cancelBatches() async throws {
        let dir = try TemporaryDirectory("batch-cancel")
        defer { dir.remove() }
        // Batches that never finish on their own (a minute to answer them all): only a cancel ends them.
        let sim = try await SimulatorProcess(["--batch-stuck", "1", "--batch-turnaround-ms", "60000", "--latency-ms", "20"])
        let ledger = dir.path("run.db")
        let process = try BatchProcess(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "200",
                                        "--base-url", sim.baseURL] + Self.fast)
        try await waitUntil { ((try? sim.stats())?["batches_created"] as? Int ?? 0) >= 4 }
        process.signal(SIGTERM)
        _ = await process.exitCode()
        let cancel = try await runBatch(["cancel-batches", "--ledger", ledger])
        #expect(cancel.status == 0, "\(cancel.output)")
        #expect(cancel.stderr.contains("asked the provider to cancel 4 of 4 open batches"), "\(cancel.stderr)")
        let after = try await RunSupport.status([ledger])
        #expect(RunSupport.int(after, "batches_open") == 0 && RunSupport.int(after, "in_flight") == 0, "\(after)")
        #expect(RunSupport.int(after, "done") + RunSupport.int(after, "pending") == 200)
        #expect(RunSupport.int(after, "pending") > 0, "cancelled early, most rows were not answered: \(after)")
        let keptInBatches = try sim.stats()["batch_billed_requests"] as? Int ?? -1
        #expect(keptInBatches == RunSupport.int(after, "done"), "what the batches finished is kept")
        let again = try await runBatch(["cancel-batches", "--ledger", ledger])
        #expect(again.status == 0 && again.stderr.contains("no open provider batches"), "\(again.output)")
        // The rest: batches would never finish here, so the resume finishes online at once.
        let resumed = try await runBatch(["resume", "--ledger", ledger, "--finish-online-after", "0"])
        #expect(resumed.status == 0, "\(resumed.output.suffix(2_000))")
        let stats = try sim.stats()
        let online = (stats["outcomes"] as? [String: Int])?["ok"] ?? -1
        #expect((stats["batch_billed_requests"] as? Int ?? -1) + online == 200, "no row paid twice")
        let export = try await RunSupport.export([ledger], in: dir)
        #expect(export.indices == (0..<Int64(200)).map { $0 })
        await sim.stop()
    }

    @Test("batch demo --mode batch runs the demo through the simulated Batch API in seconds", .timeLimit(.minutes(1)))
    func demo() async throws {
        let dir = try TemporaryDirectory("batch-demo")
        defer { dir.remove() }
        let demo = try await runBatch(["demo", "--mode", "batch", "--output-dir", dir.path("out")])
        #expect(demo.status == 0, "\(demo.output.suffix(2_000))")
        #expect(demo.stdout.contains("200 conversations from") && demo.stdout.contains("simulated provider batches at half price"), "\(demo.stdout)")
        let lines = try String(contentsOfFile: dir.path("out/demo.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 200)
    }

    @Test("--finish-online-after: batches that have not finished by the deadline are cancelled, what they finished is kept, the rest runs online",
          .timeLimit(.minutes(2)))
    func hedgedFinish() async throws {
        let dir = try TemporaryDirectory("batch-hedge")
        defer { dir.remove() }
        // Batches that never finish on their own: only the hedge gets the run done.
        let sim = try await SimulatorProcess(["--batch-stuck", "1", "--batch-turnaround-ms", "20000", "--latency-ms", "20"])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "200",
                                      "--finish-online-after", "4", "--base-url", sim.baseURL] + Self.fast)
        #expect(run.status == 0, "\(run.output.suffix(2_000))")
        #expect(run.stderr.contains("rows go online now"), "\(run.stderr.suffix(2_000))")
        let status = try await RunSupport.status([ledger])
        #expect(RunSupport.int(status, "done") == 200 && RunSupport.int(status, "batches_open") == 0, "\(status)")
        let stats = try sim.stats()
        let inBatches = stats["batch_billed_requests"] as? Int ?? -1
        let online = (stats["outcomes"] as? [String: Int])?["ok"] ?? -1
        #expect(inBatches > 0 && online > 0, "a mixed finish: \(inBatches) in batches, \(online) online")
        #expect(inBatches + online == 200, "no row paid twice: \(inBatches) answered in batches, \(online) online")
        let export = try await RunSupport.export([ledger], in: dir)
        #expect(export.indices == (0..<Int64(200)).map { $0 })
        await sim.stop()
    }
}
