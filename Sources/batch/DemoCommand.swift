import ArgumentParser
import BatchRunner
import Foundation
import Ledger
import Recipe
import Simulator

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Try batch end to end with no API key: a local simulated provider, a small run, an export.",
        discussion: """
        Starts `batch simulate` in this process on a free loopback port (with a few rate limits, server errors and malformed answers mixed in, and an implicit prompt cache), runs a pilot of --pilot rows and prints its projection of the whole run's cost and time (as `batch run --pilot K --yes` does), then the rest of --num rows of the nanochat recipe through the real HTTP client into a ledger, exports the JSONL, and prints where everything is. Files go to --output-dir; a previous demo's files there are replaced.
        """
    )

    @Option(help: ArgumentHelp("Where to put the ledger and the export.", valueName: "dir")) var outputDir = "batch-demo"
    @Option(help: ArgumentHelp("The recipe. Default: the built-in nanochat-identity recipe.", valueName: "path")) var recipe: String?
    @Option(help: "How many conversations.") var num: Int64 = 200
    @Option(help: "Requests in flight at once.") var concurrency = 32
    @Option(help: "The simulator's median latency in milliseconds.") var latencyMs = 100
    @Option(help: "Rows of the pilot, whose projection is printed before the rest run (0: none; online mode only).") var pilot = 20
    @Option(help: ArgumentHelp(
        "online: one request per row. batch: through the simulated provider's Batch API (batches of a quarter of the rows, each taking about a second), as `run --mode batch` does.",
        valueName: "online|batch")) var mode: RunMode = .online
    @Option(help: "The share of requests answered with each injected fault (429, 500, malformed content, truncated).")
    var faultRate = 0.03
    @Option(help: "The share of answers with each injected flaw of the data (duplicate, near-duplicate, wrong number of messages, off-style first message, non-ASCII), for the report to find.")
    var dataFaultRate = 0.02

    func run() async throws {
        let loaded = try Recipe.load(pathOrBuiltIn: recipe)
        try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        let ledgerPath = outputDir + "/demo.db", output = outputDir + "/demo.jsonl", metadata = outputDir + "/demo.meta.jsonl"
        let reportPath = outputDir + "/demo.report.html"
        for file in [ledgerPath, ledgerPath + "-wal", ledgerPath + "-shm", ledgerPath + ".lock", output, metadata, reportPath] {
            try? FileManager.default.removeItem(atPath: file)
        }

        var config = SimulatorConfig(
            latency: .lognormal(median: .milliseconds(latencyMs), sigma: 0.5),
            rate429: faultRate, rate500: faultRate, rateMalformed: faultRate, rateTruncated: faultRate / 3,
            retryAfterSeconds: 1, seed: 1)
        config.promptCache = true
        // Answers that follow their prompts, with a few flaws of the data itself for the report to find.
        config.variedContent = true
        config.dataFaultRates = [.duplicate: dataFaultRate, .nearDuplicate: dataFaultRate, .wrongShape: dataFaultRate, .offStyle: dataFaultRate, .nonASCII: dataFaultRate]
        config.batchTurnaround = .seconds(1)
        config.batchRequestErrorRate = faultRate
        config.batchExpireRate = faultRate
        let server = try await SimulatorServer.start(config)
        Terminal.error("batch demo: simulated provider at \(server.baseURL) (no API key needed)")

        var settings = RunSettings()
        settings.concurrency = concurrency
        settings.baseURL = server.baseURL
        settings.apiKeyEnv = "BATCH_DEMO_NO_KEY"
        settings.backoffBaseMs = 200
        settings.backoffCapMs = 2_000
        settings.seed = 1
        if mode == .batch {
            settings.mode = "batch"
            settings.batchSize = Int(max(1, (num + 3) / 4))
            settings.pollIntervalMs = 200
        }
        let ledger = try RunSetup.create(
            ledgerPath: ledgerPath, recipe: loaded, num: num, shard: nil, settings: settings, durability: .normal,
            nowMs: SystemRunClock().nowMs())
        var rowsFailed: ExitCode?
        do {
            try await RunDriver.drive(
                ledger: ledger, recipe: loaded, settings: settings, pilot: mode == .online && pilot > 0 && pilot < num ? pilot : nil,
                proceed: true)
        } catch let code as ExitCode where code.rawValue == BatchExitCode.rowsFailed {
            rowsFailed = code  // the done rows are still exported
        } catch {
            try? await server.stop()
            throw error
        }
        let stats = server.stats()
        try await server.stop()

        let report = try Exporter.export(ledgers: [ledgerPath], output: output, metadata: metadata, format: .messages)
        let written = try RunReport.write(ledgers: [ledgerPath], output: reportPath, nowMs: SystemRunClock().nowMs())
        let flagged = QualityCheck.allCases.compactMap { check in written.quality.failing[check].map { "\($0) \(check.rawValue)" } }
        let batch = Invocation.command
        let note = Invocation.isOnPath ? "" : "\n\n(batch is not on the PATH yet: make install, in the repository, puts it there.)"
        let firstLine = (try? String(contentsOfFile: output, encoding: .utf8))?.split(separator: "\n").first.map(String.init) ?? ""
        print("""

            batch demo finished: \(report.rows) conversations from \(mode == .batch
                ? "\(stats.batchesCreated) simulated provider batches at half price (rows a batch did not answer went into a later one)"
                : "\(stats.requests) simulated requests (\(stats.requests - report.rows) answered with injected faults and retried)").

              ledger    \(ledgerPath)
              export    \(output)
              metadata  \(metadata)
              report    \(reportPath)  (open it in a browser: the run over time, and the data's quality)

            data: \(flagged.isEmpty ? "no row flagged" : "flagged " + flagged.joined(separator: ", ")); `\(batch) export --drop CHECK,...` leaves them out

            first line: \(firstLine.prefix(160))\(firstLine.count > 160 ? "..." : "")

            Next:
              \(batch) status --ledger \(ledgerPath)
              \(batch) preview --index 0
              \(batch) recipe init my-recipe
              export \(RunDefaults.apiKeyEnv)=...; \(batch) run --ledger runs/identity.db --num 1000\(note)
            """)
        if let rowsFailed { throw rowsFailed }
    }
}
