import Foundation
import Testing
import TestSupport

/// Issue #11, item 6: truncated answers are retried, a key with a line break is refused, the
/// early ETA uses the run's own rate, and resume reports a damaged ledger.
@Suite("smaller holes")
struct SmallHolesTests {
    @Test("truncated answers (finish_reason length) are retried like other invalid answers, so every row ends done")
    func truncatedRetried() async throws {
        let dir = try TemporaryDirectory("holes-truncated")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--fail-truncated", "0.5", "--seed", "3"])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "40",
                                      "--max-attempts", "30", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        #expect(run.status == 0, "\(run.output)")
        let status = try await RunSupport.status([ledger])
        #expect(RunSupport.int(status, "done") == 40)
        #expect(((status["errors"] as? [String: Int])?["truncated"] ?? 0) > 0, "the simulator did truncate answers")
        await sim.stop()
    }

    @Test("an API key containing CR/LF is refused with a clear error before anything is created or sent")
    func keyWithLineBreak() async throws {
        let dir = try TemporaryDirectory("holes-key")
        defer { dir.remove() }
        for key in ["sk-or-abc\r\nX-Injected: yes", "sk-or-abc\nX-Injected: yes"] {
            let result = try await runBatch(["run", "--ledger", dir.path("run.db"), "--recipe", RunSupport.recipePath, "--num", "1",
                                             "--base-url", "https://api.invalid/v1", "--api-key-env", "BATCH_TEST_BAD_KEY"],
                                            directory: dir.url.path, environment: ["BATCH_TEST_BAD_KEY": key])
            #expect(result.status == 1, "\(result.output)")
            #expect(result.stderr.contains("BATCH_TEST_BAD_KEY") && result.stderr.contains("line break"), "\(result.stderr)")
            #expect(!result.output.contains("X-Injected"), "the key is never shown")
            #expect(!FileManager.default.fileExists(atPath: dir.path("run.db")))
        }
    }

    @Test("early in a run, status's rate and ETA use the run's own time, not a full minute")
    func earlyETA() async throws {
        let dir = try TemporaryDirectory("holes-eta")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "100"])
        let ledger = dir.path("run.db")
        let process = try RunSupport.startRun(ledger: ledger, rows: 400, concurrency: 4, simulator: sim)
        var status: [String: Any] = [:]
        try await waitUntil {
            guard let now = try? await RunSupport.status([ledger]) else { return false }
            status = now
            return RunSupport.int(now, "done") >= 40
        }
        // About 40 rows/s: some 9 s to go. A rate over a full minute would say 6 minutes or more.
        let eta = try #require(status["eta_seconds"] as? Double)
        #expect(eta < 60, "ETA \(eta) s with \(RunSupport.int(status, "done")) done")
        #expect((status["rows_per_second"] as? Double ?? 0) > 5)
        process.signal(SIGTERM)
        _ = await process.exitCode()
        await sim.stop()
    }

    @Test("resume on a ledger with a damaged middle page says damaged, as status does, instead of finished")
    func resumeDamaged() async throws {
        let dir = try TemporaryDirectory("holes-damaged")
        defer { dir.remove() }
        let sim = try await SimulatorProcess([])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "300",
                                      "--concurrency", "32", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        #expect(run.status == 0, "\(run.output)")
        await sim.stop()
        // Overwrite the start of the middle page (its b-tree header).
        let handle = try #require(FileHandle(forUpdatingAtPath: ledger))
        let header = try #require(try handle.read(upToCount: 100))
        let pageSize = Int(header[16]) << 8 | Int(header[17])
        let pages = header[28..<32].reduce(0) { $0 << 8 | Int($1) }
        try handle.seek(toOffset: UInt64((pages / 2 - 1) * pageSize))
        try handle.write(contentsOf: Data(repeating: 0xff, count: 64))
        try handle.close()

        let status = try await runBatch(["status", "--ledger", ledger])
        #expect(status.status == 1 && status.stderr.contains("damaged"), "\(status.output)")
        let resume = try await runBatch(["resume", "--ledger", ledger])
        #expect(resume.status == 1, "\(resume.output)")
        #expect(resume.stderr.contains("damaged") && !resume.output.contains("finished"), "\(resume.output)")
    }
}
