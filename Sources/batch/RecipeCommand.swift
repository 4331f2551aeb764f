import ArgumentParser
import Foundation
import Recipe

/// `batch recipe`: the built-in recipe as editable files, and checking a recipe before a run.
struct RecipeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipe",
        abstract: "Write an editable copy of the built-in recipe, or check a recipe.",
        discussion: """
        batch carries its default recipe (nanochat-identity: recipe.json, prompt.md, knowledge.md), so --recipe is optional everywhere. To make your own, start from a copy: `batch recipe init my-recipe`, edit the files, then `batch recipe check my-recipe/recipe.json`. The format is described in recipes/README.md of the repository.
        """,
        subcommands: [RecipeInitCommand.self, RecipeCheckCommand.self]
    )
}

struct RecipeInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write the built-in recipe (recipe.json, prompt.md, knowledge.md) into a folder, to edit.",
        discussion: "The folder is created when missing. Existing files are never replaced unless --force is given."
    )

    @Argument(help: ArgumentHelp("The folder to write the recipe into.", valueName: "dir")) var directory: String
    @Flag(help: "Replace the recipe's files if they already exist in the folder.") var force = false

    func run() throws {
        let written: [String]
        do {
            written = try BuiltInRecipe.write(to: directory, overwrite: force)
        } catch let error as BuiltInRecipeError {
            Terminal.error("Error: \(error.description)")
            throw ExitCode.failure
        } catch {
            Terminal.error("Error: cannot write the recipe into \(directory): \(error.localizedDescription)")
            throw ExitCode.failure
        }
        let batch = Invocation.command
        let recipe = (directory as NSString).appendingPathComponent("recipe.json")
        let name = (directory as NSString).lastPathComponent
        print("""
            wrote the built-in \(BuiltInRecipe.name) recipe: \(written.joined(separator: ", "))

            Next: edit them, then
              \(batch) recipe check \(recipe)
              \(batch) run --recipe \(recipe) --ledger runs/\(name).db --num 100
            """)
    }
}

struct RecipeCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a recipe and the files it names, and show what index 0 would send.",
        discussion: "Exit code 0 when the recipe can be used, 1 (with the file, the field and what is wrong) when not. Nothing is sent."
    )

    @Argument(help: ArgumentHelp("The recipe file (JSON).", valueName: "file")) var file: String
    @Option(help: ArgumentHelp("A knowledge file to use instead of the recipe's.", valueName: "path")) var knowledge: String?

    func run() throws {
        let recipe: Recipe
        do {
            recipe = try Recipe.load(path: file, knowledgePath: knowledge)
        } catch {
            Terminal.error("Error: \(error.description)")
            throw ExitCode.failure
        }
        let topics = recipe.topics.reduce(0) { $0 + $1.items.count }
        print("""
            \(file): ok: recipe \(recipe.name), \(topics) topics in \(recipe.topics.count) categories, \
            \(recipe.personas.count) personas, \(recipe.dynamics.count) dynamics, model \(recipe.model)

            \(recipe.previewText(for: recipe.sample(index: 0)))
            """)
    }
}
