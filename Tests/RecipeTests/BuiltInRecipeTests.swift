import Foundation
import Testing
import TestSupport
import Recipe

/// Issue #14, item 3: the default recipe is carried by the binary, byte for byte the shipped files.
@Suite("built-in recipe")
struct BuiltInRecipeTests {
    @Test("the embedded files are the shipped folder's files, byte for byte")
    func embeddedMatchesFolder() throws {
        let folder = Fixtures.repositoryRoot.appendingPathComponent("recipes/nanochat-identity")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
        #expect(BuiltInRecipe.files.map(\.name) == names)
        for file in BuiltInRecipe.files {
            let onDisk = try Data(contentsOf: folder.appendingPathComponent(file.name))
            #expect(Data(file.text.utf8) == onDisk, "\(file.name) differs from the embedded copy")
        }
    }

    @Test("the built-in recipe samples and prompts exactly as the shipped file does, with the same digests")
    func sameAsShipped() throws {
        let builtIn = try BuiltInRecipe.load()
        let shipped = try Recipe.load(path: Paths.shippedRecipe)
        #expect(builtIn.snapshot.recipeSHA256 == shipped.snapshot.recipeSHA256)
        #expect(builtIn.snapshot.promptTemplateSHA256 == shipped.snapshot.promptTemplateSHA256)
        #expect(builtIn.snapshot.knowledgeSHA256 == shipped.snapshot.knowledgeSHA256)
        for index: UInt64 in [0, 1, 7, 123_456, 9_223_372_036_854_775_807] {
            #expect(builtIn.sample(index: index).prompt == shipped.sample(index: index).prompt)
            #expect(builtIn.previewJSONLine(for: builtIn.sample(index: index)) == shipped.previewJSONLine(for: shipped.sample(index: index)))
        }
        #expect(builtIn.snapshot.recipePath == BuiltInRecipe.displayPath)
    }

    @Test("its snapshot rebuilds the same recipe without any file, as a resumed run does")
    func snapshotRoundTrip() throws {
        let builtIn = try BuiltInRecipe.load()
        let data = try JSONEncoder().encode(builtIn.snapshot)
        let rebuilt = try Recipe(snapshot: try JSONDecoder().decode(RecipeSnapshot.self, from: data))
        #expect(rebuilt.sample(index: 42).prompt == builtIn.sample(index: 42).prompt)
    }

    @Test("--knowledge replaces the built-in knowledge")
    func knowledgeOverride() throws {
        let recipe = try BuiltInRecipe.load(knowledgePath: Paths.fixtureKnowledge)
        #expect(recipe.snapshot.knowledgePath == Paths.fixtureKnowledge)
        #expect(recipe.snapshot.knowledgeText == (try String(contentsOfFile: Paths.fixtureKnowledge, encoding: .utf8)))
    }

    @Test("written out, the copy loads as the same recipe; existing files are kept unless overwrite")
    func writeOut() throws {
        let dir = try TemporaryDirectory("recipe-init")
        defer { dir.remove() }
        let target = dir.path("mine")
        let written = try BuiltInRecipe.write(to: target, overwrite: false)
        #expect(written.count == BuiltInRecipe.files.count)
        let copy = try Recipe.load(path: target + "/recipe.json")
        #expect(copy.snapshot.recipeSHA256 == (try BuiltInRecipe.load()).snapshot.recipeSHA256)
        #expect(throws: BuiltInRecipeError.self) { try BuiltInRecipe.write(to: target, overwrite: false) }
        #expect(try BuiltInRecipe.write(to: target, overwrite: true).count == written.count)
    }
}
