import ArgumentParser
import MallocTuning

/// The `batch` command: generate synthetic chat datasets as a resumable, checkpointed batch job.
@main
struct Batch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Generate large synthetic chat datasets, one LLM call per row, as a resumable batch job.",
        discussion: """
        Every index's state lives in a SQLite ledger, so a run can be killed at any instant and resumed without losing or duplicating a row. Only failed rows are ever retried.

        Start with `batch demo` (no API key needed), then `batch run --help`.
        """,
        subcommands: [
            DemoCommand.self,
            RunCommand.self,
            ResumeCommand.self,
            RetryCommand.self,
            ExtendCommand.self,
            CancelBatchesCommand.self,
            StatusCommand.self,
            ExportCommand.self,
            ReportCommand.self,
            PreviewCommand.self,
            RecipeCommand.self,
            SimulateCommand.self,
            BenchCommand.self,
        ]
    )

    /// ArgumentParser's own entry point (`main(_:)`), after tuning the allocator before any
    /// thread starts, with the CLI's hints added to the libraries' errors (`LedgerHints`).
    static func main() async {
        _ = batch_malloc_tune()
        do {
            var command = try await asyncParseAsRoot(nil)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: LedgerHints.adding(to: error))
        }
    }
}
