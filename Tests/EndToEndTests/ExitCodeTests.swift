import Foundation
import Testing
import TestSupport

/// Issue #11, item 4: a run where rows failed does not exit 0, and a run that cannot succeed at
/// all stops early even when it is small.
@Suite("exit codes a script can trust")
struct ExitCodeTests {
    /// A loopback URL where nothing listens (a simulator's, after it stopped).
    static func deadURL() async throws -> String {
        let sim = try await SimulatorProcess([])
        await sim.stop()
        return sim.baseURL
    }

    static func run(_ ledger: String, base: String, _ extra: [String]) async throws -> BatchResult {
        try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "2", "--base-url", base]
                           + extra + RunSupport.fastRetries)
    }

    @Test("nothing listening: a 2-row run is stopped by the circuit breaker (exit 5), or with few attempts fails its rows (exit 6)")
    func nothingListening() async throws {
        let dir = try TemporaryDirectory("exit-dead")
        defer { dir.remove() }
        let dead = try await Self.deadURL()
        let tripped = try await Self.run(dir.path("a.db"), base: dead, [])
        #expect(tripped.status == 5, "\(tripped.output)")
        #expect(tripped.stderr.contains("circuit breaker"), "\(tripped.stderr)")
        let status = try await RunSupport.status([dir.path("a.db")])
        #expect(RunSupport.int(status, "done") == 0 && RunSupport.int(status, "in_flight") == 0)

        let failed = try await Self.run(dir.path("b.db"), base: dead, ["--max-attempts", "2"])
        #expect(failed.status == 6, "\(failed.output)")
        #expect(failed.stderr.contains("batch retry"))
    }

    @Test("every answer a 429: the rows fail and run, resume and retry all exit 6; a retry that succeeds exits 0")
    func allRateLimited() async throws {
        let dir = try TemporaryDirectory("exit-429")
        defer { dir.remove() }
        let limited = try await SimulatorProcess(["--fail-429", "1", "--retry-after", "0"])
        let ledger = dir.path("run.db")
        let run = try await Self.run(ledger, base: limited.baseURL, ["--max-attempts", "2"])
        #expect(run.status == 6, "\(run.output)")
        #expect(RunSupport.int(try await RunSupport.status([ledger]), "failed") == 2)
        let resume = try await runBatch(["resume", "--ledger", ledger])
        #expect(resume.status == 6, "\(resume.output)")
        let retry = try await runBatch(["retry", "--ledger", ledger, "--max-attempts", "1"])
        #expect(retry.status == 6, "\(retry.output)")
        await limited.stop()

        let clean = try await SimulatorProcess([])
        let fixed = try await runBatch(["retry", "--ledger", ledger, "--base-url", clean.baseURL])
        #expect(fixed.status == 0, "\(fixed.output)")
        #expect(RunSupport.int(try await RunSupport.status([ledger]), "done") == 2)
        await clean.stop()
    }
}
