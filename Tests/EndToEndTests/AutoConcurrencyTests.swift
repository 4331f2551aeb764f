import Foundation
import Testing
import TestSupport

/// `--concurrency auto` as real processes: `batch run` against `batch simulate --capacity`, a
/// server that queues past its capacity and never answers 429.
@Suite("batch run --concurrency auto against a server that queues")
struct AutoConcurrencyTests {
    @Test("it finds the capacity from latency alone: every row done, the queue kept short, the window and its reason in status",
          .timeLimit(.minutes(2)))
    func findsCapacity() async throws {
        let dir = try TemporaryDirectory("auto-concurrency")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--capacity", "16", "--service-ms", "100"])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "480",
                                      "--concurrency", "auto:256", "--base-url", sim.baseURL])
        #expect(run.status == 0, "\(run.output)")
        let status = try await RunSupport.status([ledger])
        #expect(RunSupport.int(status, "done") == 480)
        let shard = (status["ledgers"] as? [[String: Any]])?.first ?? [:]
        let window = shard["window"] as? Int ?? -1
        let reason = shard["window_reason"] as? String ?? ""
        // 16 served at once; the window never runs far above it, let alone to 256. (How close
        // it stays below is the benchmark's business, workload (h): on a loaded machine the
        // client's own delays read as the server's queue.)
        #expect(window >= 1 && window <= 32, "window \(window) (\(reason))")
        #expect(["latency", "growth"].contains(reason), "\(reason)")
        let stats = try sim.stats()
        let peakQueued = stats["peak_queued"] as? Int ?? -1
        #expect(peakQueued >= 0 && peakQueued <= 32, "a fixed window of 256 would queue 240; auto queued at most \(peakQueued)")
        let text = try await runBatch(["status", "--ledger", ledger])
        #expect(text.stdout.contains("window    \(window) requests in flight at most"), "\(text.stdout)")
        await sim.stop()
    }

    @Test("--concurrency rejects what it cannot read, saying what it takes", arguments: ["auto:0", "auto:x", "many", "0", "5000"])
    func badValues(value: String) async throws {
        let result = try await runBatch(["run", "--ledger", "/nonexistent/x.db", "--num", "1", "--concurrency", value])
        #expect(result.status == 64, "\(result.output)")
        #expect(result.output.contains("--concurrency"), "\(result.output)")
    }
}
