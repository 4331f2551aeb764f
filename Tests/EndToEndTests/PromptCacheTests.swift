import Foundation
import Testing
import TestSupport

/// Prompt-cache accounting as real processes: `batch simulate --prompt-cache` answers like a
/// provider with an implicit prefix cache, and `batch status` shows what it saved.
@Suite("Prompt caching made visible: cached tokens and savings in the ledger and status")
struct PromptCacheTests {
    @Test("every cached token the provider reports is in the ledger; status shows the hit rate and the savings",
          .timeLimit(.minutes(2)))
    func cacheAccounting() async throws {
        let dir = try TemporaryDirectory("prompt-cache")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "5", "--prompt-cache"])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "300",
                                      "--concurrency", "16", "--base-url", sim.baseURL])
        #expect(run.status == 0, "\(run.output)")
        let stats = try sim.stats()
        await sim.stop()

        let status = try await RunSupport.status([ledger])
        let cached = RunSupport.int(status, "cached_prompt_tokens")
        let prompt = RunSupport.int(status, "prompt_tokens")
        // No faults: one answer per request, so the ledger holds exactly what the provider counted.
        #expect(cached == stats["cached_prompt_tokens"] as? Int, "\(stats)")
        // The recipe puts the 11 KB knowledge base first: most of every prompt after the first is shared.
        #expect(Double(cached) > 0.8 * Double(prompt), "\(cached) of \(prompt) prompt tokens cached")
        // The simulator bills cached tokens at a tenth of 1e-6 a token, and says so in cache_discount.
        let savings = status["cache_savings"] as? Double ?? -1
        #expect(abs(savings - Double(cached) * 0.9e-6) < 1e-9, "savings \(savings) for \(cached) cached tokens")
        let cost = status["cost"] as? Double ?? -1
        let completion = RunSupport.int(status, "completion_tokens")
        #expect(abs(cost - (Double(prompt + completion) * 1e-6 - savings)) < 1e-9)

        let text = try await runBatch(["status", "--ledger", ledger])
        let hitRate = String(format: "%.1f%%", Double(cached) * 100 / Double(prompt))
        #expect(text.stdout.contains("cache     \(hitRate) of prompt tokens read from the provider's prompt cache; saved \(String(format: "%.4f", savings))"),
                "\(text.stdout)")
    }

    @Test("without a prompt cache, status says nothing of one", .timeLimit(.minutes(1)))
    func noCache() async throws {
        let dir = try TemporaryDirectory("no-prompt-cache")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "5"])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "20",
                                      "--base-url", sim.baseURL])
        #expect(run.status == 0, "\(run.output)")
        await sim.stop()
        let status = try await RunSupport.status([ledger])
        #expect(RunSupport.int(status, "cached_prompt_tokens") == 0)
        let text = try await runBatch(["status", "--ledger", ledger])
        #expect(!text.stdout.contains("cache "), "\(text.stdout)")
    }
}
