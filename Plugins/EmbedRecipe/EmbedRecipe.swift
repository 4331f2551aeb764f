import Foundation
import PackagePlugin

/// Embeds the files of `recipes/nanochat-identity/` (the recipe, its prompt and its knowledge)
/// into the target as Swift source, so a binary copied anywhere carries its default recipe and
/// the files in the repository stay the only place it is written.
@main
struct EmbedRecipe: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = context.package.directoryURL.appending(path: "recipes/nanochat-identity")
        let files = try FileManager.default
            .contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedRecipeFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding the built-in recipe (\(files.count) files)",
                executable: try context.tool(named: "embed-recipe").url,
                arguments: [output.path, directory.path],
                inputFiles: files + [directory],
                outputFiles: [output]
            )
        ]
    }
}
