import Foundation
import Testing
import TestSupport

/// Issue #14, item 4: every "Next:" line `batch demo` prints works as typed, and so do the
/// hints those commands print in turn (`recipe init`'s, `run`'s), from a fresh folder.
@Suite("demo hints")
struct DemoHintsTests {
    @Test("batch demo, then each of its hints and theirs, exit 0 as printed")
    func hintsWork() async throws {
        let dir = try TemporaryDirectory("demo-hints")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "2"])

        let demo = try await ShellScript.run("batch demo --num 20", directory: dir.url.path)
        #expect(demo.status == 0, "\(demo.output)")
        let hints = Hints.commands(in: demo.output)
        #expect(hints.count == 5, "its run's export hint and the 4 Next: lines: \(demo.output)")
        #expect(hints.allSatisfy { $0.hasPrefix("batch ") || $0.contains("; batch ") }, "hints spell batch as typed: \(hints)")
        #expect(!demo.output.contains("make install"), "batch is on the PATH here, so no note about it")

        var followed = 0
        var queue = hints.map { ($0, 0) }
        while !queue.isEmpty {
            let (hint, depth) = queue.removeFirst()
            let result = try await ShellScript.run(Hints.local(hint, baseURL: sim.baseURL), directory: dir.url.path)
            #expect(result.status == 0, "`\(hint)` failed:\n\(result.output)")
            followed += 1
            if depth < 2 { queue += Hints.commands(in: result.output).map { ($0, depth + 1) } }
        }
        // demo's 5, recipe init's check and run, and the two runs' export hints.
        #expect(followed >= 9, "followed \(followed) hints")
        #expect(FileManager.default.fileExists(atPath: dir.path("runs/identity.jsonl")))
        #expect(FileManager.default.fileExists(atPath: dir.path("my-recipe/recipe.json")))
        await sim.stop()
    }

    @Test("run from a folder where batch is not on the PATH, the hints name the binary's path")
    func hintsOffPath() async throws {
        let dir = try TemporaryDirectory("demo-off-path")
        defer { dir.remove() }
        let demo = try await runBatch(["demo", "--num", "5"], directory: dir.url.path, environment: ["PATH": "/usr/bin:/bin"])
        #expect(demo.status == 0, "\(demo.output)")
        let hints = Hints.commands(in: demo.stdout)
        #expect(hints.first?.hasPrefix(BatchBinary.url.resolvingSymlinksInPath().path + " status") == true, "\(hints)")
        #expect(demo.stdout.contains("make install"), "\(demo.stdout)")
    }
}
