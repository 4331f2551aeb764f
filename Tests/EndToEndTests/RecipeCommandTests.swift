import Foundation
import Testing
import TestSupport

/// Issue #14, item 3: `batch recipe init DIR` and `batch recipe check FILE` as real processes,
/// and the built-in recipe used when --recipe is left out, from a folder with no recipes/.
@Suite("batch recipe")
struct RecipeCommandTests {
    @Test("init writes an editable copy; check validates it and previews index 0; init refuses to replace files")
    func initAndCheck() async throws {
        let dir = try TemporaryDirectory("recipe-cmd")
        defer { dir.remove() }
        let made = try await runBatch(["recipe", "init", "mine"], directory: dir.url.path)
        #expect(made.status == 0, "\(made.output)")
        for name in ["recipe.json", "prompt.md", "knowledge.md"] {
            #expect(FileManager.default.fileExists(atPath: dir.path("mine/" + name)), "\(name) missing")
        }
        let checked = try await runBatch(["recipe", "check", "mine/recipe.json"], directory: dir.url.path)
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.stdout.contains("mine/recipe.json: ok: recipe nanochat-identity") && checked.stdout.contains("=== index 0 ==="), "\(checked.stdout)")

        let again = try await runBatch(["recipe", "init", "mine"], directory: dir.url.path)
        #expect(again.status == 1 && again.stderr.contains("already exists") && again.stderr.contains("--force"), "\(again.output)")
        #expect(try await runBatch(["recipe", "init", "mine", "--force"], directory: dir.url.path).status == 0)
    }

    @Test("check of a broken recipe exits 1 naming the file and the field, with no stack trace")
    func checkBroken() async throws {
        let dir = try TemporaryDirectory("recipe-bad")
        defer { dir.remove() }
        _ = try await runBatch(["recipe", "init", "bad"], directory: dir.url.path)
        let path = dir.path("bad/recipe.json")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try text.replacingOccurrences(of: "\"knowledge_file\": \"knowledge.md\"", with: "\"knowledge_file\": \"kb.md\"")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try await runBatch(["recipe", "check", "bad/recipe.json"], directory: dir.url.path)
        #expect(result.status == 1, "\(result.output)")
        #expect(result.stderr.contains("knowledge_file") && result.stderr.contains("kb.md"), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test("preview without --recipe uses the built-in recipe, from a folder with no recipes/")
    func builtInDefault() async throws {
        let dir = try TemporaryDirectory("recipe-default")
        defer { dir.remove() }
        let builtIn = try await runBatch(["preview", "--index", "0-2", "--json"], directory: dir.url.path)
        let shipped = try await runBatch(["preview", "--index", "0-2", "--json", "--recipe", RunSupport.recipePath], directory: dir.url.path)
        #expect(builtIn.status == 0, "\(builtIn.output)")
        #expect(builtIn.stdout == shipped.stdout && !builtIn.stdout.isEmpty)
    }
}
