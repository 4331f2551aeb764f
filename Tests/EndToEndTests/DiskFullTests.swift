import Foundation
import Testing
import TestSupport

/// Issue #11, item 2: a full disk stops the run with its own error and exit code, leaves a
/// ledger that every command still opens, and once there is room `resume` finishes every row.
/// Runs on a small tmpfs (needs permission to mount; skipped with a printed reason otherwise).
@Suite("a full disk loses nothing")
struct DiskFullTests {
    @Test("ENOSPC while creating and while running: exit 7, status still reads the ledger, resume finishes after space is freed")
    func diskFull() async throws {
        let dir = try TemporaryDirectory("disk-full")
        defer { dir.remove() }
        guard let disk = try RunSupport.smallDisk(at: dir.path("disk"), for: "DiskFullTests") else { return }
        defer { RunSupport.unmount(disk) }
        let sim = try await SimulatorProcess([])
        let run = ["run", "--recipe", RunSupport.recipePath, "--base-url", sim.baseURL] + RunSupport.fastRetries

        // No room for even the start of a plan: nothing is left behind.
        RunSupport.fill(disk)
        let big = try await runBatch(run + ["--ledger", disk + "/big.db", "--num", "300000"])
        #expect(big.status == 7, "\(big.output)")
        #expect(big.stderr.contains("disk full") && big.stderr.contains("No ledger was created"), "\(big.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk).filter { $0.hasPrefix("big.db") && $0 != "big.db.lock" } == [])
        try FileManager.default.removeItem(atPath: disk + "/filler")

        // Results fill the disk mid-run.
        let ledger = disk + "/run.db"
        let first = try await runBatch(run + ["--ledger", ledger, "--num", "1000", "--concurrency", "16"])
        #expect(first.status == 7, "\(first.output)")
        #expect(first.stderr.contains("disk full") && first.stderr.contains("batch resume --ledger \(ledger)"), "\(first.stderr)")
        let afterFirst = try await RunSupport.status([ledger])
        #expect(RunSupport.int(afterFirst, "total") == 1000)
        let doneBefore = RunSupport.int(afterFirst, "done")
        #expect(doneBefore > 0 && doneBefore < 1000)

        // Still full: resume stops the same way, and the ledger still opens for every command.
        let stillFull = try await runBatch(["resume", "--ledger", ledger])
        #expect(stillFull.status == 7, "\(stillFull.output)")
        let status = try await runBatch(["status", "--ledger", ledger])
        #expect(status.status == 0, "\(status.output)")
        #expect(!status.output.contains("truncated"))
        let export = try await runBatch(["export", "--ledger", ledger, "--output", "-"])
        #expect(export.status == 0, "\(export.output)")
        #expect(export.stdout.split(separator: "\n").count >= doneBefore)

        // Room again: resume finishes every row, none lost or repeated.
        #expect(RunSupport.shell("mount -o remount,size=64m '\(disk)'"))
        let resumed = try await runBatch(["resume", "--ledger", ledger, "--concurrency", "64"])
        #expect(resumed.status == 0, "\(resumed.output)")
        let exported = try await RunSupport.export([ledger], in: dir)
        #expect(exported.indices == Array(0..<1000))
        for (line, index) in zip(exported.lines, exported.indices) {
            #expect(RunSupport.generationID(of: line, answering: index) != nil, "row \(index)")
        }
        await sim.stop()
    }
}
