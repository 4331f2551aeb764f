import ArgumentParser
import Foundation
import Provider
import Testing
import TestSupport
@testable import batch

/// Fail fast on the account, as real processes against `batch simulate`, which answers
/// OpenRouter's `GET /key`, `/credits` and `/models`.
@Suite("Fail fast on the account: key, credits and the model's prices before a run")
struct AccountCheckTests {
    @Test("an account without enough credits for the run's rough estimate is refused with exit 3 before anything is planned; --ignore-credits starts anyway",
          .timeLimit(.minutes(1)))
    func creditsRefusal() async throws {
        let dir = try TemporaryDirectory("credits")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--credits", "0.05"])
        let ledger = dir.path("run.db")
        // The built-in recipe's prompt is about 3,000 tokens at 1e-6: 200 rows need about 0.6.
        let refused = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "200", "--base-url", sim.baseURL])
        #expect(refused.status == 3, "\(refused.output)")
        #expect(refused.stderr.contains("is above the 0.0500 the key or account may still spend"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--ignore-credits"))
        #expect(!FileManager.default.fileExists(atPath: ledger))
        #expect(try sim.stats()["requests"] as? Int == 0, "nothing may be sent")

        let small = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "10", "--base-url", sim.baseURL])
        #expect(small.status == 0, "10 rows fit in the credits: \(small.output)")
        let forced = try await runBatch(["run", "--ledger", dir.path("forced.db"), "--recipe", RunSupport.recipePath, "--num", "200",
                                         "--base-url", sim.baseURL, "--ignore-credits"])
        #expect(forced.status == 0, "\(forced.output)")
        // Now the key's limit is spent: even a one-row resume of a new run is refused.
        let spent = try await runBatch(["run", "--ledger", dir.path("spent.db"), "--recipe", RunSupport.recipePath, "--num", "1", "--base-url", sim.baseURL])
        #expect(spent.status == 3, "\(spent.output)")
        #expect(spent.stderr.contains("credits left"), "\(spent.stderr)")
        await sim.stop()
    }

    @Test("answers without usage.cost are priced from their tokens at the model list's prices", .timeLimit(.minutes(1)))
    func pricesFromModelList() async throws {
        let dir = try TemporaryDirectory("prices")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--no-cost"])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "20", "--base-url", sim.baseURL])
        #expect(run.status == 0, "\(run.output)")
        let billed = try sim.stats()["billed"] as? Double ?? -1
        await sim.stop()
        let status = try await RunSupport.status([ledger])
        let cost = status["cost"] as? Double ?? -1
        let tokens = RunSupport.int(status, "prompt_tokens") + RunSupport.int(status, "completion_tokens")
        #expect(cost > 0)
        // The simulator bills 1e-6 a token and lists that price; the ledger agrees with its bill.
        #expect(abs(cost - Double(tokens) * 1e-6) < 1e-9, "cost \(cost) for \(tokens) tokens")
        #expect(abs(cost - billed) < 1e-9, "ledger \(cost), provider billed \(billed)")
    }
}

@Suite("After a pilot: the rest of the run against what the account has left")
struct AfterPilotCreditsTests {
    @Test("refused (exit 3) when the projected rest is above what is left after the pilot, unless --ignore-credits")
    func afterPilot() throws {
        let status = AccountStatus(keyRemaining: 1.0, creditsRemaining: 5.0)
        #expect(throws: ExitCode(BatchExitCode.providerRefused)) {
            try AccountGate.checkAfterPilot(status: status, spentInPilot: 0.2, restCost: 0.81, ignoreCredits: false)
        }
        try AccountGate.checkAfterPilot(status: status, spentInPilot: 0.2, restCost: 0.79, ignoreCredits: false)
        try AccountGate.checkAfterPilot(status: status, spentInPilot: 0.2, restCost: 9, ignoreCredits: true)
        try AccountGate.checkAfterPilot(status: AccountStatus(), spentInPilot: 0.2, restCost: 9, ignoreCredits: false)
        try AccountGate.checkAfterPilot(status: nil, spentInPilot: 0.2, restCost: 9, ignoreCredits: false)
    }
}
