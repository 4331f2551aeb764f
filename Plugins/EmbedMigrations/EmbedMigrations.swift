import Foundation
import PackagePlugin

/// Embeds every `migrations/NNNN_name.sql` of the package into the target as Swift source, so the
/// binary carries its schema and the SQL files stay the only place it is written.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = context.package.directoryURL.appending(path: "migrations")
        let files = try FileManager.default
            .contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        // The tool lists the folder itself, and the folder is an input too: a migration added
        // after the build was planned is still picked up by an incremental build.
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) migrations",
                executable: try context.tool(named: "embed-migrations").url,
                arguments: [output.path, directory.path],
                inputFiles: files + [directory],
                outputFiles: [output]
            )
        ]
    }
}
