import Foundation
import Recipe
import Testing
import TestSupport

@Suite("Recipe snapshots")
struct SnapshotTests {
    @Test("a snapshot round-trips through Codable and renders byte-identical prompts and bodies")
    func roundTrip() throws {
        let recipe = try seedRecipe()
        let data = try JSONEncoder().encode(recipe.snapshot)
        let restored = try Recipe(snapshot: JSONDecoder().decode(RecipeSnapshot.self, from: data))
        for index: UInt64 in [0, 1, 199, 1 << 33, Recipe.maximumIndex] {
            let a = recipe.sample(index: index), b = restored.sample(index: index)
            #expect(a.prompt.sameBytes(b.prompt))
            #expect(recipe.requestBody(for: a) == restored.requestBody(for: b))
        }
        #expect(restored.snapshot == recipe.snapshot)
    }

    @Test("digests are the SHA-256 of the files' bytes")
    func digests() throws {
        let snapshot = try seedRecipe().snapshot
        let recipeBytes = try Data(contentsOf: URL(fileURLWithPath: Paths.shippedRecipe))
        let knowledgeBytes = try Data(contentsOf: Fixtures.url("knowledge.md"))
        #expect(snapshot.recipeSHA256 == SHA256.hex(recipeBytes))
        #expect(snapshot.knowledgeSHA256 == SHA256.hex(knowledgeBytes))
        #expect(snapshot.promptTemplateSHA256 != nil)
        #expect(snapshot.knowledgeSHA256?.count == 64)
    }

    @Test("a restored recipe ignores later changes to the files on disk")
    func filesChangeOnDisk() throws {
        let directory = try TemporaryDirectory("snapshot")
        defer { directory.remove() }
        var draft = RecipeDraft()
        draft["prompt_template"] = nil
        draft["prompt_template_file"] = .string("prompt.md")
        draft.files["prompt.md"] = "{knowledge} {topic} {persona} {dynamic} {first_message_examples}"
        let path = try draft.write(to: directory)
        let original = try Recipe.load(path: path)
        let before = original.sample(index: 9).prompt

        try Data("changed {topic} {persona} {dynamic} {first_message_examples} {knowledge}".utf8)
            .write(to: directory.url.appendingPathComponent("prompt.md"))
        try Data("new facts".utf8).write(to: directory.url.appendingPathComponent("knowledge.md"))
        #expect(try Recipe.load(path: path).sample(index: 9).prompt != before)

        try FileManager.default.removeItem(at: directory.url.appendingPathComponent("knowledge.md"))
        let restored = try Recipe(snapshot: original.snapshot)
        #expect(restored.sample(index: 9).prompt.sameBytes(before))
    }

    @Test("a snapshot whose text does not match its digest is refused")
    func tampered() throws {
        var snapshot = try seedRecipe().snapshot
        snapshot.knowledgeText = (snapshot.knowledgeText ?? "") + "extra"
        #expect {
            _ = try Recipe(snapshot: snapshot)
        } throws: { error in
            (error as? RecipeError)?.kind == .snapshotMismatch && String(describing: error).contains("knowledge")
        }
    }
}
