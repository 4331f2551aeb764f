import ArgumentParser
import BatchRunner
import Ledger
import Recipe

struct ExtendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extend",
        abstract: "Add rows to an existing run, finished or not, to top it up to the total you want; `batch resume` then generates them.",
        discussion: """
        --num is the new total, as in `batch run --num`: a ledger of 1000 rows extended with --num 1500 plans indices 1000..<1500 as pending, in one transaction (all of them or none). Rows already planned are not touched: done rows keep their results, and export writes them byte for byte as before. Index i gets the same prompt whatever the total (nanochat's random.Random(i)), so the extended run is the one `batch run --num 1500` would have planned. Nothing is sent here: `batch resume --ledger L` then generates the new rows with the recipe and settings stored in the ledger. A --max-cost stored with the run still caps the whole run's spending; give resume a larger --max-cost when the new rows need it. Use it when `batch report` or `export --drop` leaves fewer clean rows than you want.

        The run must not be running: a ledger that another process writes is refused; stop that run (Ctrl-C or SIGTERM) or wait for it to finish, then extend.

        A Slurm array (--shard K/N, {shard} in --ledger): each shard's ledger gets only its own new indices (every N-th from K), so extend every shard's ledger with the same --num, for example `for k in 0 1 2 3; do batch extend --ledger 'runs/id-{shard}.db' --shard $k/4 --num 2000; done`, then submit the array job again: each task resumes its ledger. export refuses shards extended to different totals.

        Exit codes: 0 extended; 1 an error (another process writes the ledger, a damaged ledger...); 7 disk full (nothing was added); 64 bad flags, or --num not above the rows already planned.
        """
    )

    @Option(help: ArgumentHelp("The run's ledger. {shard} is replaced by the shard index.", valueName: "path")) var ledger: String
    @Option(help: "The run's new total of rows: indices 0..<N, as in `batch run --num`; more than it plans now.") var num: Int64
    @Option(help: ArgumentHelp("Refuse unless the ledger is this shard (defaults from SLURM_ARRAY_TASK_ID/COUNT).", valueName: "K/N"))
    var shard: String?

    func validate() throws {
        try validateNum(num)
    }

    func run() throws {
        let path = try reportingUsageErrors {
            try ShardRules.ledgerPath(ledger, shard: try ShardRules.shard(flag: shard))
        }
        let advice = "No row was added: the ledger is intact and plans what it did before. Free space on the disk holding \(path), then extend again."
        try DiskFull.guarding(ledger: path, advice: advice) {
            let (handle, _, settings) = try Self.open(path, shard: shard)
            let run = try handle.run()
            try Self.checkNewRows(num: num, run: run, path: path)
            let plan = try handle.extend(toPlannedRows: num, nowMs: SystemRunClock().nowMs())
            let share = run.shard.map { " in shard \($0)" } ?? ""
            Terminal.error("""
                batch: \(path): planned \(plan.oldPlannedRows) -> \(plan.newPlannedRows) rows \
                (\(plan.added) new\(share), pending); run `\(Invocation.command) resume --ledger \(path)` to generate them
                """)
            if let shard = run.shard, shard.count > 1 {
                Terminal.error("batch: this is shard \(shard) of an array: extend every shard's ledger with --num \(num) (export refuses shards of different totals)")
            }
            if let maxCost = settings.maxCost {
                Terminal.error(String(
                    format: "batch: the run's --max-cost %.4f still caps its whole spending (%.4f so far); give resume a larger --max-cost if the new rows need it",
                    maxCost, try handle.usage().cost))
            }
        }
    }

    /// The ledger open for writing, its shard checked; a run writing it is refused with what to do.
    private static func open(_ path: String, shard: String?) throws -> (Ledger, Recipe, RunSettings) {
        do {
            return try ContinueRun.open(ledger: path, shard: shard, durability: .normal, overrides: nil)
        } catch let error as LedgerError where error.code == .locked {
            throw LedgerError(.locked, """
                cannot extend the run while it is running: \(error.message) Extend once it has stopped (Ctrl-C or SIGTERM \
                stop it cleanly: its rows in flight go back to pending).
                """)
        }
    }

    /// A usage error when `num` is not a larger total than `run` plans, or more than one ledger can plan.
    private static func checkNewRows(num: Int64, run: RunRecord, path: String) throws {
        guard num > run.plannedRows else {
            let (larger, overflow) = run.plannedRows.addingReportingOverflow(num)
            throw ValidationError("""
                --num \(num) does not extend \(path): it already plans \(run.plannedRows) rows, and --num is the new total\
                \(overflow ? "" : " (to add \(num) rows, give --num \(larger))")
                """)
        }
        _ = try PlanSize.checked(
            num: num, shard: run.shard,
            advice: "A ledger cannot grow past that: choose a smaller --num (a run this large needs more --shard ledgers from its start)")
    }
}
