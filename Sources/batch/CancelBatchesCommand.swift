import ArgumentParser
import BatchRunner
import Foundation
import Ledger
import Provider

struct CancelBatchesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel-batches",
        abstract: "Cancel a --mode batch run's open provider batches, keeping what they finished.",
        discussion: """
        Asks the provider to cancel every batch the ledger has open, waits for each to end, and writes what it finished (those answers are paid for and kept); the rows it did not answer go back to pending, for `batch resume` (in batch mode again, or with --mode online). SIGINT/SIGTERM on a batch run leave its batches running instead: this is the way to stop paid work on purpose.

        Exit codes: 0 every open batch ended and was collected; 1 an error; 130/143 interrupted (what is not collected yet is collected by the next resume or cancel-batches).
        """
    )

    @Option(help: ArgumentHelp("The run's ledger.", valueName: "path")) var ledger: String
    @OptionGroup var settings: SettingsOptions

    func validate() throws {
        if settings.metricsListen != nil { throw ValidationError("--metrics-listen is for run, resume and retry, not cancel-batches") }
    }

    func run() async throws {
        let (handle, recipe, runSettings) = try DiskFull.guarding(ledger: ledger) {
            try ContinueRun.open(ledger: ledger, shard: nil, durability: .normal, overrides: settings)
        }
        let open = try handle.openSubmissions()
        guard !open.isEmpty else {
            Terminal.error("batch: \(handle.path) has no open provider batches; nothing to cancel")
            return
        }
        let (client, transport) = try RunSetup.client(settings: runSettings, recipe: recipe)
        defer { transport.shutdown() }
        let api = BatchAPIClient(transport: transport, config: client.config, kind: runSettings.batchAPI.flatMap(BatchAPIKind.init(rawValue:)))
        let run = BatchModeRun(
            ledger: handle, recipe: recipe, api: api, settings: runSettings, runID: try handle.run().runID, draining: true,
            onProgress: { Terminal.error($0) })
        let summary = try await TerminationSignals.routing(to: run.control) {
            let asked = try await run.cancelOpen()
            Terminal.error("batch: asked the provider to cancel \(asked) of \(open.count) open batches; collecting what they finished")
            return try await run.run()
        }
        let left = try handle.openSubmissions().count
        Terminal.error("batch: \(summary.counts.done) rows done, \(summary.counts.pending) pending, \(left) batches still open")
        if case .interrupted(let signal) = summary.reason { throw ExitCode(BatchExitCode.interrupted(signal)) }
    }
}
