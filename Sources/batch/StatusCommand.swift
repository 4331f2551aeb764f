import ArgumentParser
import BatchRunner

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Counts by state, attempts, errors by kind, tokens, cost, rate and ETA of one or more ledgers.",
        discussion: "Reads without taking the writer's lock, so it works while a run is writing. Several ledgers (the shards of a run) are summed, and each is listed."
    )

    @Option(help: ArgumentHelp("A ledger; repeat for several.", valueName: "path")) var ledger: [String]
    @Flag(help: "One JSON object: total, pending, in_flight, done, failed, attempts, tokens, cost, errors, rows_per_second, eta_seconds, ledgers.")
    var json = false

    func validate() throws {
        if ledger.isEmpty { throw ValidationError("give at least one --ledger") }
    }

    func run() throws {
        let report = try StatusReport.read(ledgers: ledger, nowMs: SystemRunClock().nowMs())
        print(json ? report.json() : report.text())
    }
}
