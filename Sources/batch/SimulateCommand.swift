import ArgumentParser
import Foundation
import Simulator

/// `batch simulate`: a local OpenAI-compatible server for demos, tests and benchmarks.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a local OpenAI-compatible chat-completions server that fakes a provider, faults included.",
        discussion: """
        Answers POST /v1/chat/completions (and /api/v1/chat/completions) with an OpenRouter-shaped body whose content is a valid conversation ({"messages": [...]}, user first), with usage and cost. Point a run at it with --base-url http://127.0.0.1:<port>/v1; no API key needed unless --require-key-env is given.

        Faults are drawn per request with the given probabilities (their sum must be at most 1); the same --seed and the same order of requests give the same faults (concurrent clients make the order itself vary). GET /stats returns counts by outcome as JSON.

        On start it prints one line, `listening on http://<host>:<port>`, and runs until SIGINT or SIGTERM, then prints its stats and exits 0.

        Examples:
          batch simulate --port 0
          batch simulate --latency-ms 800 --latency-sigma 0.5 --fail-429 0.05
          batch simulate --rpm 20 --require-key-env SIM_KEY --log sim.jsonl --seed 7
        """
    )

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on; 0 picks a free one (read it from the ready line).")
    var port = 8089

    @Option(help: "Event-loop threads.")
    var threads = 1

    @Option(name: .customLong("latency-ms"), help: "Time before each answer, in milliseconds (the median when --latency-sigma > 0).")
    var latencyMs: Double = 0

    @Option(name: .customLong("latency-sigma"), help: "Spread of a lognormal latency around --latency-ms; 0 keeps it fixed.")
    var latencySigma: Double = 0

    @Option(name: .customLong("fail-429"), help: "Rate of 429 answers with a Retry-After header.")
    var fail429: Double = 0

    @Option(name: .customLong("fail-500"), help: "Rate of 500 answers (JSON error body).")
    var fail500: Double = 0

    @Option(name: .customLong("fail-502"), help: "Rate of 502 answers with an HTML body, as a proxy sends.")
    var fail502: Double = 0

    @Option(name: .customLong("fail-503"), help: "Rate of 503 answers (the availability error shape).")
    var fail503: Double = 0

    @Option(name: .customLong("fail-timeout"), help: "Rate of requests never answered: the connection is held until the client gives up.")
    var failTimeout: Double = 0

    @Option(name: .customLong("fail-reset"), help: "Rate of answers cut mid-body by a connection reset.")
    var failReset: Double = 0

    @Option(name: .customLong("fail-malformed"), help: "Rate of answers whose content is not JSON.")
    var failMalformed: Double = 0

    @Option(name: .customLong("fail-bad-conversation"), help: "Rate of answers whose content is JSON with the roles wrong.")
    var failBadConversation: Double = 0

    @Option(name: .customLong("fail-truncated"), help: "Rate of answers cut short with finish_reason \"length\".")
    var failTruncated: Double = 0

    @Option(name: .customLong("fail-error-in-200"), help: "Rate of HTTP 200 answers carrying an error object and choices: null.")
    var failErrorIn200: Double = 0

    @Option(name: .customLong("retry-after"), help: "Seconds sent in Retry-After with injected 429s.")
    var retryAfter = 1

    @Option(help: "Requests per minute to accept; more are answered 429 with Retry-After.")
    var rpm: Int?

    @Option(name: .customLong("require-key-env"), help: ArgumentHelp(
        "Require `Authorization: Bearer <key>`, the key read from this environment variable.",
        valueName: "NAME"))
    var requireKeyEnv: String?

    @Option(help: ArgumentHelp(
        "Model an inference server (vLLM, SGLang): serve at most this many requests at once and queue the rest first in, first out, so latency grows with load and no 429 comes. A number, or a schedule of seconds-since-start:capacity pairs like 0:48,60:24 (the capacity halves after a minute).",
        valueName: "N|schedule"))
    var capacity: String?

    @Option(name: .customLong("service-ms"), help: "With --capacity: milliseconds to serve one request once its turn comes (default 300).")
    var serviceMs = 300

    @Option(name: .customLong("queue-limit"), help: "With --capacity: requests waiting past this many are answered 503 at once (default: no limit; clients time out instead).")
    var queueLimit: Int?

    @Flag(name: .customLong("prompt-cache"), help: ArgumentHelp(
        "Answer as a provider with an implicit prompt cache: the part of a prompt that an earlier request already sent (in 1 KB blocks from its start) is billed at a tenth of the price and reported in usage.prompt_tokens_details.cached_tokens and cache_discount."))
    var promptCache = false

    @Option(help: ArgumentHelp(
        "The account's credits: GET /api/v1/key reports them as the key's limit (less what was billed) and GET /api/v1/credits as its total. Default: no limit (and /credits answers 403).",
        valueName: "dollars"))
    var credits: Double?

    @Flag(name: .customLong("no-cost"), help: "Leave usage.cost out of answers, as providers that do not report cost do (clients price tokens from GET /api/v1/models).")
    var noCost = false

    @Option(name: .customLong("batch-turnaround-ms"), help: "Batch APIs (POST /v1/batches, /v1/files): milliseconds a batch takes from creation to its end (default 2000).")
    var batchTurnaroundMs: Int = 2_000
    @Option(name: .customLong("batch-fail"), help: "Rate of batches that fail validation (status failed, nothing run).")
    var batchFail = 0.0
    @Option(name: .customLong("batch-expire"), help: "Rate of batches that expire with half their requests answered.")
    var batchExpire = 0.0
    @Option(name: .customLong("batch-stuck"), help: "Rate of batches that never finish (until cancelled).")
    var batchStuck = 0.0
    @Option(name: .customLong("batch-request-errors"), help: "Rate of requests inside batches that end with an error line.")
    var batchRequestErrors = 0.0
    @Option(name: .customLong("batch-create-429"), help: "Rate of batch creations answered 429 with Retry-After.")
    var batchCreate429 = 0.0
    @Option(name: .customLong("batch-poll-500"), help: "Rate of batch polls (GET) answered 500.")
    var batchPoll500 = 0.0
    @Option(name: .customLong("batch-create-delay-ms"), help: "Milliseconds between making a batch and answering its create (a client killed meanwhile has a batch it does not know of).")
    var batchCreateDelayMs = 0
    @Flag(name: .customLong("batch-no-idempotency"), help: "Ignore Idempotency-Key on batch creates, as OpenAI does (a client must list batches to find one it lost).")
    var batchNoIdempotency = false

    @Flag(help: ArgumentHelp(
        "Answer with conversations that follow the prompt, as a model would: the number of messages its dynamic names (\"short 2-turn\": 2), a first message from its examples, answers from sentences of its knowledge base. Default: a few canned messages (cheaper; what the benchmarks use)."))
    var varied = false
    @Option(name: .customLong("data-duplicate"), help: "With --varied (implied): rate of answers repeating a recent answer's conversation verbatim.")
    var dataDuplicate = 0.0
    @Option(name: .customLong("data-near-duplicate"), help: "Rate of answers repeating a recent conversation with one word changed (implies --varied).")
    var dataNearDuplicate = 0.0
    @Option(name: .customLong("data-non-ascii"), help: "Rate of answers with characters outside ASCII (implies --varied).")
    var dataNonASCII = 0.0
    @Option(name: .customLong("data-wrong-shape"), help: "Rate of answers with two messages more than the dynamic names (implies --varied; only dynamics that name a length).")
    var dataWrongShape = 0.0
    @Option(name: .customLong("data-off-style"), help: "Rate of answers whose first message is a long paragraph, not in the style of the examples (implies --varied).")
    var dataOffStyle = 0.0

    @Option(name: .customLong("refuse-topic"), help: ArgumentHelp(
        "Refuse prompts whose topic contains this text with 403 \"flagged by moderation\", as a provider's moderation refuses a subject: those rows fail and the dataset is biased against the topic (`batch report` says so).",
        valueName: "text"))
    var refuseTopic: String?

    @Option(help: "Seed for fault, latency and content choices.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Append one JSON line per response (serial, outcome, prompt_sha256, generation_id) to this file.", valueName: "FILE"))
    var log: String?

    func validate() throws {
        do {
            try makeConfig().validate()
        } catch let error as SimulatorError {
            throw ValidationError(error.message)
        }
    }

    func makeConfig() throws -> SimulatorConfig {
        var requiredKey: String?
        if let name = requireKeyEnv {
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw ValidationError("--require-key-env \(name): \(name) is not set; run `export \(name)=...` first")
            }
            requiredKey = value
        }
        var schedule: [CapacityStep]?
        if let capacity {
            guard let parsed = parseCapacitySchedule(capacity) else {
                throw ValidationError("--capacity must be a positive number or seconds:capacity pairs starting at 0, like 0:48,60:24; not \(capacity)")
            }
            schedule = parsed
        } else if serviceMs != 300 || queueLimit != nil {
            throw ValidationError("--service-ms and --queue-limit model a server's capacity: give --capacity too")
        }
        let latency: SimulatorConfig.Latency = latencySigma > 0
            ? .lognormal(median: .milliseconds(latencyMs), sigma: latencySigma)
            : .fixed(.milliseconds(latencyMs))
        var config = SimulatorConfig(
            host: host, port: port, threads: threads, latency: latency,
            rate429: fail429, rate500: fail500, rate502: fail502, rate503: fail503,
            rateTimeout: failTimeout, rateReset: failReset, rateMalformed: failMalformed,
            rateBadConversation: failBadConversation, rateTruncated: failTruncated, rateErrorIn200: failErrorIn200,
            retryAfterSeconds: retryAfter, requestsPerMinute: rpm, requiredAPIKey: requiredKey,
            seed: seed, logPath: log
        )
        config.capacity = schedule
        config.serviceTime = .milliseconds(serviceMs)
        config.queueLimit = queueLimit
        config.promptCache = promptCache
        config.batchTurnaround = .milliseconds(batchTurnaroundMs)
        config.batchFailRate = batchFail
        config.batchExpireRate = batchExpire
        config.batchStuckRate = batchStuck
        config.batchRequestErrorRate = batchRequestErrors
        config.batchCreate429Rate = batchCreate429
        config.batchPoll5xxRate = batchPoll500
        config.batchCreateDelay = .milliseconds(batchCreateDelayMs)
        config.batchIdempotency = !batchNoIdempotency
        config.credits = credits
        config.reportCost = !noCost
        config.dataFaultRates = [
            .duplicate: dataDuplicate, .nearDuplicate: dataNearDuplicate, .nonASCII: dataNonASCII,
            .wrongShape: dataWrongShape, .offStyle: dataOffStyle,
        ].filter { $0.value != 0 }
        config.refusedTopic = refuseTopic
        config.variedContent = varied || !config.dataFaultRates.isEmpty
        return config
    }

    func run() async throws {
        let signals = TerminationSignals()
        defer { signals.stop() }  // a second signal while the server stops is ignored, as the first
        let server: SimulatorServer
        do {
            server = try await SimulatorServer.start(try makeConfig())
        } catch let error as SimulatorError {
            throw ValidationError(error.message)
        }
        print("listening on \(server.rootURL)")
        fflush(nil)
        var arrivals = signals.received.makeAsyncIterator()
        let signal = await arrivals.next() ?? SIGTERM
        try await server.stop()
        let stats = server.stats()
        let outcomes = stats.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("stopped (\(TerminationSignals.name(of: signal))) after \(stats.requests) requests, \(stats.responses) responses; outcomes: \(outcomes.isEmpty ? "none" : outcomes)")
        fflush(nil)
    }
}
