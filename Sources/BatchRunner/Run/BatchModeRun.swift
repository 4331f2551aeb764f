import Foundation
import Ledger
import Logging
import Provider
import Recipe

/// `--mode batch`: the run's rows go through the provider's Batch API (about half the price;
/// minutes to hours instead of seconds) over the same ledger.
///
/// Exactly once, whenever the process dies: rows are claimed into a submission in the ledger
/// (one transaction) before the batch is created, and the create carries the idempotency key
/// `<run_id>.<submission>`; a submission without a batch id is created again with the same key,
/// which gives back the batch made before instead of a second one. A row held by a submission
/// is never sent again while its batch lives. A finished batch's rows are written, and the
/// submission marked collected, in one transaction; a crash before that reads the batch again.
///
/// Each answer is judged as an online one (`RowJudge`); rows whose request failed inside the
/// batch, or that a failed, expired or cancelled batch never answered, go back to pending and
/// into a later batch, until their attempts run out. SIGINT/SIGTERM stop at once and leave the
/// open batches running: they are paid work, and `batch resume` collects them.
public final class BatchModeRun: @unchecked Sendable {
    private let ledger: Ledger
    private let recipe: Recipe
    private let api: BatchAPIClient
    private let settings: RunSettings
    private let clock: any RunClock
    private let logger: Logger
    private let runID: String
    private let onProgress: @Sendable (String) -> Void
    /// Hears of every collected answer (without latency) and of the rows after each pass.
    private let observer: (any RunObserver)?
    private let inbox = EventInbox()
    public let control: RunControl

    /// Rows per batch: `--batch-size`, within the provider's caps (5,000 requests inline on
    /// OpenRouter, 50,000 a file on OpenAI, 200 MB either way: with the seed's 12 KB prompts,
    /// about 16,000 rows fill an OpenAI file).
    let batchSize: Int
    static let maxBatchBytes = 190_000_000
    /// Batches open at once.
    let maxOpen: Int
    let pollIntervalMs: Int64
    /// `cancel-batches`: submit nothing new; collect the open batches (after cancelling them) and stop.
    private var draining: Bool
    /// `--finish-online-after`: from this time on, nothing new goes into batches; the open ones
    /// are cancelled and collected, and `hedged` tells the caller to finish the rest online.
    private let hedgeAtMs: Int64?
    /// The hedge came: the rows still pending are for the online path.
    public private(set) var hedged = false

    private var usage = UsageTotals()
    private var submitted = 0
    private var stopReason: StopReason?
    /// When each open submission may be asked about again (after a poll, a 429 or a 5xx).
    private var nextCallMs: [Int64: Int64] = [:]
    private var failures: [Int64: Int] = [:]
    private var timer: Task<Void, Never>?

    public init(
        ledger: Ledger, recipe: Recipe, api: BatchAPIClient, settings: RunSettings, runID: String,
        clock: any RunClock = SystemRunClock(), logger: Logger = Logger(label: "batch.run"), draining: Bool = false,
        hedgeAtMs: Int64? = nil, observer: (any RunObserver)? = nil, onProgress: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.draining = draining
        self.hedgeAtMs = hedgeAtMs
        self.ledger = ledger
        self.recipe = recipe
        self.api = api
        self.settings = settings
        self.runID = runID
        self.clock = clock
        self.logger = logger
        self.onProgress = onProgress
        self.observer = observer
        self.control = RunControl(inbox: inbox)
        let bytesPerRow = recipe.requestBody(for: recipe.draw(index: 0)).count + 512  // the line's envelope, and longer draws
        let cap = min(api.kind == .openrouter ? 5_000 : 50_000, max(1, Self.maxBatchBytes / bytesPerRow))
        self.batchSize = min(cap, max(1, settings.batchSize ?? cap))
        self.maxOpen = max(1, settings.batchesOpen ?? RunDefaults.batchesOpen)
        self.pollIntervalMs = max(50, settings.pollIntervalMs ?? RunDefaults.pollIntervalMs)
    }

    public func run() async throws -> RunSummary {
        let started = clock.nowMs()
        let orphans = try ledger.releaseOrphans(nowMs: started)
        if orphans > 0 { logger.info("put \(orphans) rows left in flight online by an earlier process back to pending") }
        usage = try ledger.usage()
        var wakeups = inbox.wakeups.makeAsyncIterator()
        defer { timer?.cancel() }
        var lastReport = Int64.min
        while stopReason == nil {
            for event in inbox.drain() {
                if case .shutdown(let signal) = event { stopReason = .interrupted(signal: signal) }
            }
            if stopReason != nil { break }
            let now = clock.nowMs()
            if let hedgeAtMs, !hedged, now >= hedgeAtMs {
                hedged = true
                draining = true
                let asked = try await cancelOpen()
                logger.info("--finish-online-after: cancelled \(asked) open batches; what they finished is kept, the rest goes online")
            }
            var open = try ledger.openSubmissions()
            for submission in open where (nextCallMs[submission.id] ?? .min) <= now {
                try await advance(submission)
                if stopReason != nil { break }
            }
            open = try ledger.openSubmissions()
            while stopReason == nil, !draining, open.count < maxOpen,
                  let (submission, rows) = try ledger.claimSubmission(limit: batchSize, api: api.kind.rawValue, nowMs: clock.nowMs()) {
                try await create(submission, rows: rows)
                open.append(submission)
            }
            let counts = try ledger.counts()
            observer?.batchesProgressed(counts: counts, batchesOpen: open.count)
            if clock.nowMs() >= lastReport + 2_000 || open.isEmpty {
                lastReport = clock.nowMs()
                onProgress("\(counts.done)/\(counts.total) done, \(counts.failed) failed, \(counts.pending) pending, \(open.count) batches open")
            }
            if open.isEmpty {
                guard !draining, let due = try ledger.nextDueMs() else { break }  // finished
                arm(max(due, clock.nowMs() + 1))
            } else {
                var wake = open.map { nextCallMs[$0.id] ?? clock.nowMs() + pollIntervalMs }.min() ?? clock.nowMs() + pollIntervalMs
                if let hedgeAtMs, !hedged { wake = min(wake, hedgeAtMs) }
                arm(wake)
            }
            guard inbox.isEmpty else { continue }
            _ = await wakeups.next()
        }
        let open = try ledger.openSubmissions()
        if !open.isEmpty, case .interrupted = stopReason {
            logger.info("left \(open.count) batches running (\(open.map(\.rows).reduce(0, +)) rows): `batch resume` collects them")
        }
        return RunSummary(
            reason: stopReason ?? .finished, counts: try ledger.counts(), requestsSent: submitted,
            elapsedMs: clock.nowMs() - started, usage: usage, released: orphans)
    }

    /// `cancel-batches`: asks the provider to cancel every open batch (a submission whose create's
    /// answer was lost is first found, or created again with its key, so that its batch is
    /// cancelled too). Then `run()` collects them: what they finished is kept, the rest is pending.
    /// Returns how many batches were asked to cancel.
    public func cancelOpen() async throws -> Int {
        var cancelled = 0
        for var submission in try ledger.openSubmissions() {
            if submission.batchID == nil {
                try await advance(submission)
                guard let found = try ledger.openSubmissions().first(where: { $0.id == submission.id }), found.batchID != nil else { continue }
                submission = found
            }
            guard let batchID = submission.batchID else { continue }
            do {
                let batch = try await api.cancel(batchID)
                try ledger.updateSubmission(submission.id, batchID: nil, status: batch.status, nowMs: clock.nowMs())
                cancelled += 1
            } catch {
                logger.warning("batch \(batchID): could not cancel it (\(error)); it is collected when it ends")
            }
        }
        return cancelled
    }

    private func arm(_ deadline: Int64) {
        timer?.cancel()
        let clock = self.clock, inbox = self.inbox
        timer = Task {
            do {
                try await clock.sleep(untilMs: deadline)
                inbox.post(.wake)
            } catch {}
        }
    }

    // MARK: Steps

    private func key(_ submission: Submission) -> String { "\(runID).\(submission.id)" }

    /// Creates the submission's batch (again, with the same key, when an earlier create's answer
    /// was lost) and records its id.
    private func create(_ submission: Submission, rows: [ClaimedRow]) async throws {
        let lines = rows.map { row in
            BatchRequestLine(customID: "\(runID).\(row.index)", body: recipe.requestBody(for: recipe.draw(index: UInt64(row.index))))
        }
        let batch: ProviderBatch
        do {
            batch = try await api.create(
                lines, model: recipe.model, idempotencyKey: key(submission),
                metadata: ["batch_run": runID, "batch_submission": String(submission.id)])
        } catch {
            return try handle(error, submission, doing: "creating its batch")
        }
        try ledger.updateSubmission(submission.id, batchID: batch.id, status: batch.status, nowMs: clock.nowMs())
        submitted += rows.count
        failures[submission.id] = nil
        nextCallMs[submission.id] = clock.nowMs() + pollIntervalMs
        logger.info("batch \(batch.id): \(rows.count) rows submitted (rows \(rows.first?.index ?? 0)...\(rows.last?.index ?? 0))")
    }

    /// Creates a submission that has no batch yet (after looking for one made by a process that
    /// died before it learned the id), or polls one that has, collecting it once it ended.
    private func advance(_ submission: Submission) async throws {
        guard let batchID = submission.batchID else {
            if try await adopt(submission) { return }
            return try await create(submission, rows: try ledger.rows(ofSubmission: submission.id))
        }
        let batch: ProviderBatch
        let results: [BatchResult]
        do {
            batch = try await api.get(batchID)
            results = batch.isTerminal && batch.status != "failed" ? try await api.results(of: batch) : []
        } catch {
            return try handle(error, submission, doing: "polling batch \(batchID)")
        }
        guard batch.isTerminal else {
            if batch.status != submission.status {
                try ledger.updateSubmission(submission.id, batchID: nil, status: batch.status, nowMs: clock.nowMs())
            }
            nextCallMs[submission.id] = clock.nowMs() + pollIntervalMs
            return
        }
        try collect(submission, batch: batch, results: results)
    }

    /// Looks for the submission's batch among the provider's (its metadata names the run and the
    /// submission): a create that went through before the process died, whose id was never
    /// written. OpenAI's API ignores idempotency keys, so this is what keeps a resume from paying
    /// twice there. OpenRouter lists no metadata: there the idempotency key does it.
    private func adopt(_ submission: Submission) async throws -> Bool {
        guard api.kind == .openai else { return false }
        var after: String?
        do {
            for _ in 0..<10 {  // the newest 1,000 batches: a lost create is among the latest
                let page = try await api.list(after: after, limit: 100)
                if let found = page.batches.first(where: {
                    $0.metadata["batch_run"] == runID && $0.metadata["batch_submission"] == String(submission.id)
                }) {
                    try ledger.updateSubmission(submission.id, batchID: found.id, status: found.status, nowMs: clock.nowMs())
                    nextCallMs[submission.id] = clock.nowMs()
                    logger.info("batch \(found.id): adopted for submission \(submission.id) (created before the last stop, its id unrecorded)")
                    return true
                }
                guard page.hasMore, let last = page.batches.last?.id else { break }
                after = last
            }
        } catch let error as BatchAPIError {
            try handle(error, submission, doing: "listing batches")
            return true  // asked again later
        }
        return false
    }

    private func handle(_ error: BatchAPIError, _ submission: Submission, doing what: String) throws {
        let tries = (failures[submission.id] ?? 0) + 1
        failures[submission.id] = tries
        switch error.kind {
        case .rateLimited(let wait):
            let waitMs = wait?.wholeMilliseconds ?? pollIntervalMs
            nextCallMs[submission.id] = clock.nowMs() + max(waitMs, 100)
            logger.info("submission \(submission.id): 429 while \(what); asking again in \(max(waitMs, 100)) ms")
        case .unavailable, .malformed:
            let backoff = min(Int64(1) << min(tries, 10), 64) * max(pollIntervalMs / 4, 100)
            nextCallMs[submission.id] = clock.nowMs() + backoff
            logger.warning("submission \(submission.id): \(error.description); asking again in \(backoff) ms")
        case .refused(let status):
            // The provider will not take or show this batch: its rows go back to pending, and the
            // run stops, since every batch would be refused the same way.
            try ledger.collect(submission.id, [], status: "refused (HTTP \(status))", nowMs: clock.nowMs())
            stopReason = .aborted(message: "the provider refused \(what) (\(error.description)); the rows are pending again")
        }
    }

    /// Judges a finished batch's answers as online ones and writes them with the submission's end.
    private func collect(_ submission: Submission, batch: ProviderBatch, results: [BatchResult]) throws {
        let now = clock.nowMs()
        let held = Dictionary(uniqueKeysWithValues: try ledger.rows(ofSubmission: submission.id).map { ($0.index, $0) })
        var transitions: [Transition] = []
        var seen = Set<Int64>()
        var cost = 0.0, onlineCost = 0.0
        let prefix = runID + "."
        for result in results {
            guard result.customID.hasPrefix(prefix), let index = Int64(result.customID.dropFirst(prefix.count)),
                  let row = held[index], seen.insert(index).inserted else { continue }
            let verdict = RowJudge.judge(
                result.outcome, labels: SampleLabels(recipe.draw(index: UInt64(index))), recipe: recipe, attempt: row.attempt,
                maxAttempts: settings.maxAttempts, startedAtMs: submission.createdAtMs, endedAtMs: now, prices: settings.prices)
            usage.add(verdict.attempt)
            let attempt = verdict.attempt
            cost += attempt.cost ?? 0
            // Online, the same tokens at the model list's prices; without them, at twice the
            // batch price (the Batch APIs sell at half).
            onlineCost += settings.prices.map {
                $0.cost(promptTokens: attempt.promptTokens ?? 0, completionTokens: attempt.completionTokens ?? 0,
                        cachedTokens: attempt.cachedTokens ?? 0)
            } ?? 2 * (attempt.cost ?? 0)
            switch verdict {
            case .done(let result, let attempt): transitions.append(.complete(index, result, attempt))
            case .retry(let attempt, _, _), .abort(let attempt, _): transitions.append(.retry(index, atMs: now, attempt))
            case .fail(let attempt): transitions.append(.fail(index, attempt))
            }
        }
        try ledger.collect(submission.id, transitions, status: batch.status, cost: cost, onlineCost: onlineCost, nowMs: now)
        if let observer {
            // Once written: each answer as an attempt, without latency (a batch's turnaround is none).
            for transition in transitions {
                switch transition {
                case .complete(_, _, let attempt): observer.attemptEnded(EndedAttempt(.done, attempt, latencyMs: nil))
                case .retry(_, _, let attempt): observer.attemptEnded(EndedAttempt(.retry, attempt, latencyMs: nil))
                case .fail(_, let attempt): observer.attemptEnded(EndedAttempt(.failed, attempt, latencyMs: nil))
                default: break
                }
            }
        }
        nextCallMs[submission.id] = nil
        let done = transitions.filter { if case .complete = $0 { true } else { false } }.count
        logger.info("batch \(batch.id) \(batch.status): \(done) of \(submission.rows) rows done, \(submission.rows - done) to go again or failed")
    }
}
