import ArgumentParser
import BatchRunner
import Foundation
import Ledger
import Recipe

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start a run: plan indices 0..<N in a new ledger and generate until every row is done or failed.",
        discussion: """
        Index i gets exactly the prompt nanochat's generator sends for random.Random(i). Every outcome is written to the ledger as it happens, so the run can be stopped at any moment (Ctrl-C, SIGTERM, kill -9, a lost node) and continued with `batch resume`.

        The API key is read from the variable named by --api-key-env (\(RunDefaults.apiKeyEnv)) or a .env file in the working directory; it is never stored, logged or printed. A loopback --base-url (a local `batch simulate`) needs no key.

        Exit codes: 0 all rows done; 1 error; 3 the provider refused the run (key, credits, model); 4 --max-cost reached; 5 circuit breaker; 6 finished with failed rows (rerun them with `batch retry`); 7 disk full (free space, then `batch resume`); 8 stopped after --pilot (`batch resume` goes on); 64 bad flags; 130/143 interrupted. resume and retry exit the same way.
        """
    )

    @Option(help: ArgumentHelp("The ledger file to create. {shard} is replaced by the shard index.", valueName: "path"))
    var ledger: String
    @Option(help: ArgumentHelp("The recipe (JSON); see recipes/README.md. Default: the built-in nanochat-identity recipe (`batch recipe init DIR` writes an editable copy).", valueName: "path"))
    var recipe: String?
    @Option(help: ArgumentHelp("A knowledge file to use instead of the recipe's.", valueName: "path"))
    var knowledge: String?
    @Option(help: "How many conversations: indices 0..<N.") var num: Int64
    @Option(help: ArgumentHelp("Plan only shard K of N (every N-th index from K). Defaults from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT. With {shard} in --ledger, --rpm, --tpm and --max-cost hold for all N shards together: each task reads its siblings' ledgers every 2 s and takes its share (rates split among the shards running, the budget by planned rows, with what finished shards left over going to the rest).", valueName: "K/N"))
    var shard: String?
    @Option(help: "normal (a killed process loses nothing) or full (also survives power loss; slower).")
    var durability: Durability = .normal
    @Option(help: ArgumentHelp(
        "Send the first K rows (real rows of the run, not wasted), print the cost per row, tokens, latency and the projected cost and time of the whole run, and stop there (exit 8; `batch resume` goes on) unless --yes, or --max-cost covers the projection.",
        valueName: "K")) var pilot: Int?
    @Flag(help: "With --pilot: go on after the pilot without stopping.") var yes = false
    @OptionGroup var settings: SettingsOptions

    func validate() throws {
        try validateNum(num)
        if let pilot, pilot < 1 { throw ValidationError("--pilot must be at least 1 row") }
        if yes && pilot == nil { throw ValidationError("--yes confirms going on after a --pilot; give --pilot K too") }
    }

    func run() async throws {
        let shard = try ShardRules.shard(flag: shard)
        let path = try reportingUsageErrors { try ShardRules.ledgerPath(ledger, shard: shard) }
        let recipe = try Recipe.load(pathOrBuiltIn: recipe, knowledgePath: knowledge)
        var runSettings = RunSettings()
        settings.overrides.apply(to: &runSettings)
        runSettings.array = ShardRules.array(
            ledgerPattern: ledger, shard: shard, num: num, workingDirectory: FileManager.default.currentDirectoryPath)
        // The key and the CA file are checked here, before anything is created, so that neither
        // leaves a ledger behind; the account is asked on the connection the run then uses. So is
        // the metrics port: one in use stops the command here.
        let connection = try RunSetup.client(settings: runSettings, recipe: recipe)
        defer { connection.1.shutdown(closingConnections: false) }  // the process exits next
        let metrics = try await MetricsEndpoint.start(settings.metricsListen)
        defer { metrics?.stop() }
        let rows = try PlanSize.checked(num: num, shard: shard)
        let account = try await AccountGate.check(
            client: connection.0, settings: &runSettings, recipe: recipe, rows: Int64(rows), ignoreCredits: settings.ignoreCredits)
        try createFolder(of: path)
        let ledgerHandle = try DiskFull.guarding(ledger: path, creating: true) {
            try RunSetup.create(
                ledgerPath: path, recipe: recipe, num: num, shard: shard, settings: runSettings,
                durability: durability, nowMs: SystemRunClock().nowMs())
        }
        Terminal.error("batch: \(path): planned \(try ledgerHandle.counts().total) rows\(shard.map { " (shard \($0))" } ?? "") with \(recipe.model)")
        try await RunDriver.drive(
            ledger: ledgerHandle, recipe: recipe, settings: runSettings, pilot: pilot, proceed: yes, account: account,
            ignoreCredits: settings.ignoreCredits, connection: connection, observer: metrics?.observer)
    }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Continue a stopped or crashed run with the recipe and settings stored in its ledger.",
        discussion: """
        Rows found in flight were orphaned by the process that died and go back to pending. The prompts come from the recipe snapshot in the ledger, not from files on disk. Flags given here override the stored limits and endpoint for this and later resumes.
        """
    )

    @Option(help: ArgumentHelp("The run's ledger. {shard} is replaced by the shard index.", valueName: "path")) var ledger: String
    @Option(help: ArgumentHelp("Refuse unless the ledger is this shard (defaults from SLURM_ARRAY_TASK_ID/COUNT).", valueName: "K/N"))
    var shard: String?
    @Option(help: "normal or full.") var durability: Durability = .normal
    @OptionGroup var settings: SettingsOptions

    func run() async throws {
        var (ledgerHandle, recipe, runSettings) = try DiskFull.guarding(ledger: ledger) {
            try ContinueRun.open(ledger: ledger, shard: shard, durability: durability, overrides: settings)
        }
        let counts = try ledgerHandle.counts()
        let connection = try RunSetup.client(settings: runSettings, recipe: recipe)
        defer { connection.1.shutdown(closingConnections: false) }  // the process exits next
        let metrics = try await MetricsEndpoint.start(settings.metricsListen)
        defer { metrics?.stop() }
        _ = try await AccountGate.check(
            client: connection.0, settings: &runSettings, recipe: recipe, rows: Int64(counts.pending + counts.inFlight),
            ignoreCredits: settings.ignoreCredits)
        Terminal.error("batch: \(ledgerHandle.path): resuming: \(counts.done) done, \(counts.failed) failed, \(counts.pending + counts.inFlight) to go")
        try await RunDriver.drive(ledger: ledgerHandle, recipe: recipe, settings: runSettings, connection: connection, observer: metrics?.observer)
    }
}

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Put failed rows (all, or those listed) back to pending and run them. Done rows are never touched.",
        discussion: "Each retried row starts again with a full attempt budget."
    )

    @Option(help: ArgumentHelp("The run's ledger.", valueName: "path")) var ledger: String
    @Option(help: ArgumentHelp("Only these failed indices: a list and ranges like 3,17,40-45.", valueName: "list")) var indices: String?
    @Option(help: ArgumentHelp("Refuse unless the ledger is this shard.", valueName: "K/N")) var shard: String?
    @Option(help: "normal or full.") var durability: Durability = .normal
    @OptionGroup var settings: SettingsOptions

    func run() async throws {
        let list = try indices.map(parseIndexList)
        var (ledgerHandle, recipe, runSettings) = try DiskFull.guarding(ledger: ledger) {
            try ContinueRun.open(ledger: ledger, shard: shard, durability: durability, overrides: settings)
        }
        let failed = try ledgerHandle.counts().failed
        let connection = try RunSetup.client(settings: runSettings, recipe: recipe)
        defer { connection.1.shutdown(closingConnections: false) }  // the process exits next
        let metrics = try await MetricsEndpoint.start(settings.metricsListen)
        defer { metrics?.stop() }
        _ = try await AccountGate.check(
            client: connection.0, settings: &runSettings, recipe: recipe, rows: Int64(list?.count ?? failed),
            ignoreCredits: settings.ignoreCredits)
        let reset = try DiskFull.guarding(ledger: ledger) { try ledgerHandle.resetFailed(list, nowMs: SystemRunClock().nowMs()) }
        Terminal.error("batch: \(ledgerHandle.path): \(reset) failed rows back to pending")
        try await RunDriver.drive(ledger: ledgerHandle, recipe: recipe, settings: runSettings, connection: connection, observer: metrics?.observer)
    }
}

/// Creates the folder a new ledger goes in (`runs/` of `--ledger runs/identity.db`), as the
/// README's commands expect; says what to fix when it cannot.
func createFolder(of ledgerPath: String) throws {
    let folder = (ledgerPath as NSString).deletingLastPathComponent
    guard !folder.isEmpty else { return }
    do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
        throw ValidationError("cannot create the folder \(folder) for the ledger \(ledgerPath): \(error.localizedDescription); choose a writable place with --ledger")
    }
}

/// `--num N` of run and extend: indices `0..<N`, each within what a recipe can sample.
func validateNum(_ num: Int64) throws {
    guard num >= 1 else { throw ValidationError("--num must be at least 1") }
    guard UInt64(num) - 1 <= Recipe.maximumIndex else { throw ValidationError("--num is too large") }
}

/// Opening an existing run for resume, retry, extend and cancel-batches (`RunSetup.reopen`),
/// with the shard from `--shard` or the Slurm array task.
enum ContinueRun {
    static func open(ledger: String, shard: String?, durability: Durability, overrides: SettingsOptions?) throws -> (Ledger, Recipe, RunSettings) {
        try reportingUsageErrors {
            try RunSetup.reopen(
                ledgerPattern: ledger, shard: try ShardRules.shard(flag: shard),
                durability: durability, overrides: overrides?.overrides)
        }
    }
}

/// `3,17,40-45` -> [3, 17, 40, 41, 42, 43, 44, 45]. Each part is an `IndexRange` (`N` or `A-B`
/// with whole numbers): `-3` and `10-` are refused, not read as 3 and 10.
func parseIndexList(_ text: String) throws -> [Int64] {
    var result: [Int64] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
        let range: IndexRange
        do {
            range = try IndexRange(parsing: String(part))
        } catch {
            throw ValidationError("--indices takes numbers and ranges like 3,17,40-45; \(part.isEmpty ? "an empty item" : String(part)) is not one (\(error))")
        }
        guard range.count <= 10_000_000 else {
            throw ValidationError("--indices \(part) lists \(range.count) indices; give at most 10,000,000 at once, or run `batch retry` without --indices")
        }
        result += range.map { Int64($0) }
    }
    return result
}
