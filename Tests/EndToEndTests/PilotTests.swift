import Foundation
import Testing
import TestSupport

/// `batch run --pilot K` as real processes against a real `batch simulate`.
@Suite("batch run --pilot: a projection before paying for the rest")
struct PilotTests {
    /// The number after "projected cost " in the pilot's output.
    static func projectedCost(_ output: String) -> Double? {
        guard let range = output.range(of: "projected cost ") else { return nil }
        return Double(output[range.upperBound...].prefix { $0.isNumber || $0 == "." })
    }

    @Test("the pilot sends K real rows, projects the whole run within 10% of what it then costs, and stops with exit 8 until resumed",
          .timeLimit(.minutes(2)))
    func projectsAndStops() async throws {
        let dir = try TemporaryDirectory("pilot")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "20"])
        let ledger = dir.path("run.db")
        let pilot = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "2000",
                                        "--concurrency", "64", "--pilot", "100", "--base-url", sim.baseURL])
        #expect(pilot.status == 8, "\(pilot.output)")
        #expect(pilot.stderr.contains("pilot: 100 of 2000 rows done"), "\(pilot.stderr)")
        #expect(pilot.stderr.contains("resume --ledger \(ledger)"), "\(pilot.stderr)")
        let afterPilot = try await RunSupport.status([ledger])
        #expect(RunSupport.int(afterPilot, "done") == 100 && RunSupport.int(afterPilot, "pending") == 1900)
        let projected = try #require(Self.projectedCost(pilot.stderr), "\(pilot.stderr)")

        let rest = try await runBatch(["resume", "--ledger", ledger])
        #expect(rest.status == 0, "\(rest.output)")
        let finished = try await RunSupport.status([ledger])
        #expect(RunSupport.int(finished, "done") == 2000)
        let total = finished["cost"] as? Double ?? 0
        #expect(abs(projected - total) <= 0.1 * total, "the pilot projected \(projected); the run cost \(total)")
        await sim.stop()
    }

    @Test("--yes goes on after the pilot in the same process; so does a --max-cost that covers the projection", arguments: [
        ["--yes"], ["--max-cost", "1000"],
    ])
    func goesOn(extra: [String]) async throws {
        let dir = try TemporaryDirectory("pilot-yes")
        defer { dir.remove() }
        let sim = try await SimulatorProcess([])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "300",
                                      "--concurrency", "32", "--pilot", "20", "--base-url", sim.baseURL] + extra)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stderr.contains("projected cost"), "\(run.stderr)")
        #expect(RunSupport.int(try await RunSupport.status([ledger]), "done") == 300)
        await sim.stop()
    }

    @Test("--yes without --pilot, and --pilot 0, are refused", arguments: [["--yes"], ["--pilot", "0"]])
    func refused(extra: [String]) async throws {
        let result = try await runBatch(["run", "--ledger", "/nonexistent/x.db", "--num", "5"] + extra)
        #expect(result.status == 64, "\(result.output)")
    }
}
