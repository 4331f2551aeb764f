import Foundation
import Testing
import TestSupport

/// Issue #11, item 5: plans have a clear upper bound and a progress line, a killed planning
/// leaves nothing that the next creation does not remove, and malformed index lists are refused.
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

    @Test("a big plan says so while it works; files of a plan killed with SIGKILL are removed by the next creation")
    func killedPlanningCleanedUp() async throws {
        let dir = try TemporaryDirectory("plan-kill")
        defer { dir.remove() }
        let ledger = dir.path("run.db")
        let planning = try BatchProcess(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "10000000",
                                         "--base-url", "http://127.0.0.1:9/v1"] + RunSupport.fastRetries)
        let leftovers: () -> [String] = {
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.url.path)) ?? []).filter { $0.hasPrefix("run.db.creating-") }
        }
        // The plan is being written: the temporary file has grown past SQLite's page cache.
        try await waitUntil {
            leftovers().contains { name in
                let size = (try? FileManager.default.attributesOfItem(atPath: dir.path(name))[.size] as? Int) ?? 0
                return size > 8 << 20
            }
        }
        planning.signal(SIGKILL)
        #expect(await planning.exitCode() == 128 + SIGKILL)
        #expect(planning.standardError().contains("planning 10000000 rows, projected to take about 40 s"), "\(planning.standardError())")
        #expect(!leftovers().isEmpty, "SIGKILL leaves the half-made plan")
        #expect(!FileManager.default.fileExists(atPath: ledger))

        let sim = try await SimulatorProcess([])
        let next = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "5",
                                       "--base-url", sim.baseURL] + RunSupport.fastRetries)
        #expect(next.status == 0, "\(next.output)")
        #expect(!next.stderr.contains("projected"), "a plan of a moment says nothing about its duration: \(next.stderr)")
        #expect(leftovers() == [], "the next creation removed the killed one's files")
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
