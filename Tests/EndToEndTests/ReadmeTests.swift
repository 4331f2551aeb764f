import Foundation
import Testing
import TestSupport

/// Issue #14, item 4: the README's shell blocks marked ```` ```sh runnable ```` work as written:
/// run in order, in one fresh folder, with the built `batch` on the PATH. The one change:
/// `batch run` gets `--base-url` of a local `batch simulate` (no key, no cost).
@Suite("README commands")
struct ReadmeTests {
    /// The bodies of the README's runnable blocks, in order.
    static func runnableBlocks(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if current == nil {
                if line.trimmingCharacters(in: .whitespaces) == "```sh runnable" { current = [] }
            } else if line.trimmingCharacters(in: .whitespaces) == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current!.append(line)
            }
        }
        return blocks
    }

    @Test("the runnable blocks are found, and each one exits 0 as written")
    func runnableBlocksWork() async throws {
        let readme = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = Self.runnableBlocks(readme)
        #expect(blocks.count >= 2, "the quick start's and the real run's blocks are marked runnable")
        #expect(blocks.joined().contains("batch demo") && blocks.joined().contains("batch export"))

        let dir = try TemporaryDirectory("readme")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--latency-ms", "2"])
        for block in blocks {
            let result = try await ShellScript.run(Hints.local(block, baseURL: sim.baseURL), directory: dir.url.path)
            #expect(result.status == 0, "README block failed (exit \(result.status)):\n\(block)\n--- output ---\n\(result.output)")
        }
        await sim.stop()
        for file in ["batch-demo/demo.jsonl", "batch-demo/demo.report.html", "preview.jsonl", "my-recipe/recipe.json", "runs/identity.db",
                     "identity_conversations.jsonl", "report.html", "clean.jsonl", "clean.jsonl.rejects.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: dir.path(file)), "\(file) was not made")
        }
    }

    @Test("the extraction takes only blocks marked runnable")
    func extraction() {
        let text = "```sh\nnot this\n```\n```sh runnable\nbatch a\nbatch b\n```\ntext\n```sh runnable\nbatch c\n```\n"
        #expect(Self.runnableBlocks(text) == ["batch a\nbatch b", "batch c"])
    }
}
