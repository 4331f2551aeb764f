import Foundation

/// The default recipe, nanochat's identity conversations, carried inside the binary (embedded
/// from `recipes/nanochat-identity/` at build time), so `batch` runs it from any folder.
public enum BuiltInRecipe {
    /// The recipe's folder name: `nanochat-identity`.
    public static var name: String { EmbeddedRecipeFiles.folder }

    /// Where the recipe stands in messages and in a ledger's snapshot, in place of a file path.
    public static var displayPath: String { "(built-in)/\(name)/recipe.json" }

    /// The embedded files, by name: `knowledge.md`, `prompt.md`, `recipe.json`.
    public static var files: [(name: String, text: String)] { EmbeddedRecipeFiles.files }

    /// The embedded text of `name`, or nil.
    public static func text(of name: String) -> String? {
        files.first { $0.name == name }?.text
    }

    /// The built-in recipe; with `knowledgePath`, that knowledge file in place of the built-in one.
    public static func load(knowledgePath: String? = nil) throws(RecipeError) -> Recipe {
        let folder = "(built-in)/\(name)"
        guard let recipeText = text(of: "recipe.json") else {
            throw RecipeError(.unreadableFile, file: displayPath, field: nil, "the binary carries no built-in recipe.json")
        }
        var knowledgeFile = text(of: "knowledge.md") == nil ? nil : folder + "/knowledge.md"
        var knowledgeText = text(of: "knowledge.md")
        if let knowledgePath {
            knowledgeFile = knowledgePath
            knowledgeText = try Recipe.readText(knowledgePath, recipe: displayPath, field: "knowledge_file",
                                                what: "knowledge file", note: "given instead of the recipe's")
        }
        let snapshot = RecipeSnapshot(
            recipePath: displayPath, recipeText: recipeText,
            promptTemplatePath: text(of: "prompt.md") == nil ? nil : folder + "/prompt.md", promptTemplateText: text(of: "prompt.md"),
            knowledgePath: knowledgeFile, knowledgeText: knowledgeText)
        return try Recipe(snapshot: snapshot)
    }

    /// Writes the embedded files into `directory` (created when missing), refusing to replace
    /// any existing file unless `overwrite`. Returns the paths written.
    public static func write(to directory: String, overwrite: Bool) throws -> [String] {
        let paths = files.map { (directory as NSString).appendingPathComponent($0.name) }
        if !overwrite, let existing = paths.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            throw BuiltInRecipeError("\(existing) already exists; choose an empty folder, or pass --force to replace the recipe's files")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (file, path) in zip(files, paths) {
            try Data(file.text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        }
        return paths
    }
}

/// Why the built-in recipe could not be written out; the message says what to do.
public struct BuiltInRecipeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Recipe {
    /// The recipe file at `path`, or the built-in recipe when `path` is nil.
    public static func load(pathOrBuiltIn path: String?, knowledgePath: String? = nil) throws(RecipeError) -> Recipe {
        guard let path else { return try BuiltInRecipe.load(knowledgePath: knowledgePath) }
        return try load(path: path, knowledgePath: knowledgePath)
    }
}
