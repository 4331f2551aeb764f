import Foundation
import Testing
import TestSupport

/// Issue #11, item 3: one writer per ledger *file*, however it is named.
@Suite("one writer per ledger file, under any name")
struct WriterLockTests {
    @Test("while a run writes, resume through a symlink, a hard link, `..` or a bind mount is refused naming the holder's pid")
    func secondWriterUnderAnotherName() async throws {
        let dir = try TemporaryDirectory("writer-lock")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "300"])
        let ledger = dir.path("run.db")
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir.path("sub"), withIntermediateDirectories: true)
        // Enough rows that the run outlives every check below on a loaded machine (about 2.5
        // minutes at 2 in flight); SIGTERM ends it.
        let running = try RunSupport.startRun(ledger: ledger, rows: 1_000, concurrency: 2, simulator: sim)
        try await RunSupport.waitUntilDone(ledger)
        try fm.createSymbolicLink(atPath: dir.path("symlink.db"), withDestinationPath: ledger)
        try fm.linkItem(atPath: ledger, toPath: dir.path("hardlink.db"))
        var spellings = [dir.path("symlink.db"), dir.path("hardlink.db"), dir.path("sub/../run.db")]

        let mountPoint = dir.path("mounted")
        try fm.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = RunSupport.shell("mount --bind '\(dir.url.path)' '\(mountPoint)'")
        if mounted {
            spellings.append(mountPoint + "/run.db")
        } else {
            print("WriterLockTests: skipping the bind-mount case: mount --bind is not permitted here")
        }
        defer { if mounted { _ = RunSupport.shell("umount '\(mountPoint)'") } }

        for spelling in spellings {
            let second = try await runBatch(["resume", "--ledger", spelling])
            #expect(second.status == 1, "\(spelling): \(second.output)")
            #expect(second.stderr.contains("another process (pid \(running.pid)) holds the ledger"), "\(spelling): \(second.stderr)")
            let retry = try await runBatch(["retry", "--ledger", spelling])
            #expect(retry.status == 1 && retry.stderr.contains("pid \(running.pid)"), "\(spelling): \(retry.output)")
        }
        running.signal(SIGTERM)
        #expect(await running.exitCode() == 143)
        let stopped = try await RunSupport.status([ledger])
        #expect(RunSupport.int(stopped, "in_flight") == 0, "the first run's rows were not taken from it")
        #expect(RunSupport.int(stopped, "done") + RunSupport.int(stopped, "pending") == 1_000)
        #expect(RunSupport.int(stopped, "attempts") == RunSupport.int(stopped, "done"), "no row was sent twice")

        // Once the first writer is gone, any name works.
        let resumed = try await runBatch(["resume", "--ledger", dir.path("symlink.db"), "--concurrency", "128"])
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(RunSupport.int(try await RunSupport.status([ledger]), "done") == 1_000)
        await sim.stop()
    }
}
