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
/// Outcomes that arrive together are written in one transaction. The rules of all this live in
/// ``RunStateMachine``, a value with no I/O; this class executes what it answers against the
/// ledger, the transport and the injected `RunClock`. A `RunObserver` (live metrics) hears of
/// every ended attempt and gets a progress snapshot every second.
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
    /// Draws the backoff's jitter.
    private var random: SeededRandom
    private let progressIntervalMs: Int64
    private let onProgress: @Sendable (RunProgress) -> Void
    private let observer: (any RunObserver)?
    /// How often the observer gets a snapshot while the run goes on (the display's interval is
    /// `progressIntervalMs`, 10 s when standard error is not a terminal).
    public static let observerIntervalMs: Int64 = 1_000
    private var lastObservedMs: Int64 = .min

    /// The run's rules (phase, windows, limits, budget, buffered outcomes); this class executes
    /// what it answers against the ledger, the transport and the clock.
    private var machine: RunStateMachine
    /// In a Slurm array: the siblings' ledgers, re-read every `arrayRefreshMs` for this shard's share.
    private let siblings: ArraySiblings?
    private var nextArrayRefreshMs: Int64 = .min
    private var lastShare: ArrayShares.Share?
    private let arrayRefreshMs: Int64 = 2_000
    /// For this long after it starts, a task counts every unfinished sibling as running (``ArrayShares``).
    static let arrayStartingMs: Int64 = 10_000
    /// Rows sent and not yet answered, with the handle that aborts each exchange.
    private var inFlight: [Int64: PendingExchange] = [:]
    /// Set once every exchange in flight has been aborted.
    private var cancelled = false
    private var recentFinishes: [(ms: Int64, count: Int)] = []
    private var startedMs: Int64 = 0
    private var lastProgressMs: Int64 = .min
    private var timer: (deadline: Int64, task: Task<Void, Never>)?
    /// The earliest time the current pass asked to be woken at, besides the machine's.
    private var nextWakeMs: Int64?

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
        self.clock = clock
        self.logger = logger
        self.progressIntervalMs = progressIntervalMs
        self.onProgress = onProgress
        self.observer = observer
        self.owner = "pid \(getpid()) at \(clock.nowMs())"
        self.random = SeededRandom(seed: settings.seed ?? UInt64.random(in: 0...UInt64.max))
        self.machine = RunStateMachine(settings: settings, pilotRows: pilotRows)
        self.siblings = settings.array.map { ArraySiblings(array: $0) }
        self.control = RunControl(inbox: inbox)
    }

    /// Runs until every row is done or failed, or the run is stopped. Rows found in flight (a
    /// crashed run's orphans) are first put back to pending. Throws only if the ledger cannot be
    /// written; then rows in flight stay so and the next resume takes them back.
    public func run() async throws -> RunSummary {
        startedMs = clock.nowMs()
        let orphans = try ledger.releaseOrphans(nowMs: startedMs)
        if orphans > 0 { logger.info("put \(orphans) rows left in flight by an earlier process back to pending") }
        machine.started(nowMs: startedMs, counts: try ledger.counts(), usage: try ledger.usage())
        refreshArrayShare(now: startedMs)

        var wakeups = inbox.wakeups.makeAsyncIterator()
        defer { timer?.task.cancel() }
        while true {
            nextWakeMs = nil
            machine.beginPass()
            let end: RunStateMachine.PassEnd
            do {
                let successes = receive(inbox.drain())
                let now = clock.nowMs()
                refreshArrayShare(now: now)
                if machine.checkGraceDeadline(nowMs: now) {
                    logger.info("grace period over: abandoning \(inFlight.count) requests in flight")
                }
                if machine.judgesBeforeSending { judge(successes) }
                try dispatch(now: now)
                if !machine.judgesBeforeSending { judge(successes) }
                end = machine.endPass(nowMs: now)
                if end.abandon { abandonInFlight() }
                if end.flush {
                    try ledger.apply(machine.unwritten, nowMs: now)
                    machine.flushed()
                }
            } catch {
                // The rows in flight stay so in the ledger; the next resume takes them back.
                abandonInFlight()
                throw error
            }
            report(now: clock.nowMs(), force: false)
            if end.finish { break }
            if let deadline = end.wakeAtMs { wake(at: deadline) }
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
            reason: machine.phase.stopReason ?? .finished, counts: try ledger.counts(), requestsSent: machine.requestsSent,
            elapsedMs: end - startedMs, usage: machine.usage, released: machine.released)
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
        guard !cancelled else { return }
        cancelled = true
        for exchange in inFlight.values { exchange.cancel() }
    }

    /// Starts the rows the machine lets through, claiming from the ledger (with the unwritten
    /// outcomes, in one transaction) when it asks.
    private func dispatch(now: Int64) throws {
        while true {
            switch machine.nextDispatch(nowMs: now) {
            case let .send(row, estimate):
                inFlight[row.index] = send(row, estimate: estimate)
            case let .claim(count):
                let rows = try ledger.apply(machine.unwritten, thenClaim: count, nowMs: now, owner: owner)
                machine.claimed(rows)
            case .lookUpNextDue:
                let due = try ledger.nextDueMs()
                machine.nextDue(due, nowMs: now)
            case .done:
                return
            }
        }
    }

    // MARK: Outcomes

    /// Takes in events: answered rows leave `inFlight` (their slots are free for `dispatch`).
    /// Failed exchanges are judged at once, since they may slow or stop the run; HTTP 200
    /// answers are returned, to be judged before or after the next requests are sent.
    private func receive(_ events: [RunEvent]) -> [AnsweredRow] {
        guard !events.isEmpty else { return [] }
        var successes: [AnsweredRow] = []
        var failures: [AnsweredRow] = []
        let now = clock.nowMs()
        for event in events {
            switch event {
            case let .answered(answered):
                guard inFlight.removeValue(forKey: answered.row.index) != nil else { continue }
                if machine.answerArrived(status: Self.status(of: answered)) {
                    successes.append(answered)
                } else {
                    failures.append(answered)
                }
            case let .shutdown(signal):
                machine.shutdownSignalled(signal, nowMs: now)
            case .wake:
                break
            }
        }
        judge(failures)
        return successes
    }

    /// The answer's HTTP status. Not inlined: read inside `receive`, Swift 6.3.1's release
    /// optimiser crashes on that function (an ownership error in CopyPropagation).
    @inline(never)
    private static func status(of answered: AnsweredRow) -> Int? { answered.answer.status }

    /// Judges answered rows and hands the verdicts to the machine (which buffers the ledger writes).
    private func judge(_ answered: [AnsweredRow]) {
        guard !answered.isEmpty else { return }
        let now = clock.nowMs()
        var finished = 0
        for one in answered {
            let verdict = RowJudge.judge(
                client.outcome(of: one.answer), labels: one.labels, recipe: recipe, attempt: one.row.attempt,
                maxAttempts: settings.maxAttempts, startedAtMs: one.startedAtMs, endedAtMs: one.endedAtMs, prices: settings.prices)
            let ended = machine.judged(
                verdict, row: one.row, startedAtMs: one.startedAtMs, endedAtMs: one.endedAtMs,
                estimatedTokens: one.estimatedTokens, nowMs: now, using: &random)
            if ended.outcome == .done || ended.outcome == .failed { finished += 1 }
            observer?.attemptEnded(ended)
        }
        machine.judgingEnded(nowMs: now)
        if finished > 0 { recentFinishes.append((now, finished)) }
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
        machine.shareChanged(share, nowMs: now)
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
        let counts = machine.counts, usage = machine.usage
        let remaining = Double(counts.pending + counts.inFlight)
        let progress = RunProgress(
            counts: counts, elapsedMs: now - startedMs, rowsPerSecond: rate,
            etaSeconds: rate > 0 ? remaining / rate : nil, usage: usage,
            projectedCost: counts.done > 0 ? usage.cost + remaining * usage.cost / Double(counts.done) : nil,
            window: machine.effectiveWindow,
            windowReason: machine.windowReason, adaptive: machine.adaptive != nil,
            paused: machine.window.isPaused(nowMs: now), requestsSent: machine.requestsSent)
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
