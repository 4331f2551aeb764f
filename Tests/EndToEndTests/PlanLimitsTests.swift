import Foundation
import Testing
import TestSupport

/// Issue #11, item 5: plans have a clear upper bound, a killed creation leaves nothing that the
/// next creation does not remove, and malformed index lists are refused. (A big plan no longer
/// needs a progress line: it is written as the run claims it.)
@Suite("planning limits")
struct PlanLimitsTests {
    @Test("--num beyond the per-ledger bound is refused at once (exit 64) naming the limit and --shard; nothing is created")
    func tooManyRows() async throws {
        let dir = try TemporaryDirectory("plan-limit")
        defer { dir.remove() }
        for num in ["9223372036854775807", "10000001"] {
            let result = try await runBatch(["run", "--ledger", dir.path("run.db"), "--recipe", RunSupport.recipePath, "--num", num,
                                             "--base-url", "http://127.0.0.1:9/v1"], directory: dir.url.path)
            #expect(result.status == 64, "\(result.output)")
            #expect(result.stderr.contains("the limit is 10000000 per ledger") && result.stderr.contains("--shard K/N"), "\(result.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == [])
        }
    }

    @Test("a 10,000,000-row run sends at once (its plan is written as the run claims it); files of a creation killed with SIGKILL are removed by the next one")
    func bigPlanAndKilledCreation() async throws {
        let dir = try TemporaryDirectory("plan-kill")
        defer { dir.remove() }
        let ledger = dir.path("run.db")
        // What a creation killed half way leaves: its temporary file and journal, named by its pid.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        for tail in ["", "-wal", "-shm"] {
            FileManager.default.createFile(atPath: dir.path("run.db.creating-\(gone.processIdentifier)\(tail)"), contents: Data("half".utf8))
        }
        let leftovers: () -> [String] = {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.url.path)) ?? []).filter { $0.hasPrefix("run.db.creating-") }
        }
        #expect(leftovers().count == 3)

        let sim = try await SimulatorProcess([])
        let pilot = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "10000000",
                                        "--pilot", "5", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        #expect(pilot.status == 8, "\(pilot.output)")
        #expect(!pilot.stderr.contains("planning"), "nothing to wait for: \(pilot.stderr)")
        #expect(leftovers() == [], "the creation removed the killed one's files")
        let status = try await RunSupport.status([ledger])
        #expect(((status["ledgers"] as? [[String: Any]])?.first?["planned_rows"] as? Int) == 10_000_000, "\(status)")
        #expect(RunSupport.int(status, "done") == 5 && RunSupport.int(status, "pending") == 9_999_995, "\(status)")
        let file = try FileManager.default.attributesOfItem(atPath: ledger)[.size] as? Int ?? .max
        #expect(file < 8 << 20, "ten million rows are not written up front: \(file) bytes")
        await sim.stop()
    }

    @Test("--indices refuses -3 and 10- instead of reading them as 3 and 10", arguments: ["-3", "10-", "3,,4", "5-2"])
    func malformedIndices(_ list: String) async throws {
        let dir = try TemporaryDirectory("plan-indices")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--fail-bad-conversation", "1"])
        let ledger = dir.path("run.db")
        _ = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "12", "--max-attempts", "1",
                                "--base-url", sim.baseURL] + RunSupport.fastRetries)
        await sim.stop()
        let retry = try await runBatch(["retry", "--ledger", ledger, "--indices=\(list)"])
        #expect(retry.status == 64, "\(retry.output)")
        #expect(retry.stderr.contains("--indices takes numbers"), "\(retry.stderr)")
        #expect(RunSupport.int(try await RunSupport.status([ledger]), "failed") == 12, "no row was reset")
    }
}
