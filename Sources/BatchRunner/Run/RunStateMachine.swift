import Ledger

/// The run loop's rules, apart from their execution: what to claim and send, what each judged
/// answer does to the run, when outcomes are written, when to wake, when to stop and when the run
/// is over. A value with no ledger, transport or clock: ``BatchRun`` tells it what happened (with
/// the time, and the generator for backoff jitter) and does what it answers.
///
/// A pass of the loop goes: ``beginPass()``; for each answer ``answerArrived(status:)`` (failures
/// are judged at once with ``judged(_:row:startedAtMs:endedAtMs:estimatedTokens:nowMs:using:)``), for a
/// signal ``shutdownSignalled(_:nowMs:)``; ``checkGraceDeadline(nowMs:)``; the sends, one
/// ``nextDispatch(nowMs:)`` step at a time, with the 200 answers judged before them when
/// ``judgesBeforeSending`` and after them otherwise; then ``endPass(nowMs:)``. A send is one call
/// and allocates nothing: the executor loops while the machine says `.send`.
struct RunStateMachine {
    /// The next thing to do while sending.
    enum DispatchStep: Equatable {
        /// Start this row's request (it counts as in flight from now on).
        case send(ClaimedRow, estimatedTokens: Double)
        /// Write ``unwritten`` and claim up to `count` due rows in the same transaction; report
        /// them with ``claimed(_:)``.
        case claim(count: Int)
        /// The claim came back empty: report the ledger's next due time with ``nextDue(_:nowMs:)``.
        case lookUpNextDue
        /// Nothing more is sent in this pass.
        case done
    }

    /// What to do at the end of a pass, in this order.
    struct PassEnd: Equatable {
        /// Abort every exchange in flight (this happens once in a run).
        var abandon = false
        /// Write ``unwritten`` now, and report it with ``flushed()``.
        var flush = false
        /// The run is over (after the flush): nothing is in flight and nothing is left to write.
        var finish = false
        /// The earliest time this pass asked to be woken at; nil: only an event wakes the loop.
        var wakeAtMs: Int64?
    }

    /// Outcomes buffered until this many, or this old, are written (or until a claim takes them).
    static let flushCount = 256
    static let flushIntervalMs: Int64 = 25

    let settings: RunSettings
    /// `--pilot K`: stop claiming once this many requests were sent (nil: no pilot).
    let pilotRows: Int?
    /// Rows claimed per transaction: one claim serves several sends.
    let claimBatch: Int
    /// With a budget, answers are judged before the next requests go out, so that each answer's
    /// cost counts first and the run stops within the requests already in flight. Without one,
    /// sending first saves a wave (judging is the costly part of a pass).
    var judgesBeforeSending: Bool { settings.maxCost != nil }

    // State. What has no `private(set)` is also set by the judging extension (another file) and by
    // tests, to start from a given state; the executor only reads it.
    var phase: RunPhase = .running
    var counts = StateCounts()
    var usage = UsageTotals()
    private(set) var requestsSent = 0
    /// In-flight rows put back to pending at a stop.
    var released = 0
    /// Requests sent and not yet answered.
    private(set) var inFlight = 0

    var window: CongestionWindow
    /// `--concurrency auto`: the limit the server's latency allows (nil: a fixed window).
    var adaptive: AdaptiveWindow?
    /// `--max-cost`: each request in flight holds its expected cost (see ``CostReservations``).
    var reservations: CostReservations?
    var reservedFor: [Int64: Double] = [:]
    /// `--max-cost`, or in a Slurm array this shard's share of it (see ``ArrayShares``).
    private(set) var budget: Double?
    var breaker: CircuitBreaker
    /// The last attempt that failed in a way the breaker counts (for its message).
    var lastBreakerFailure: AttemptRecord?
    private(set) var requestBucket: TokenBucket?
    var tokenBucket: TokenBucket?
    /// Tokens a request is expected to use, from the answers so far.
    var averageTokens = 2_000.0
    let backoff: Backoff
    /// The window last written to the ledger, and why it moved.
    var loggedWindow: (size: Int, reason: String)?

    /// Rows claimed ahead of sending, lowest index last (popped first). In the ledger they are in
    /// flight, so a crash makes them orphans.
    private(set) var claimed: [ClaimedRow] = []
    /// Outcomes not yet written: they go with the next claim, or at most `flushIntervalMs` later.
    /// Until then their rows are in flight in the ledger, so a crash only repeats them.
    private(set) var unwritten: [Transition] = []
    private var oldestUnwrittenMs: Int64 = 0

    private enum Dispatch { case open, claiming, claimCameBackEmpty, closed }
    private var dispatch = Dispatch.closed
    private var wakeAtMs: Int64?

    init(settings: RunSettings, pilotRows: Int? = nil) {
        self.settings = settings
        self.pilotRows = pilotRows
        self.claimBatch = min(64, max(1, settings.concurrency / 4))
        self.backoff = Backoff(baseMs: settings.backoffBaseMs, capMs: settings.backoffCapMs)
        self.window = CongestionWindow(maximum: settings.concurrency)
        self.adaptive = settings.adaptiveConcurrency == true ? AdaptiveWindow(maximum: settings.concurrency) : nil
        self.reservations = settings.maxCost.map { CostReservations(budget: $0) }
        self.budget = settings.maxCost
        self.breaker = CircuitBreaker(threshold: settings.breakerThreshold)
    }

    /// The run starts with the ledger's counts and usage (after orphans went back to pending).
    mutating func started(nowMs: Int64, counts: StateCounts, usage: UsageTotals) {
        self.counts = counts
        self.usage = usage
        if let rpm = settings.requestsPerMinute { requestBucket = TokenBucket(perMinute: rpm, nowMs: nowMs) }
        if let tpm = settings.tokensPerMinute {
            tokenBucket = TokenBucket(perMinute: tpm, burst: max(tpm / 60, averageTokens), nowMs: nowMs)
        }
    }

    // MARK: Events

    mutating func beginPass() {
        wakeAtMs = nil
        dispatch = .open
    }

    /// An answer arrived for a request in flight; its slot is free. True: judge it after this
    /// pass's sends (an HTTP 200, unless the run abandoned its requests). False (another status,
    /// or none): judge it at once, since a failure may slow or stop the run.
    mutating func answerArrived(status: Int?) -> Bool {
        inFlight -= 1
        counts.inFlight -= 1
        return status == 200 && !phase.isAbandoned
    }

    /// SIGINT/SIGTERM. The first stops claiming and lets requests in flight finish within the
    /// grace period; one after any stop is the hard stop.
    mutating func shutdownSignalled(_ signal: Int32, nowMs: Int64) {
        if phase.isStopping {
            phase.stopHard()
        } else {
            phase = .stopping(.interrupted(signal: signal), graceDeadlineMs: nowMs + settings.gracePeriodMs)
        }
    }

    /// The hard stop, if the grace deadline has passed with requests still in flight. True when
    /// it began now.
    mutating func checkGraceDeadline(nowMs: Int64) -> Bool {
        guard case .stopping(let reason, let grace?) = phase, nowMs >= grace, inFlight > 0 else { return false }
        phase = .hardStop(reason)
        return true
    }

    /// In a Slurm array: this shard's share of the array's rate limits and budget changed.
    mutating func shareChanged(_ share: ArrayShares.Share, nowMs: Int64) {
        if let rpm = share.requestsPerMinute, rpm != requestBucket?.perMinute {
            requestBucket?.setRate(perMinute: rpm, nowMs: nowMs)
        }
        if let tpm = share.tokensPerMinute, tpm != tokenBucket?.perMinute {
            tokenBucket?.setRate(perMinute: tpm, burst: max(tpm / 60, averageTokens), nowMs: nowMs)
        }
        if let cost = share.maxCost {
            budget = cost
            reservations?.budget = cost
        }
    }

    // MARK: Sending

    /// The next step of this pass's sends: as many rows as the window, the rate limits and the
    /// budget allow, claiming more (with the unwritten outcomes) when the queue is empty.
    mutating func nextDispatch(nowMs now: Int64) -> DispatchStep {
        switch dispatch {
        case .open: break
        case .claimCameBackEmpty: return .lookUpNextDue
        case .claiming, .closed: return .done
        }
        // Checked at every step: between two sends nothing changes the spend or the pause.
        guard !phase.isStopping else { return closeDispatch() }
        if let budget, usage.cost >= budget {
            stopClaiming(.budgetReached(cost: usage.cost, budget: budget), nowMs: now)
            return closeDispatch()
        }
        if window.isPaused(nowMs: now) {
            wake(at: window.pausedUntilMs)
            return closeDispatch()
        }
        guard inFlight < effectiveWindow else { return closeDispatch() }
        if let pilotRows, requestsSent >= pilotRows {
            stopClaiming(.pilotFinished(rows: pilotRows), nowMs: now)
            return closeDispatch()
        }
        if let reservations, !reservations.allows(spent: usage.cost) {
            // The next request's expected cost does not fit. Answers in flight may still settle
            // below their reservations; with none left, the budget is reached.
            if inFlight == 0 { stopClaiming(.budgetReached(cost: usage.cost, budget: reservations.budget), nowMs: now) }
            return closeDispatch()
        }
        if claimed.isEmpty {
            dispatch = .claiming
            return .claim(count: claimBatch)
        }
        if let ready = requestBucket?.take(nowMs: now) {
            wake(at: ready)
            return closeDispatch()
        }
        if let ready = tokenBucket?.take(averageTokens, nowMs: now) {
            requestBucket?.adjust(by: -1, nowMs: now)
            wake(at: ready)
            return closeDispatch()
        }
        let row = claimed.removeLast()
        counts.pending -= 1
        counts.inFlight += 1
        requestsSent += 1
        inFlight += 1
        if let reservation = reservations?.reserve(spent: usage.cost) { reservedFor[row.index] = reservation }
        return .send(row, estimatedTokens: averageTokens)
    }

    /// The claim of `.claim` was made: `unwritten` is written, and these rows are due.
    mutating func claimed(_ rows: [ClaimedRow]) {
        unwritten.removeAll(keepingCapacity: true)
        if rows.isEmpty {
            dispatch = .claimCameBackEmpty
        } else {
            claimed = rows.reversed()
            dispatch = .open
        }
    }

    /// Nothing was due at the claim: wait for the ledger's next retry, or, with none and nothing
    /// in flight, the run has no work left.
    mutating func nextDue(_ dueMs: Int64?, nowMs now: Int64) {
        dispatch = .closed
        if let dueMs {
            wake(at: max(dueMs, now + 1))
        } else if inFlight == 0, !phase.isStopping {
            phase = .drained
        }
    }

    /// Requests that may be in flight now: the congestion window, capped by the adaptive one.
    var effectiveWindow: Int { min(window.window, adaptive?.limit ?? .max) }

    /// Why the window is what it is: the adaptive window's last move, or a 429 storm's cut.
    var windowReason: String {
        if let adaptive, adaptive.limit <= window.window { return adaptive.reason.rawValue }
        return window.window < window.maximum ? AdaptiveWindow.Reason.rateLimited.rawValue : AdaptiveWindow.Reason.start.rawValue
    }

    private mutating func closeDispatch() -> DispatchStep {
        dispatch = .closed
        return .done
    }

    // MARK: The end of a pass

    /// After every answer of the pass was judged: the startup breaker, the hard stop, the
    /// unclaiming of queued rows at a stop, and whether to write now, finish, or sleep.
    mutating func endPass(nowMs now: Int64) -> PassEnd {
        dispatch = .closed
        checkStartupBreaker()
        var end = PassEnd()
        if case .hardStop(let reason) = phase {
            phase = .abandoned(reason)
            end.abandon = true
        }
        if phase.isStopping { unclaimQueued(nowMs: now) }
        let finishing = inFlight == 0 && (phase.isStopping || phase == .drained)
        if !unwritten.isEmpty {
            if finishing || unwritten.count >= Self.flushCount || now >= oldestUnwrittenMs + Self.flushIntervalMs {
                end.flush = true
            } else {
                wake(at: oldestUnwrittenMs + Self.flushIntervalMs)
            }
        }
        end.finish = finishing
        if case .stopping(_, let grace?) = phase { wake(at: grace) }
        end.wakeAtMs = wakeAtMs
        return end
    }

    /// The flush of `endPass` was written.
    mutating func flushed() {
        unwritten.removeAll(keepingCapacity: true)
    }

    /// After a pass has judged every answer it received: stops a run in which nothing has
    /// succeeded yet, enough attempts failed (see `CircuitBreaker.startupTripped`), and no
    /// request is still out that could succeed. (At 1,024 in flight a provider's quick errors
    /// come back before its first slow success; they must not stop a healthy run.)
    private mutating func checkStartupBreaker() {
        guard !phase.isStopping, inFlight == 0, breaker.startupTripped, let attempt = lastBreakerFailure else { return }
        let kind = attempt.errorKind ?? "unknown"
        phase.stop(.circuitOpen(kind: kind, count: breaker.failures, lastError: attempt.error ?? kind))
    }

    /// A stop found while sending: rows claimed but not sent go back at once.
    private mutating func stopClaiming(_ reason: StopReason, nowMs: Int64) {
        phase.stop(reason)
        unclaimQueued(nowMs: nowMs)
    }

    /// Hands rows claimed but never sent back to pending (at a stop).
    private mutating func unclaimQueued(nowMs: Int64) {
        guard !claimed.isEmpty else { return }
        if unwritten.isEmpty { oldestUnwrittenMs = nowMs }
        unwritten += claimed.map { .unclaim($0) }
        claimed.removeAll()
    }

    mutating func record(_ transition: Transition, nowMs: Int64) {
        if unwritten.isEmpty { oldestUnwrittenMs = nowMs }
        unwritten.append(transition)
    }

    /// Asks for the loop to wake by `deadline`; the earliest asked for in a pass wins.
    mutating func wake(at deadline: Int64) {
        wakeAtMs = min(wakeAtMs ?? deadline, deadline)
    }
}
