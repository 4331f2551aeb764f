import Foundation
import Recipe
import TestSupport
import Wire

/// Paths and helpers shared by the recipe tests.
enum Paths {
    static let shippedRecipe = Fixtures.repositoryRoot
        .appendingPathComponent("recipes/nanochat-identity/recipe.json").path
    static let fixtureKnowledge = Fixtures.url("knowledge.md").path
}

/// The shipped recipe with the fixtures' knowledge base, as the seed samples were computed.
func seedRecipe() throws -> Recipe {
    try Recipe.load(path: Paths.shippedRecipe, knowledgePath: Paths.fixtureKnowledge)
}

/// A small valid recipe, written to a temporary folder; tests change one thing and load it.
struct RecipeDraft {
    var fields: [(String, JSONValue)] = [
        ("name", .string("test")),
        ("knowledge_file", .string("knowledge.md")),
        ("prompt_template", .string("K={knowledge}\nT={topic}\nP={persona}\nD={dynamic}\nF=\n{first_message_examples}")),
        ("topics", .object([("a", .array([.string("a1"), .string("a2")])), ("b", .array([.string("b1")]))])),
        ("personas", .array([.string("p1"), .string("p2")])),
        ("dynamics", .array([.string("d1")])),
        ("first_messages", .object([("g", .array([.string("hi")])), ("h", .array([.string("yo"), .string("hey")]))])),
        ("request", .object([("model", .string("m")), ("stream", .bool(false)), ("temperature", .double(1.0))])),
    ]
    var files: [String: String] = ["knowledge.md": "  facts {not a placeholder}\n\n"]

    subscript(key: String) -> JSONValue? {
        get { fields.first(where: { $0.0 == key })?.1 }
        set {
            if let i = fields.firstIndex(where: { $0.0 == key }) {
                if let newValue { fields[i].1 = newValue } else { fields.remove(at: i) }
            } else if let newValue {
                fields.append((key, newValue))
            }
        }
    }

    /// Writes `recipe.json` and the files into `directory`; returns the recipe's path.
    func write(to directory: TemporaryDirectory, recipeText: String? = nil) throws -> String {
        for (name, text) in files {
            try Data(text.utf8).write(to: directory.url.appendingPathComponent(name))
        }
        let path = directory.path("recipe.json")
        try Data((recipeText ?? JSONValue.object(fields).jsonText).utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Writes the draft and loads it.
    func load(knowledgePath: String? = nil) throws -> Recipe {
        let directory = try TemporaryDirectory("recipe")
        defer { directory.remove() }
        return try Recipe.load(path: try write(to: directory), knowledgePath: knowledgePath)
    }
}
