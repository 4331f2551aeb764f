import ArgumentParser

/// Benchmarks that print numbers (run by scripts under `ops/`, never timed in unit tests).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Micro-benchmarks of the ledger and the HTTP transport (for ops/ scripts).",
        shouldDisplay: false,
        subcommands: [BenchLedgerCommand.self, BenchTransportCommand.self]
    )
}
