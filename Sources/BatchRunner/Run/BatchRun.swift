import Foundation
import Ledger
import Logging
import Provider
import Recipe
import Wire

/// The run loop: claims due rows from the ledger, sends them through the provider client with at
/// most `concurrency` in flight, and records every outcome, until every row is done or failed
/// or something stops the run.
///
/// One loop task owns all state and every ledger write. It builds each request itself and hands
/// it to the transport without a task per row; the transport's completion (on its event thread)
/// only posts the raw answer to the loop's inbox. The loop frees the answered rows' slots and
/// sends their successors first, then judges the successful answers (parsing and validating
/// them is the costly part), so a burst of answers does not hold up the next requests. (Under
/// `--max-cost` it judges first: each answer's cost must count before more requests go out.)
/// Outcomes that arrive together are written in one transaction. Everything it does with time
/// goes through the injected `RunClock`, and jitter through a seeded generator. A `RunObserver`
/// (live metrics) hears of every ended attempt and gets a progress snapshot every second.
public final class BatchRun {
    public let settings: RunSettings
    /// Lets signal handlers (or tests) ask the run to stop.
    public let control: RunControl

    private let ledger: Ledger
    private let recipe: Recipe
    private let client: ChatClient
    private let clock: any RunClock
    private let logger: Logger
    private let owner: String
    private let inbox = EventInbox()
    private var random: SeededRandom
    private let backoff: Backoff
    private let progressIntervalMs: Int64
    private let onProgress: @Sendable (RunProgress) -> Void
    private let observer: (any RunObserver)?
    /// How often the observer gets a snapshot while the run goes on (the display's interval is
    /// `progressIntervalMs`, 10 s when standard error is not a terminal).
    public static let observerIntervalMs: Int64 = 1_000
    private var lastObservedMs: Int64 = .min

    // Loop state.
    private var window: CongestionWindow
    /// `--concurrency auto`: the limit the server's latency allows (nil: a fixed window).
    private var adaptive: AdaptiveWindow?
    /// `--max-cost`: each request in flight holds its expected cost (see ``CostReservations``).
    private var reservations: CostReservations?
    private var reservedFor: [Int64: Double] = [:]
    /// The window last written to the ledger, and why it moved.
    private var loggedWindow: (size: Int, reason: String)?
    private var breaker: CircuitBreaker
    /// The last attempt that failed in a way the breaker counts (for its message).
    private var lastBreakerFailure: AttemptRecord?
    /// `--max-cost`, or in a Slurm array this shard's share of it (see ``ArrayShares``).
    private var budget: Double?
    /// In a Slurm array: the siblings' ledgers, re-read every `arrayRefreshMs` for this shard's share.
    private let siblings: ArraySiblings?
    private var nextArrayRefreshMs: Int64 = .min
    private var lastShare: ArrayShares.Share?
    private let arrayRefreshMs: Int64 = 2_000
    /// For this long after it starts, a task counts every unfinished sibling as running (``ArrayShares``).
    static let arrayStartingMs: Int64 = 10_000
    private var requestBucket: TokenBucket?
    private var tokenBucket: TokenBucket?
    /// Rows sent and not yet answered, with the handle that aborts each exchange.
    private var inFlight: [Int64: PendingExchange] = [:]
    /// Set once every exchange in flight has been aborted (a hard stop): answers that still
    /// arrive are kept if they are results, and their rows go back to pending otherwise.
    private var abandoning = false
    private var counts = StateCounts()
    private var usage = UsageTotals()
    private var requestsSent = 0
    private var stopReason: StopReason?
    private var stopping = false
    private var hardStop = false
    private var graceDeadlineMs: Int64?
    private var noWorkLeft = false
    private var averageTokens = 2_000.0
    private var recentFinishes: [(ms: Int64, count: Int)] = []
    private var startedMs: Int64 = 0
    private var lastProgressMs: Int64 = .min
    private var released = 0
    private var timer: (deadline: Int64, task: Task<Void, Never>)?
    /// The earliest time the current pass asked to be woken at.
    private var nextWakeMs: Int64?
    /// Rows claimed ahead of sending, lowest index last (popped first): one claim transaction
    /// serves several sends. In the ledger they are in flight, so a crash makes them orphans.
    private var claimed: [ClaimedRow] = []
    private let claimBatch: Int
    /// Outcomes not yet written: they go with the next claim, or at most `flushIntervalMs` later.
    /// Until then their rows are in flight in the ledger, so a crash only repeats them.
    private var unwritten: [Transition] = []
    private var oldestUnwrittenMs: Int64 = 0
    private let flushIntervalMs: Int64 = 25

    /// `--pilot K`: stop claiming once this many requests were sent (nil: no pilot).
    private let pilotRows: Int?

    public init(
        ledger: Ledger, recipe: Recipe, client: ChatClient, settings: RunSettings, pilotRows: Int? = nil,
        clock: any RunClock = SystemRunClock(), logger: Logger = Logger(label: "batch.run"),
        progressIntervalMs: Int64 = 2_000, observer: (any RunObserver)? = nil,
        onProgress: @escaping @Sendable (RunProgress) -> Void = { _ in }
    ) {
        self.ledger = ledger
        self.recipe = recipe
        self.client = client
        self.settings = settings
        self.pilotRows = pilotRows
        self.clock = clock
        self.logger = logger
        self.progressIntervalMs = progressIntervalMs
        self.onProgress = onProgress
        self.observer = observer
        self.owner = "pid \(getpid()) at \(clock.nowMs())"
        self.random = SeededRandom(seed: settings.seed ?? UInt64.random(in: 0...UInt64.max))
        self.backoff = Backoff(baseMs: settings.backoffBaseMs, capMs: settings.backoffCapMs)
        self.window = CongestionWindow(maximum: settings.concurrency)
        self.adaptive = settings.adaptiveConcurrency == true ? AdaptiveWindow(maximum: settings.concurrency) : nil
        self.reservations = settings.maxCost.map { CostReservations(budget: $0) }
        self.budget = settings.maxCost
        self.siblings = settings.array.map { ArraySiblings(array: $0) }
        self.breaker = CircuitBreaker(threshold: settings.breakerThreshold)
        self.control = RunControl(inbox: inbox)
        self.claimBatch = min(64, max(1, settings.concurrency / 4))
    }

    /// Runs until every row is done or failed, or the run is stopped. Rows found in flight (a
    /// crashed run's orphans) are first put back to pending. Throws only if the ledger cannot be
    /// written; then rows in flight stay so and the next resume takes them back.
    public func run() async throws -> RunSummary {
        startedMs = clock.nowMs()
        let orphans = try ledger.releaseOrphans(nowMs: startedMs)
        if orphans > 0 { logger.info("put \(orphans) rows left in flight by an earlier process back to pending") }
        counts = try ledger.counts()
        usage = try ledger.usage()
        if let rpm = settings.requestsPerMinute { requestBucket = TokenBucket(perMinute: rpm, nowMs: startedMs) }
        if let tpm = settings.tokensPerMinute { tokenBucket = TokenBucket(perMinute: tpm, burst: max(tpm / 60, averageTokens), nowMs: startedMs) }
        refreshArrayShare(now: startedMs)

        var wakeups = inbox.wakeups.makeAsyncIterator()
        defer { timer?.task.cancel() }
        while true {
            nextWakeMs = nil
            do {
                let successes = receive(inbox.drain())
                let now = clock.nowMs()
                refreshArrayShare(now: now)
                if let grace = graceDeadlineMs, now >= grace, !hardStop, !inFlight.isEmpty {
                    logger.info("grace period over: abandoning \(inFlight.count) requests in flight")
                    hardStop = true
                }
                // With a budget, costs are counted before anything more is sent, so the run stops
                // within the requests already in flight; without one, sending first saves a wave.
                let judgeFirst = settings.maxCost != nil
                if judgeFirst { judge(successes) }
                if !stopping { try dispatch(now: now) }
                if !judgeFirst { judge(successes) }
                checkStartupBreaker()
                // Checked after judging: a verdict may just have stopped the run.
                if hardStop { abandonInFlight() }
                if stopping { unclaimQueued() }
                let finishing = inFlight.isEmpty && (stopping || noWorkLeft)
                if !unwritten.isEmpty && (finishing || unwritten.count >= 256 || now >= oldestUnwrittenMs + flushIntervalMs) {
                    try flush(now: now)
                } else if !unwritten.isEmpty {
                    wake(at: oldestUnwrittenMs + flushIntervalMs)
                }
            } catch {
                // The rows in flight stay so in the ledger; the next resume takes them back.
                abandonInFlight()
                throw error
            }
            report(now: clock.nowMs(), force: false)
            if inFlight.isEmpty && unwritten.isEmpty && (stopping || noWorkLeft) { break }
            if let grace = graceDeadlineMs, !hardStop { wake(at: grace) }
            wake(at: lastProgressMs + progressIntervalMs)
            if observer != nil { wake(at: lastObservedMs + Self.observerIntervalMs) }
            // Events that arrived during this pass are handled at once; only an idle loop sleeps.
            guard inbox.isEmpty else { continue }
            armTimer()
            _ = await wakeups.next()
        }
        let end = clock.nowMs()
        report(now: end, force: true)
        return RunSummary(
            reason: stopReason ?? .finished, counts: try ledger.counts(), requestsSent: requestsSent,
            elapsedMs: end - startedMs, usage: usage, released: released)
    }

    // MARK: One attempt

    /// Builds the row's request and starts it. The completion runs on the transport's thread
    /// and only posts the raw answer.
    private func send(_ row: ClaimedRow, estimate: Double) -> PendingExchange {
        let started = clock.nowMs()
        let draw = recipe.draw(index: UInt64(row.index))
        let body = recipe.requestBody(for: draw)
        let labels = SampleLabels(draw)
        let clock = self.clock, inbox = self.inbox
        return client.start(body: body) { answer in
            inbox.post(.answered(AnsweredRow(
                row: row, answer: answer, labels: labels, startedAtMs: started, endedAtMs: clock.nowMs(),
                estimatedTokens: estimate)))
        }
    }

    /// Aborts every exchange in flight, once (their answers still arrive, as cancellations).
    private func abandonInFlight() {
        guard !abandoning else { return }
        abandoning = true
        for exchange in inFlight.values { exchange.cancel() }
    }

    // MARK: Dispatch

    /// Starts as many rows as the window, the rate limits and the budget allow, claiming more
    /// from the ledger (with the unwritten outcomes, in one transaction) when the queue is empty.
    private func dispatch(now: Int64) throws {
        if let budget, usage.cost >= budget {
            stop(.budgetReached(cost: usage.cost, budget: budget))
            unclaimQueued()
            return
        }
        if window.isPaused(nowMs: now) {
            wake(at: window.pausedUntilMs)
            return
        }
        while inFlight.count < effectiveWindow {
            if let pilotRows, requestsSent >= pilotRows {
                stop(.pilotFinished(rows: pilotRows))
                unclaimQueued()
                return
            }
            if let reservations, !reservations.allows(spent: usage.cost) {
                // The next request's expected cost does not fit. Answers in flight may still
                // settle below their reservations; with none left, the budget is reached.
                if inFlight.isEmpty {
                    stop(.budgetReached(cost: usage.cost, budget: reservations.budget))
                    unclaimQueued()
                }
                return
            }
            if claimed.isEmpty {
                let rows = try ledger.apply(unwritten, thenClaim: claimBatch, nowMs: now, owner: owner)
                unwritten.removeAll(keepingCapacity: true)
                guard !rows.isEmpty else {
                    // Nothing more is due now: finished, or waiting for a retry's due time.
                    if let due = try ledger.nextDueMs() {
                        wake(at: max(due, now + 1))
                    } else if inFlight.isEmpty {
                        noWorkLeft = true
                    }
                    return
                }
                claimed = rows.reversed()
            }
            if let ready = requestBucket?.take(nowMs: now) {
                wake(at: ready)
                return
            }
            if let ready = tokenBucket?.take(averageTokens, nowMs: now) {
                requestBucket?.adjust(by: -1, nowMs: now)
                wake(at: ready)
                return
            }
            let row = claimed.removeLast()
            counts.pending -= 1
            counts.inFlight += 1
            requestsSent += 1
            if let reservation = reservations?.reserve(spent: usage.cost) { reservedFor[row.index] = reservation }
            inFlight[row.index] = send(row, estimate: averageTokens)
        }
    }

    /// Requests that may be in flight now: the congestion window, capped by the adaptive one.
    private var effectiveWindow: Int { min(window.window, adaptive?.limit ?? .max) }

    /// Why the window is what it is: the adaptive window's last move, or a 429 storm's cut.
    private var windowReason: String {
        if let adaptive, adaptive.limit <= window.window { return adaptive.reason.rawValue }
        return window.window < window.maximum ? AdaptiveWindow.Reason.rateLimited.rawValue : AdaptiveWindow.Reason.start.rawValue
    }

    /// Records a change of the window (size or reason) with the next ledger write.
    private func logWindowChange(now: Int64) {
        let size = effectiveWindow, reason = windowReason
        if let logged = loggedWindow, logged.size == size, logged.reason == reason { return }
        loggedWindow = (size, reason)
        if unwritten.isEmpty { oldestUnwrittenMs = now }
        unwritten.append(.window(size: size, reason: reason, atMs: now))
    }

    /// Feeds the adaptive window a failed attempt: 429s, timeouts and overload answers cut it.
    private func congestion(_ attempt: AttemptRecord, rateLimited: Bool, now: Int64) {
        guard adaptive != nil else { return }
        if rateLimited {
            adaptive?.congested(.rateLimited, nowMs: now)
        } else if attempt.errorKind == "timeout" {
            adaptive?.congested(.timeout, nowMs: now)
        } else if attempt.httpStatus == 503 {
            adaptive?.congested(.overload, nowMs: now)
        }
    }

    /// Hands rows claimed but never sent back to pending (at a stop).
    private func unclaimQueued() {
        guard !claimed.isEmpty else { return }
        if unwritten.isEmpty { oldestUnwrittenMs = clock.nowMs() }
        unwritten += claimed.map { .unclaim($0) }
        claimed.removeAll()
    }

    private func flush(now: Int64) throws {
        try ledger.apply(unwritten, nowMs: now)
        unwritten.removeAll(keepingCapacity: true)
    }

    // MARK: Outcomes

    /// Takes in events: answered rows leave `inFlight` (their slots are free for `dispatch`).
    /// Failed exchanges are judged at once, since they may slow or stop the run; HTTP 200
    /// answers are returned, to be judged after the next requests are sent.
    private func receive(_ events: [RunEvent]) -> [AnsweredRow] {
        guard !events.isEmpty else { return [] }
        var successes: [AnsweredRow] = []
        var failures: [AnsweredRow] = []
        let now = clock.nowMs()
        for event in events {
            switch event {
            case let .answered(answered):
                guard inFlight.removeValue(forKey: answered.row.index) != nil else { continue }
                counts.inFlight -= 1
                if answered.answer.status == 200 && !abandoning {
                    successes.append(answered)
                } else {
                    failures.append(answered)
                }
            case let .shutdown(signal):
                if stopping {
                    hardStop = true
                } else {
                    stop(.interrupted(signal: signal))
                    graceDeadlineMs = now + settings.gracePeriodMs
                }
            case .wake:
                break
            }
        }
        judge(failures)
        return successes
    }

    /// Judges answered rows and records their verdicts; the ledger writes are buffered in `unwritten`.
    private func judge(_ answered: [AnsweredRow]) {
        guard !answered.isEmpty else { return }
        let now = clock.nowMs()
        var transitions: [Transition] = []
        var finished = 0
        for one in answered {
            let row = one.row
            let verdict = RowJudge.judge(
                client.outcome(of: one.answer), labels: one.labels, recipe: recipe, attempt: row.attempt,
                maxAttempts: settings.maxAttempts, startedAtMs: one.startedAtMs, endedAtMs: one.endedAtMs, prices: settings.prices)
            if let reservation = reservedFor.removeValue(forKey: row.index) {
                reservations?.settle(reservation, actual: abandoning && !verdict.isDone ? nil : verdict.attempt.cost)
            }
            if abandoning, !verdict.isDone {
                // Aborted by the hard stop: not an attempt that counts (a result still is kept).
                counts.pending += 1
                released += 1
                transitions.append(.release(row, startedAtMs: one.startedAtMs))
                noWorkLeft = false
                observer?.attemptEnded(.abandoned(latencyMs: nil))  // cut off: no latency of the provider's
                continue
            }
            let attempt = verdict.attempt
            usage.add(attempt)
            settleTokens(attempt, estimate: one.estimatedTokens, now: now)
            let latencyMs = one.endedAtMs - one.startedAtMs
            switch verdict {
            case let .done(result, attempt):
                transitions.append(.complete(row.index, result, attempt))
                counts.done += 1
                finished += 1
                window.succeeded()
                adaptive?.succeeded(latencyMs: latencyMs, nowMs: now, inFlight: inFlight.count + 1)
                _ = breaker.record(failureKind: nil)
                observer?.attemptEnded(EndedAttempt(.done, attempt, latencyMs: latencyMs))
            case let .retry(attempt, waitMs, rateLimit):
                var delay = waitMs ?? backoff.delayMs(afterFailedAttempts: attempt.attempt, using: &random)
                congestion(attempt, rateLimited: rateLimit, now: now)
                var pausedRun = false
                if rateLimit {
                    delay = max(delay, 1_000)
                    let wasPaused = window.isPaused(nowMs: now)
                    pausedRun = window.rateLimited(nowMs: now, waitMs: delay) && !wasPaused
                } else {
                    window.answered()
                    trip(attempt)
                }
                observer?.attemptEnded(EndedAttempt(.retry, attempt, latencyMs: latencyMs, pausedRun: pausedRun))
                transitions.append(.retry(row.index, atMs: now + delay, attempt))
                counts.pending += 1
                // Judged after this pass's claim: the ledger has not seen the row come back yet.
                noWorkLeft = false
            case let .fail(attempt):
                congestion(attempt, rateLimited: false, now: now)
                transitions.append(.fail(row.index, attempt))
                counts.failed += 1
                finished += 1
                window.answered()
                trip(attempt)
                observer?.attemptEnded(EndedAttempt(.failed, attempt, latencyMs: latencyMs))
            case let .abort(attempt, message):
                transitions.append(.release(row, startedAtMs: attempt.startedAtMs))
                counts.pending += 1
                released += 1
                noWorkLeft = false
                if case .aborted = stopReason {} else { stop(.aborted(message: message)) }
                hardStop = true
                // Recorded as abandoned, as the ledger records it: without usage.
                observer?.attemptEnded(.abandoned(latencyMs: latencyMs))
            }
        }
        if !transitions.isEmpty {
            if unwritten.isEmpty { oldestUnwrittenMs = now }
            unwritten += transitions
        }
        logWindowChange(now: now)
        if finished > 0 { recentFinishes.append((now, finished)) }
    }

    private func trip(_ attempt: AttemptRecord) {
        let kind = attempt.errorKind ?? "unknown"
        lastBreakerFailure = attempt
        guard breaker.record(failureKind: kind) else { return }
        stop(.circuitOpen(kind: kind, count: breaker.failures, lastError: attempt.error ?? kind))
    }

    /// After a pass has judged every answer it received: stops a run in which nothing has
    /// succeeded yet, enough attempts failed (see `CircuitBreaker.startupTripped`), and no
    /// request is still out that could succeed. (At 1,024 in flight a provider's quick errors
    /// come back before its first slow success; they must not stop a healthy run.)
    private func checkStartupBreaker() {
        guard !stopping, inFlight.isEmpty, breaker.startupTripped, let attempt = lastBreakerFailure else { return }
        let kind = attempt.errorKind ?? "unknown"
        stop(.circuitOpen(kind: kind, count: breaker.failures, lastError: attempt.error ?? kind))
    }

    private func settleTokens(_ attempt: AttemptRecord, estimate: Double, now: Int64) {
        guard let prompt = attempt.promptTokens else { return }
        let actual = Double(prompt + (attempt.completionTokens ?? 0))
        tokenBucket?.adjust(by: actual - estimate, nowMs: now)
        averageTokens = averageTokens * 0.9 + actual * 0.1
    }

    private func stop(_ reason: StopReason) {
        if stopReason == nil { stopReason = reason }
        stopping = true
    }

    // MARK: A Slurm array's limits

    /// In a Slurm array, every `arrayRefreshMs`: this shard's share of the array's rate limits
    /// and budget from its siblings' ledgers (``ArrayShares``).
    private func refreshArrayShare(now: Int64) {
        guard let siblings else { return }
        defer { wake(at: nextArrayRefreshMs) }
        guard now >= nextArrayRefreshMs else { return }
        nextArrayRefreshMs = now + arrayRefreshMs
        let share = siblings.share(settings, starting: now - startedMs < Self.arrayStartingMs)
        if let rpm = share.requestsPerMinute, rpm != requestBucket?.perMinute { requestBucket?.setRate(perMinute: rpm, nowMs: now) }
        if let tpm = share.tokensPerMinute, tpm != tokenBucket?.perMinute {
            tokenBucket?.setRate(perMinute: tpm, burst: max(tpm / 60, averageTokens), nowMs: now)
        }
        if let cost = share.maxCost {
            budget = cost
            reservations?.budget = cost
        }
        if lastShare?.running != share.running || lastShare?.finished != share.finished {
            var limits: [String] = []
            if let rpm = share.requestsPerMinute { limits.append(String(format: "%.0f rpm", rpm)) }
            if let tpm = share.tokensPerMinute { limits.append(String(format: "%.0f tpm", tpm)) }
            if let cost = share.maxCost { limits.append(String(format: "a budget of %.4f", cost)) }
            if !limits.isEmpty {
                logger.info("array: shard \(siblings.array.shard)/\(siblings.array.shards) takes \(limits.joined(separator: ", ")) of the array's limits (\(share.running) shards running, \(share.finished) finished)")
            }
        }
        lastShare = share
    }

    // MARK: Timers and progress

    /// Asks for the loop to wake by `deadline`; the earliest asked for in a pass wins.
    private func wake(at deadline: Int64) {
        nextWakeMs = min(nextWakeMs ?? deadline, deadline)
    }

    /// Before the loop waits: one timer for the earliest deadline of the pass (kept if it is
    /// already set for that time). Arming only when idle, instead of whenever a deadline comes
    /// up, also keeps a virtual clock (which jumps to a sleeper's deadline) from moving time
    /// while the loop still has work at the present time.
    private func armTimer() {
        guard let deadline = nextWakeMs else { return }
        if let timer, timer.deadline == deadline, deadline > clock.nowMs() { return }
        timer?.task.cancel()
        let clock = self.clock, inbox = self.inbox
        timer = (deadline, Task {
            do {
                try await clock.sleep(untilMs: deadline)
                inbox.post(.wake)
            } catch {}
        })
    }

    /// Hands a snapshot to the display every `progressIntervalMs` and to the observer every
    /// `observerIntervalMs`; both get the final one (`force`).
    private func report(now: Int64, force: Bool) {
        let display = force || now >= lastProgressMs + progressIntervalMs
        let observe = observer != nil && (force || now >= lastObservedMs + Self.observerIntervalMs)
        guard display || observe else { return }
        recentFinishes.removeAll { $0.ms < now - 60_000 }
        let windowStart = max(startedMs, now - 60_000)
        let span = Double(max(now - windowStart, 1)) / 1_000
        let rate = Double(recentFinishes.reduce(0) { $0 + $1.count }) / span
        let remaining = Double(counts.pending + counts.inFlight)
        let progress = RunProgress(
            counts: counts, elapsedMs: now - startedMs, rowsPerSecond: rate,
            etaSeconds: rate > 0 ? remaining / rate : nil, usage: usage,
            projectedCost: counts.done > 0 ? usage.cost + remaining * usage.cost / Double(counts.done) : nil,
            window: effectiveWindow,
            windowReason: windowReason, adaptive: adaptive != nil,
            paused: window.isPaused(nowMs: now), requestsSent: requestsSent)
        if display {
            lastProgressMs = now
            onProgress(progress)
        }
        if observe {
            lastObservedMs = now
            observer?.progressed(progress)
        }
    }
}

/// Asks a running `BatchRun` to stop; safe to call from any thread (signal handlers, tests).
public struct RunControl: Sendable {
    let inbox: EventInbox

    /// The first call stops claiming and lets requests in flight finish within the grace period;
    /// a second abandons them at once. Either way unfinished rows go back to pending.
    public func shutdown(signal: Int32) { inbox.post(.shutdown(signal: signal)) }
}
