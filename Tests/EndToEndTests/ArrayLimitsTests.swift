import Foundation
import Testing
import TestSupport

/// One key, many shards: `--max-cost` and `--rpm` for a whole array of `batch run --shard K/N`
/// processes (the real Slurm form is ops/slurm/test-slurm.sh).
@Suite("A Slurm array's --max-cost and --rpm hold for all its shards together")
struct ArrayLimitsTests {
    /// Costs and attempt start times of the shards' ledgers, read with sqlite3-free status calls.
    func totalCost(_ ledgers: [String]) async throws -> (cost: Double, done: Int) {
        let status = try await RunSupport.status(ledgers)
        return (status["cost"] as? Double ?? -1, RunSupport.int(status, "done"))
    }

    @Test("four shards running at once stop within one row's cost of the array's budget, and a resume with a larger one finishes within it",
          .timeLimit(.minutes(2)))
    func budgetHoldsForTheArray() async throws {
        let dir = try TemporaryDirectory("array-budget")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "20"])
        let pattern = dir.path("shard-{shard}.db")
        let ledgers = (0..<4).map { dir.path("shard-\($0).db") }
        // 200 rows at about 0.0031 each cost about 0.62 in all; the array may spend 0.4.
        let runs = try (0..<4).map { k in
            try BatchProcess(["run", "--ledger", pattern, "--shard", "\(k)/4", "--recipe", RunSupport.recipePath, "--num", "200",
                              "--concurrency", "8", "--max-cost", "0.4", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        }
        for run in runs { #expect(await run.exitCode() == 4, "every shard stops at its share of the budget") }
        let stopped = try await totalCost(ledgers)
        #expect(stopped.cost <= 0.4 + 0.005, "the array spent \(stopped.cost) of 0.4")
        #expect(stopped.cost >= 0.4 - 4 * 0.005, "each shard used its share: \(stopped.cost)")

        for ledger in ledgers {
            let resumed = try await runBatch(["resume", "--ledger", ledger, "--max-cost", "0.7"])
            #expect(resumed.status == 0, "\(resumed.output)")
        }
        let finished = try await totalCost(ledgers)
        #expect(finished.done == 200)
        #expect(finished.cost <= 0.7 + 0.005, "\(finished.cost)")
        await sim.stop()
    }

    @Test("four shards share --rpm: together they send at the array's rate, not four times it", .timeLimit(.minutes(2)))
    func rateHoldsForTheArray() async throws {
        let dir = try TemporaryDirectory("array-rpm")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "20"])
        let pattern = dir.path("shard-{shard}.db")
        let started = Date()
        // 240 rows at 2,400 rpm (40 a second) for the array: about 6 s; at 2,400 rpm each, 1.5 s.
        let runs = try (0..<4).map { k in
            try BatchProcess(["run", "--ledger", pattern, "--shard", "\(k)/4", "--recipe", RunSupport.recipePath, "--num", "240",
                              "--concurrency", "8", "--rpm", "2400", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        }
        for run in runs { #expect(await run.exitCode() == 0) }
        let seconds = Date().timeIntervalSince(started)
        let requests = try sim.stats()["requests"] as? Int ?? 0
        await sim.stop()
        #expect(requests == 240)
        // A second of burst (the buckets start full) on top of 40 a second.
        #expect(seconds >= Double(requests - 40) / 40, "240 requests took \(seconds) s: faster than 2,400 rpm")
    }
}
