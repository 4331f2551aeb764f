import Foundation
import Testing
import TestSupport

/// `batch run`, `resume`, `retry`, `status` and `export` as real processes against a real
/// `batch simulate` over loopback, with real ledger files.
@Suite("batch run, resume, retry, status, export")
struct RunCommandTests {
    @Test("a run with faults of every kind ends with every row done or failed for the right reason, nothing lost")
    func everyFault() async throws {
        let dir = try TemporaryDirectory("run-faults")
        defer { dir.remove() }
        let log = dir.path("sim.jsonl")
        let sim = try await SimulatorProcess([
            "--seed", "3", "--log", log, "--latency-ms", "5", "--retry-after", "1",
            "--fail-429", "0.03", "--fail-500", "0.03", "--fail-502", "0.03", "--fail-503", "0.03", "--fail-timeout", "0.02",
            "--fail-reset", "0.03", "--fail-malformed", "0.03", "--fail-bad-conversation", "0.03", "--fail-truncated", "0.03",
            "--fail-error-in-200", "0.03",
        ])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "300",
                                      "--concurrency", "32", "--base-url", sim.baseURL, "--request-timeout", "3",
                                      "--max-attempts", "10"] + RunSupport.fastRetries)
        let status = try await RunSupport.status([ledger])
        #expect(RunSupport.int(status, "total") == 300)
        #expect(RunSupport.int(status, "pending") == 0 && RunSupport.int(status, "in_flight") == 0)
        let done = RunSupport.int(status, "done"), failed = RunSupport.int(status, "failed")
        #expect(run.status == (failed > 0 ? 6 : 0), "exit 6 exactly when rows failed; \(failed) failed: \(run.output)")
        #expect(done + failed == 300)
        #expect(failed < 30, "truncated answers are retried like other invalid answers; \(failed) failed")
        let errors = status["errors"] as? [String: Int] ?? [:]
        for kind in ["rate_limited", "server_error", "timeout", "truncated", "invalid_conversation"] {
            #expect(errors.keys.contains { $0.contains(kind) || kind.contains($0) }, "no \(kind) in \(errors)")
        }

        // Failed rows failed for a reason that does not clear by retrying, or after exhausting attempts.
        let reader = try await runBatch(["status", "--ledger", ledger])
        #expect(reader.stdout.contains("retry failed rows with: batch retry") == (failed > 0))

        let export = try await RunSupport.export([ledger], in: dir)
        #expect(export.result.status == 0)
        #expect(export.lines.count == done)
        #expect(export.indices == export.indices.sorted() && Set(export.indices).count == done)
        let served = try RunSupport.servedOK(log)
        for (line, index) in zip(export.lines, export.indices) {
            let id = RunSupport.generationID(of: line, answering: index)
            #expect(id != nil, "row \(index) does not answer its own prompt")
            #expect(id.map(served.contains) == true, "row \(index): \(id ?? "-") was never served")
        }
        await sim.stop()
    }

    @Test("SIGTERM stops claiming, lets requests finish, puts the rest back to pending, and resume completes the run")
    func gracefulTerm() async throws {
        let dir = try TemporaryDirectory("run-term")
        defer { dir.remove() }
        // 400 rows at 8 in flight and a second each: a minute, so the signal always lands mid-run,
        // however slowly a loaded machine reads the status.
        let sim = try await SimulatorProcess(["--latency-ms", "1000"])
        let ledger = dir.path("run.db")
        let process = try RunSupport.startRun(ledger: ledger, rows: 400, concurrency: 8, simulator: sim)
        try await waitUntil { (try? await RunSupport.status([ledger])).map { RunSupport.int($0, "done") >= 16 } ?? false }
        process.signal(SIGTERM)
        let code = await process.exitCode()
        #expect(code == 143)
        #expect(process.standardError().contains("batch resume --ledger"))
        let stopped = try await RunSupport.status([ledger])
        #expect(RunSupport.int(stopped, "in_flight") == 0)
        #expect(RunSupport.int(stopped, "pending") > 0)
        #expect(RunSupport.int(stopped, "done") + RunSupport.int(stopped, "pending") == 400)

        let resumed = try await runBatch(["resume", "--ledger", ledger, "--concurrency", "128"])
        #expect(resumed.status == 0, "\(resumed.output)")
        let final = try await RunSupport.status([ledger])
        #expect(RunSupport.int(final, "done") == 400)
        let export = try await RunSupport.export([ledger], in: dir)
        #expect(export.indices == Array(0..<400))
        await sim.stop()
    }

    @Test("a second signal abandons the requests in flight at once: their connections close and every row is pending again")
    func hardStop() async throws {
        let dir = try TemporaryDirectory("run-hard-stop")
        defer { dir.remove() }
        // Answers take a minute and the grace period two: only the second signal can end this soon.
        let sim = try await SimulatorProcess(["--latency-ms", "60000"])
        let ledger = dir.path("run.db")
        let process = try RunSupport.startRun(ledger: ledger, rows: 40, concurrency: 8, simulator: sim, ["--grace-period", "120"])
        try await waitUntil { ((try? sim.stats())?["requests"] as? Int ?? 0) >= 8 }
        // Two different signals: the kernel keeps one pending signal per number, so a second
        // SIGTERM sent at once could merge with the first.
        process.signal(SIGINT)
        process.signal(SIGTERM)
        let code = await process.exitCode()
        #expect(code == 130 || code == 143, "\(process.standardError())")
        let stopped = try await RunSupport.status([ledger])
        #expect(RunSupport.int(stopped, "pending") == 40)
        #expect(RunSupport.int(stopped, "in_flight") == 0 && RunSupport.int(stopped, "done") == 0)
        #expect(RunSupport.int(stopped, "attempts") == 0, "abandoned requests are not attempts")
        try await waitUntil(seconds: 10) { ((try? sim.stats())?["connections_closed"] as? Int ?? 0) >= 8 }
        #expect((try sim.stats()["responses"] as? Int ?? -1) == 0)
        await sim.stop()
    }

    @Test("retry reruns only failed rows, all or listed, and never touches done rows")
    func retryOnlyFailed() async throws {
        let dir = try TemporaryDirectory("run-retry")
        defer { dir.remove() }
        let faulty = try await SimulatorProcess(["--fail-truncated", "0.3", "--seed", "5"])
        let ledger = dir.path("run.db")
        let first = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "60",
                                        "--max-attempts", "1", "--base-url", faulty.baseURL] + RunSupport.fastRetries)
        #expect(first.status == 6, "failed rows: exit 6; \(first.output)")
        await faulty.stop()
        let before = try await RunSupport.export([ledger], in: dir, name: "before")
        let failed = 60 - before.lines.count
        #expect(failed > 2)

        let clean = try await SimulatorProcess([])
        let missing = Set(Int64(0)..<60).subtracting(before.indices).sorted()
        let listed = try await runBatch(["retry", "--ledger", ledger, "--indices", "\(missing[0]),\(missing[1])", "--base-url", clean.baseURL])
        #expect(listed.status == (failed > 2 ? 6 : 0), "other rows are still failed: \(listed.output)")
        #expect(RunSupport.int(try await RunSupport.status([ledger]), "failed") == failed - 2)

        let all = try await runBatch(["retry", "--ledger", ledger, "--base-url", clean.baseURL])
        #expect(all.status == 0)
        let after = try await RunSupport.export([ledger], in: dir, name: "after")
        #expect(after.indices == Array(0..<60))
        let afterByIndex = Dictionary(uniqueKeysWithValues: zip(after.indices, after.lines))
        for (index, line) in zip(before.indices, before.lines) {
            #expect(afterByIndex[index] == line, "done row \(index) changed")
        }
        await clean.stop()
    }

    @Test("a second run on the same ledger is refused, and so is a second writer while one runs")
    func secondRunRefused() async throws {
        let dir = try TemporaryDirectory("run-twice")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "300"])
        let ledger = dir.path("run.db")
        let args = ["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "200", "--concurrency", "2",
                    "--base-url", sim.baseURL] + RunSupport.fastRetries
        let running = try BatchProcess(args)
        try await RunSupport.waitUntilDone(ledger)
        let second = try await runBatch(["resume", "--ledger", ledger])
        #expect(second.status != 0)
        #expect(second.stderr.contains("another process (pid \(running.pid)) holds the ledger"), "\(second.stderr)")
        running.signal(SIGTERM)
        _ = await running.exitCode()

        let same = try await runBatch(args)
        #expect(same.status != 0)
        #expect(same.stderr.contains("already holds this run; continue it with `batch resume"), "\(same.stderr)")
        var other = args
        other[other.firstIndex(of: "200")!] = "300"
        let different = try await runBatch(other)
        #expect(different.status != 0)
        #expect(different.stderr.contains("holds a different run"), "\(different.stderr)")
        await sim.stop()
    }

    @Test("the API key is sent but never stored, logged or exported; a rejected key stops the run before planning, or on resume with every row still resumable")
    func apiKeyNeverLeaks() async throws {
        let dir = try TemporaryDirectory("run-key")
        defer { dir.remove() }
        let secret = "sk-or-test-\(UUID().uuidString)"
        let sim = try BatchProcess(["simulate", "--port", "0", "--require-key-env", "SIM_KEY"], environment: ["SIM_KEY": secret])
        let base = String(try await sim.readLine().dropFirst("listening on ".count)) + "/v1"
        let ledger = dir.path("run.db")
        let good = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "20", "--base-url", base,
                                       "--api-key-env", "MY_KEY"], environment: ["MY_KEY": secret])
        #expect(good.status == 0, "\(good.output)")
        let export = try await RunSupport.export([ledger], in: dir)
        #expect(export.lines.count == 20)
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.url.path) {
            let bytes = try Data(contentsOf: dir.url.appendingPathComponent(file))
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) holds the key")
        }
        #expect(!good.output.contains(secret))

        let badLedger = dir.path("bad.db")
        let bad = try await runBatch(["run", "--ledger", badLedger, "--recipe", RunSupport.recipePath, "--num", "20", "--base-url", base,
                                      "--api-key-env", "MY_KEY"], environment: ["MY_KEY": "sk-wrong-key-value"])
        #expect(bad.status == 3, "\(bad.output)")
        #expect(bad.stderr.contains("MY_KEY"))
        #expect(!bad.output.contains("sk-wrong-key-value"))
        #expect(!FileManager.default.fileExists(atPath: badLedger), "the key is checked before anything is planned")

        let pilotLedger = dir.path("pilot.db")
        let pilot = try await runBatch(["run", "--ledger", pilotLedger, "--recipe", RunSupport.recipePath, "--num", "20", "--pilot", "5",
                                        "--base-url", base, "--api-key-env", "MY_KEY"], environment: ["MY_KEY": secret])
        #expect(pilot.status == 8, "\(pilot.output)")
        let resumed = try await runBatch(["resume", "--ledger", pilotLedger, "--api-key-env", "MY_KEY"], environment: ["MY_KEY": "sk-wrong-key-value"])
        #expect(resumed.status == 3, "\(resumed.output)")
        #expect(!resumed.output.contains("sk-wrong-key-value"))
        let status = try await RunSupport.status([pilotLedger])
        #expect(RunSupport.int(status, "done") == 5 && RunSupport.int(status, "pending") == 15 && RunSupport.int(status, "failed") == 0)
        sim.signal(SIGTERM)
        _ = await sim.exitCode()
    }

    @Test("shards plan disjoint indices, and one export merges them in global order")
    func shardsMerge() async throws {
        let dir = try TemporaryDirectory("run-shards")
        defer { dir.remove() }
        let sim = try await SimulatorProcess([])
        let pattern = dir.path("identity-{shard}.db")
        for k in 0..<3 {
            let result = try await runBatch(["run", "--ledger", pattern, "--shard", "\(k)/3", "--recipe", RunSupport.recipePath,
                                             "--num", "50", "--base-url", sim.baseURL] + RunSupport.fastRetries)
            #expect(result.status == 0, "\(result.output)")
        }
        let ledgers = (0..<3).map { dir.path("identity-\($0).db") }
        let export = try await RunSupport.export(ledgers, in: dir)
        #expect(export.indices == Array(0..<50))
        for (line, index) in zip(export.lines, export.indices) {
            #expect(RunSupport.generationID(of: line, answering: index) != nil)
        }
        let status = try await RunSupport.status(ledgers)
        #expect(RunSupport.int(status, "done") == 50)
        #expect((status["ledgers"] as? [[String: Any]])?.compactMap { $0["shard"] as? String } == ["0/3", "1/3", "2/3"])

        let partial = try await RunSupport.export(Array(ledgers.prefix(2)), in: dir, name: "partial")
        #expect(partial.result.stderr.contains("no ledger given for shards 2"))
        let wrongShard = try await runBatch(["resume", "--ledger", ledgers[0], "--shard", "1/3"])
        #expect(wrongShard.status != 0 && wrongShard.stderr.contains("holds shard 0/3, not 1/3"))
        await sim.stop()
    }

    @Test("export writes the same bytes every time, in the seed's format")
    func exportIsStable() async throws {
        let dir = try TemporaryDirectory("run-export")
        defer { dir.remove() }
        let sim = try await SimulatorProcess([])
        let ledger = dir.path("run.db")
        _ = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "30", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        await sim.stop()
        let a = try await RunSupport.export([ledger], in: dir, name: "a")
        let b = try await RunSupport.export([ledger], in: dir, name: "b")
        #expect(try Data(contentsOf: dir.url.appendingPathComponent("a.jsonl")) == Data(contentsOf: dir.url.appendingPathComponent("b.jsonl")))
        #expect(a.lines.count == 30 && b.lines.count == 30)
        for line in a.lines {
            let messages = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [[String: String]])
            #expect(messages.count >= 2)
            for (i, message) in messages.enumerated() {
                #expect(message["role"] == (i % 2 == 0 ? "user" : "assistant"))
            }
            #expect(line.hasPrefix(#"[{"role": "user", "content": "#))
        }
        let seed = try await runBatch(["export", "--ledger", ledger, "--output", dir.path("seed.jsonl"), "--format", "seed-metadata"])
        #expect(seed.status == 0)
        let first = try String(contentsOfFile: dir.path("seed.jsonl"), encoding: .utf8).split(separator: "\n")[0]
        #expect(first.hasPrefix(#"{"messages": [{"role": "user""#) && first.contains(#"], "metadata": {"topic": "#))
    }

    @Test("--max-cost holds at 1,024 in flight: requests reserve their expected cost, so the spend stops within one request of the budget")
    func budgetAtHighConcurrency() async throws {
        let dir = try TemporaryDirectory("run-budget-1024")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "100"])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "3000",
                                      "--concurrency", "1024", "--max-cost", "1", "--base-url", sim.baseURL])
        #expect(run.status == 4, "\(run.output)")
        let stopped = try await RunSupport.status([ledger])
        let cost = stopped["cost"] as? Double ?? 0
        let done = RunSupport.int(stopped, "done")
        let perRow = cost / Double(max(1, done))
        // Without reservations the first wave alone sent 1,024 requests: about 2.9 credits.
        #expect(cost <= 1 + perRow, "spent \(cost) of a budget of 1 (\(done) rows, \(perRow) each)")
        #expect(cost > 1 - 3 * perRow, "spent \(cost): the budget is used, not left idle")
        #expect(RunSupport.int(stopped, "in_flight") == 0 && RunSupport.int(stopped, "pending") == 3000 - done)
        await sim.stop()
    }

    @Test("--max-cost stops claiming once the recorded cost reaches the budget, and resume with a higher one finishes")
    func budget() async throws {
        let dir = try TemporaryDirectory("run-budget")
        defer { dir.remove() }
        let sim = try await SimulatorProcess([])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "200", "--concurrency", "4",
                                      "--max-cost", "0.02", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        #expect(run.status == 4, "\(run.output)")
        #expect(run.stderr.contains("reached --max-cost"))
        #expect(run.stderr.contains("resume --ledger \(ledger) --max-cost 1.02`"), "the hint names a budget, not a placeholder: \(run.stderr)")
        let stopped = try await RunSupport.status([ledger])
        let cost = stopped["cost"] as? Double ?? 0
        #expect(RunSupport.int(stopped, "done") < 200 && RunSupport.int(stopped, "in_flight") == 0)
        let perRow = cost / Double(max(1, RunSupport.int(stopped, "done")))
        #expect(cost <= 0.02 + perRow, "never past the budget by more than one request: \(cost)")
        #expect(cost > 0.02 - 3 * perRow, "and it spends what fits: \(cost)")
        // status --json projects the whole run's cost and time from the run's own rates.
        let projected = stopped["projected_cost"] as? Double ?? -1
        #expect((stopped["projected_seconds"] as? Double ?? -1) > 0, "\(stopped)")
        let text = try await runBatch(["status", "--ledger", ledger])
        #expect(text.stdout.contains("projected "), "\(text.stdout)")
        let resumed = try await runBatch(["resume", "--ledger", ledger, "--max-cost", "100"])
        #expect(resumed.status == 0)
        let finished = try await RunSupport.status([ledger])
        #expect(RunSupport.int(finished, "done") == 200)
        let total = finished["cost"] as? Double ?? 0
        #expect(abs(projected - total) <= 0.1 * total, "projected \(projected) after \(RunSupport.int(stopped, "done")) rows; the run cost \(total)")
        #expect(finished["projected_cost"] as? Double == total, "a finished run projects what it cost")
        await sim.stop()
    }

    @Test("the circuit breaker stops a run whose every attempt fails the same way, leaving rows resumable")
    func breaker() async throws {
        let dir = try TemporaryDirectory("run-breaker")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--fail-500", "1"])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "100", "--concurrency", "4",
                                      "--breaker", "12", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        #expect(run.status == 5, "\(run.output)")
        #expect(run.stderr.contains("all failed with server_error"))
        let status = try await RunSupport.status([ledger])
        #expect(RunSupport.int(status, "done") == 0 && RunSupport.int(status, "in_flight") == 0)
        #expect(RunSupport.int(status, "pending") + RunSupport.int(status, "failed") == 100)
        #expect((try sim.stats()["requests"] as? Int ?? 0) < 40, "the breaker stops the run early")
        await sim.stop()
    }

    static let badInvocations: [(arguments: [String], message: String)] = [
        (["run", "--ledger", "x.db", "--num", "0"], "--num must be at least 1"),
        (["run", "--ledger", "x.db", "--num", "5", "--concurrency", "0"], "--concurrency must be between 1 and 4096"),
        (["run", "--ledger", "x.db", "--num", "5", "--base-url", "ftp://x"], "--base-url must start with http"),
        (["run", "--ledger", "x.db", "--num", "5", "--recipe", "missing.json"], "missing.json"),
        (["run", "--ledger", "x-{shard}.db", "--num", "5"], "{shard} placeholder"),
        (["run", "--ledger", "x.db", "--num", "5", "--shard", "4/4"], "--shard must be K/N"),
        (["resume", "--ledger", "nothing-here.db"], "no ledger at nothing-here.db"),
        (["retry", "--ledger", "x.db", "--indices", "3,a-b"], "--indices takes numbers"),
        (["export", "--ledger", "nothing-here.db", "--output", "o.jsonl"], "no ledger at nothing-here.db"),
    ]

    @Test("bad flags and files give a clear error and create nothing", arguments: 0..<9)
    func badInvocation(_ i: Int) async throws {
        let dir = try TemporaryDirectory("run-bad")
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path("recipes/nanochat-identity"), withIntermediateDirectories: true)
        for file in ["recipe.json", "prompt.md", "knowledge.md"] {
            try FileManager.default.copyItem(atPath: Fixtures.repositoryRoot.appendingPathComponent("recipes/nanochat-identity/\(file)").path,
                                             toPath: dir.path("recipes/nanochat-identity/\(file)"))
        }
        let (arguments, message) = Self.badInvocations[i]
        let result = try await runBatch(arguments, directory: dir.url.path)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["recipes"])
    }

    @Test("without an API key a real endpoint is refused before any ledger is made, saying how to set the key")
    func missingKey() async throws {
        let dir = try TemporaryDirectory("run-nokey")
        defer { dir.remove() }
        let result = try await runBatch(["run", "--ledger", dir.path("run.db"), "--recipe", RunSupport.recipePath, "--num", "5",
                                         "--api-key-env", "BATCH_TEST_UNSET_KEY"], directory: dir.url.path)
        #expect(result.status != 0)
        #expect(result.stderr.contains("export BATCH_TEST_UNSET_KEY="))
        #expect(!FileManager.default.fileExists(atPath: dir.path("run.db")))
    }
}

/// Waits for a condition by polling (an event we cannot subscribe to: another process's
/// ledger), failing after `seconds`.
func waitUntil(seconds: Double = 60, _ condition: () async -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !(await condition()) {
        guard Date() < deadline else { throw CocoaError(.userCancelled, userInfo: [NSLocalizedDescriptionKey: "condition not met in \(seconds) s"]) }
        try await Task.sleep(for: .milliseconds(20))
    }
}
