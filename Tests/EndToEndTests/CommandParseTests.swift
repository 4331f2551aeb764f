import ArgumentParser
import Testing
import BatchRunner
@testable import batch

/// Every subcommand parsed in-process with `Batch.parseAsRoot`, as swift-argument-parser tests
/// its examples: valid arguments become the right values, invalid ones are refused with the
/// message users see and the usage exit code (64).
@Suite("Command parsing, in process")
struct CommandParseTests {
    /// The command `arguments` parse into, as `T`.
    func parse<T: ParsableCommand>(_ type: T.Type, _ arguments: [String]) throws -> T {
        let command = try Batch.parseAsRoot(arguments)
        return try #require(command as? T, "\(arguments) parsed into \(Swift.type(of: command)), not \(T.self)")
    }

    /// The message and exit code of the refusal of `arguments`, or nil when they parse.
    func refusal(_ arguments: [String]) -> (message: String, code: Int32)? {
        do {
            _ = try Batch.parseAsRoot(arguments)
            return nil
        } catch {
            return (Batch.message(for: error), Batch.exitCode(for: error).rawValue)
        }
    }

    func expectRefused(_ arguments: [String], saying text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let refused = refusal(arguments) else {
            Issue.record("\(arguments) parsed; expected a refusal saying \(text)", sourceLocation: sourceLocation)
            return
        }
        #expect(refused.message.contains(text), "\(refused.message)", sourceLocation: sourceLocation)
        #expect(refused.code == BatchExitCode.usage, "\(arguments): exit \(refused.code)", sourceLocation: sourceLocation)
    }

    @Test("run: every flag lands in its field")
    func runParses() throws {
        let run = try parse(RunCommand.self, [
            "run", "--ledger", "runs/a.db", "--num", "1000", "--recipe", "r.json", "--knowledge", "k.txt", "--shard", "1/4",
            "--durability", "full", "--pilot", "20", "--yes", "--concurrency", "auto:64", "--rpm", "600", "--tpm", "90000",
            "--max-attempts", "3", "--max-cost", "2.5", "--base-url", "http://127.0.0.1:8089/v1", "--api-key-env", "MY_KEY",
            "--request-timeout", "30", "--grace-period", "5", "--backoff-base", "0.25", "--backoff-cap", "60", "--breaker", "7",
            "--seed", "42", "--http1.1", "--mode", "batch", "--batch-api", "openai", "--batch-size", "100", "--batches-open", "2",
            "--poll-interval", "0.5", "--finish-online-after", "3600", "--ignore-credits", "--metrics-listen", "127.0.0.1:0",
        ])
        #expect(run.ledger == "runs/a.db" && run.num == 1000 && run.recipe == "r.json" && run.knowledge == "k.txt")
        #expect(run.shard == "1/4" && run.durability == .full && run.pilot == 20 && run.yes)
        let s = run.settings
        #expect(s.concurrency == ConcurrencySetting(limit: 64, adaptive: true))
        #expect(s.rpm == 600 && s.tpm == 90_000 && s.maxAttempts == 3 && s.maxCost == 2.5)
        #expect(s.baseURL == "http://127.0.0.1:8089/v1" && s.apiKeyEnv == "MY_KEY")
        #expect(s.requestTimeout == 30 && s.gracePeriod == 5 && s.backoffBase == 0.25 && s.backoffCap == 60)
        #expect(s.breaker == 7 && s.seed == 42 && s.http11 && !s.noHttp11)
        #expect(s.mode == .batch && s.batchAPI == .openai && s.batchSize == 100 && s.batchesOpen == 2)
        #expect(s.pollInterval == 0.5 && s.finishOnlineAfter == 3_600 && s.ignoreCredits && s.metricsListen == "127.0.0.1:0")
    }

    @Test("run: flags not given stay unset, so the stored or built-in defaults apply")
    func runDefaults() throws {
        let run = try parse(RunCommand.self, ["run", "--ledger", "a.db", "--num", "5"])
        #expect(run.recipe == nil && run.shard == nil && run.pilot == nil && !run.yes && run.durability == .normal)
        #expect(run.settings.concurrency == nil && run.settings.rpm == nil && run.settings.maxCost == nil)
        #expect(run.settings.baseURL == nil && run.settings.mode == nil && run.settings.metricsListen == nil)
        let auto = try parse(RunCommand.self, ["run", "--ledger", "a.db", "--num", "5", "--concurrency", "AUTO"])
        #expect(auto.settings.concurrency == ConcurrencySetting(limit: RunDefaults.adaptiveConcurrencyMaximum, adaptive: true))
    }

    static let runRefusals: [(arguments: [String], message: String)] = [
        (["--num", "0"], "--num must be at least 1"),
        (["--num", "5", "--pilot", "0"], "--pilot must be at least 1 row"),
        (["--num", "5", "--yes"], "--yes confirms going on after a --pilot"),
        (["--num", "5", "--concurrency", "0"], "--concurrency must be between 1 and 4096"),
        (["--num", "5", "--concurrency", "auto:5000"], "--concurrency must be between 1 and 4096"),
        (["--num", "5", "--rpm", "0"], "--rpm must be positive"),
        (["--num", "5", "--tpm=-1"], "--tpm must be positive"),
        (["--num", "5", "--max-attempts", "0"], "--max-attempts must be at least 1"),
        (["--num", "5", "--max-cost=-1"], "--max-cost must not be negative"),
        (["--num", "5", "--base-url", "ftp://example.com"], "--base-url must start with http:// or https://"),
        (["--num", "5", "--base-url", "https://user:pw@example.com/v1"], "--base-url must not hold credentials"),
        (["--num", "5", "--request-timeout", "0"], "--request-timeout must be positive"),
        (["--num", "5", "--breaker", "0"], "--breaker must be at least 1"),
        (["--num", "5", "--batch-size", "0"], "--batch-size must be at least 1"),
        (["--num", "5", "--batches-open", "0"], "--batches-open must be at least 1"),
        (["--num", "5", "--finish-online-after=-1"], "--finish-online-after must not be negative"),
        (["--num", "5", "--poll-interval", "0.01"], "--poll-interval must be at least 0.05 seconds"),
        (["--num", "5", "--http1.1", "--no-http1.1"], "--http1.1 and --no-http1.1 contradict each other"),
        (["--num", "5", "--metrics-listen", "nowhere"], "--metrics-listen takes ADDR:PORT"),
        (["--num", "5", "--mode", "offline"], "--mode"),
        (["--num", "5", "--durability", "maybe"], "--durability"),
        (["--num", "five"], "--num"),
    ]

    @Test("run refuses bad values with the message users see", arguments: runRefusals)
    func runRefuses(_ arguments: [String], _ message: String) {
        expectRefused(["run", "--ledger", "a.db"] + arguments, saying: message)
    }

    @Test("run without --ledger or --num is a usage error naming the missing flag")
    func runMissing() {
        expectRefused(["run", "--num", "5"], saying: "--ledger")
        expectRefused(["run", "--ledger", "a.db"], saying: "--num")
    }

    @Test("resume and retry: the ledger, the shard and only the settings given")
    func resumeAndRetryParse() throws {
        let resume = try parse(ResumeCommand.self, ["resume", "--ledger", "runs/{shard}.db", "--shard", "0/2", "--max-cost", "9", "--no-http1.1"])
        #expect(resume.ledger == "runs/{shard}.db" && resume.shard == "0/2" && resume.durability == .normal)
        #expect(resume.settings.maxCost == 9 && resume.settings.noHttp11 && resume.settings.rpm == nil)
        let retry = try parse(RetryCommand.self, ["retry", "--ledger", "a.db", "--indices", "3,17,40-45", "--durability", "full"])
        #expect(retry.ledger == "a.db" && retry.indices == "3,17,40-45" && retry.durability == .full && retry.shard == nil)
        expectRefused(["resume", "--ledger", "a.db", "--rpm", "0"], saying: "--rpm must be positive")
        expectRefused(["retry", "--ledger", "a.db", "--max-attempts", "0"], saying: "--max-attempts must be at least 1")
        expectRefused(["resume"], saying: "--ledger")
    }

    @Test("retry's --indices: a list and ranges, and what is not one")
    func indexList() throws {
        #expect(try parseIndexList("3,17,40-45") == [3, 17, 40, 41, 42, 43, 44, 45])
        #expect(throws: ValidationError.self) { try parseIndexList("-3") }
        #expect(throws: ValidationError.self) { try parseIndexList("10-") }
        #expect(throws: ValidationError.self) { try parseIndexList("1,,2") }
    }

    @Test("extend: the ledger and the new total; --num at least 1")
    func extendParses() throws {
        let extend = try parse(ExtendCommand.self, ["extend", "--ledger", "a.db", "--num", "1500", "--shard", "2/3"])
        #expect(extend.ledger == "a.db" && extend.num == 1_500 && extend.shard == "2/3")
        expectRefused(["extend", "--ledger", "a.db", "--num", "0"], saying: "--num must be at least 1")
        expectRefused(["extend", "--ledger", "a.db"], saying: "--num")
    }

    @Test("cancel-batches: the ledger and settings; --metrics-listen is refused")
    func cancelBatchesParses() throws {
        let cancel = try parse(CancelBatchesCommand.self, ["cancel-batches", "--ledger", "a.db", "--base-url", "http://127.0.0.1:1/v1"])
        #expect(cancel.ledger == "a.db" && cancel.settings.baseURL == "http://127.0.0.1:1/v1")
        expectRefused(["cancel-batches", "--ledger", "a.db", "--metrics-listen", "127.0.0.1:0"],
                      saying: "--metrics-listen is for run, resume and retry, not cancel-batches")
    }

    @Test("status: several ledgers and --json; at least one ledger")
    func statusParses() throws {
        let status = try parse(StatusCommand.self, ["status", "--ledger", "a.db", "--ledger", "b.db", "--json"])
        #expect(status.ledger == ["a.db", "b.db"] && status.json)
        #expect(try !parse(StatusCommand.self, ["status", "--ledger", "a.db"]).json)
        expectRefused(["status"], saying: "Missing expected argument '--ledger <path> ...'")
    }

    @Test("export: ledgers, outputs, format, drop and its rejects")
    func exportParses() throws {
        let export = try parse(ExportCommand.self, [
            "export", "--ledger", "s0.db", "--ledger", "s1.db", "--output", "out.jsonl", "--metadata", "meta.jsonl",
            "--format", "seed-metadata", "--require-complete", "--drop", "exact-duplicates,near-duplicates",
            "--rejects", "rej.jsonl", "--near-duplicate-threshold", "0.9",
        ])
        #expect(export.ledger == ["s0.db", "s1.db"] && export.output == "out.jsonl" && export.metadata == "meta.jsonl")
        #expect(export.format == "seed-metadata" && export.requireComplete && export.drop == "exact-duplicates,near-duplicates")
        #expect(export.rejects == "rej.jsonl" && export.nearDuplicateThreshold == 0.9)
        let plain = try parse(ExportCommand.self, ["export", "--ledger", "a.db", "--output", "out.jsonl"])
        #expect(plain.format == "messages" && !plain.requireComplete && plain.drop == nil && plain.nearDuplicateThreshold == 0.8)
    }

    static let exportRefusals: [(arguments: [String], message: String)] = [
        (["--output", "o.jsonl"], "Missing expected argument '--ledger <path> ...'"),
        (["--ledger", "a.db", "--output", "o.jsonl", "--format", "csv"], "--format is messages or seed-metadata"),
        (["--ledger", "a.db", "--output", "o.jsonl", "--metadata", "o.jsonl"], "--metadata must be a different file from --output"),
        (["--ledger", "a.db", "--output", "o.jsonl", "--drop", "near-dupes"],
         "--drop: near-dupes is not a check; the checks are exact-duplicates, near-duplicates, shape-mismatch, non-ascii, first-message-style"),
        (["--ledger", "a.db", "--output", "o.jsonl", "--rejects", "r.jsonl"], "--rejects is where --drop puts the rows it leaves out"),
        (["--ledger", "a.db", "--output", "o.jsonl", "--near-duplicate-threshold", "0"], "--near-duplicate-threshold is a similarity above 0 and at most 1"),
        (["--ledger", "a.db", "--output", "-", "--drop", "non-ascii"], "--drop with --output -: give --rejects FILE for the rows left out"),
        (["--ledger", "a.db"], "--output"),
    ]

    @Test("export refuses bad combinations with the message users see", arguments: exportRefusals)
    func exportRefuses(_ arguments: [String], _ message: String) {
        expectRefused(["export"] + arguments, saying: message)
    }

    @Test("report: ledgers, output and threshold, each checked")
    func reportParses() throws {
        let report = try parse(ReportCommand.self, ["report", "--ledger", "a.db", "--output", "r.html", "--near-duplicate-threshold", "0.5"])
        #expect(report.ledger == ["a.db"] && report.output == "r.html" && report.nearDuplicateThreshold == 0.5)
        #expect(try parse(ReportCommand.self, ["report", "--ledger", "a.db"]).output == nil)
        expectRefused(["report"], saying: "Missing expected argument '--ledger <path> ...'")
        expectRefused(["report", "--ledger", "a.db", "--near-duplicate-threshold", "1.5"],
                      saying: "--near-duplicate-threshold is a similarity above 0 and at most 1")
    }

    @Test("preview: an index or a range; anything else refused")
    func previewParses() throws {
        let preview = try parse(PreviewCommand.self, ["preview", "--index", "5-9", "--json", "--recipe", "r.json"])
        #expect(preview.index == "5-9" && preview.json && preview.recipe == "r.json")
        #expect(try parse(PreviewCommand.self, ["preview"]).index == "0")
        #expect(refusal(["preview", "--index", "9-5"])?.code == BatchExitCode.usage)
        #expect(refusal(["preview", "--index", "x"])?.code == BatchExitCode.usage)
    }

    @Test("recipe init and check take their folder and file")
    func recipeParses() throws {
        let initCommand = try parse(RecipeInitCommand.self, ["recipe", "init", "my-recipe", "--force"])
        #expect(initCommand.directory == "my-recipe" && initCommand.force)
        let check = try parse(RecipeCheckCommand.self, ["recipe", "check", "r.json", "--knowledge", "k.txt"])
        #expect(check.file == "r.json" && check.knowledge == "k.txt")
        expectRefused(["recipe", "init"], saying: "<dir>")
    }

    @Test("simulate: address, latency and fault rates")
    func simulateParses() throws {
        let simulate = try parse(SimulateCommand.self, [
            "simulate", "--port", "0", "--latency-ms", "50", "--latency-sigma", "0.5", "--fail-429", "0.1", "--retry-after", "3", "--rpm", "60",
        ])
        #expect(simulate.port == 0 && simulate.host == "127.0.0.1" && simulate.latencyMs == 50 && simulate.latencySigma == 0.5)
        #expect(simulate.fail429 == 0.1 && simulate.retryAfter == 3 && simulate.rpm == 60)
        #expect(refusal(["simulate", "--fail-429", "1.5"])?.code == BatchExitCode.usage)
    }

    @Test("demo takes its sizes; an unknown subcommand or flag is a usage error")
    func demoAndUnknown() throws {
        let demo = try parse(DemoCommand.self, ["demo", "--num", "40", "--concurrency", "4", "--pilot", "0", "--output-dir", "d"])
        #expect(demo.num == 40 && demo.concurrency == 4 && demo.pilot == 0 && demo.outputDir == "d")
        expectRefused(["frobnicate"], saying: "frobnicate")
        expectRefused(["status", "--ledger", "a.db", "--colour"], saying: "--colour")
    }
}
