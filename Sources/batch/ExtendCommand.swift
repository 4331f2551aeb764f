import ArgumentParser
import BatchRunner
import Ledger
import Recipe

struct ExtendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extend",
        abstract: "Add indices to a run (finished or not) to top it up; `batch resume` then generates them.",
        discussion: """
        --num is the new total: a run of 0..<1000 extended with --num 1500 plans 1000..<1500 as pending rows. Done rows are not touched, and each new index gets the prompt random.Random(index) gives it, as if the run had been planned that large from the start. Use it when `batch report` or `export --drop` leaves fewer clean rows than you want.

        The run must not be running (the ledger's writer lock is taken). For a Slurm array, extend every shard's ledger with the same --num (each gets its share of the new indices), then resume the array.

        Example:
          batch extend --ledger runs/identity.db --num 1500 && batch resume --ledger runs/identity.db
        """
    )

    @Option(help: ArgumentHelp("The run's ledger. {shard} is replaced by the shard index.", valueName: "path")) var ledger: String
    @Option(help: "The new total number of conversations: indices 0..<N (larger than the run's).") var num: Int64
    @Option(help: ArgumentHelp("Refuse unless the ledger is this shard (defaults from SLURM_ARRAY_TASK_ID/COUNT).", valueName: "K/N"))
    var shard: String?

    func validate() throws {
        guard num >= 1 else { throw ValidationError("--num must be at least 1") }
        guard UInt64(num) - 1 <= Recipe.maximumIndex else { throw ValidationError("--num is too large") }
    }

    func run() throws {
        let expected = try shardFromFlagOrSlurm(shard)
        let path = try resolveLedgerPath(ledger, shard: expected)
        let outcome = try DiskFull.guarding(ledger: path) {
            let handle = try Ledger(openForWriting: path, durability: .normal)
            if let expected, try handle.run().shard != expected {
                throw ValidationError("\(path) holds shard \(try handle.run().shard?.description ?? "none (unsharded)"), not \(expected); point --ledger at shard \(expected)'s ledger")
            }
            return try RunExtension.extend(handle, to: num, nowMs: SystemRunClock().nowMs())
        }
        Terminal.error("batch: \(path): planned \(outcome.plannedBefore) -> \(outcome.plannedAfter) rows (\(outcome.added) new, pending); generate them with `\(Invocation.command) resume --ledger \(path)`")
    }
}
