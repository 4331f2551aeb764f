@testable import BatchRunner
@testable import Ledger

/// Drives a ``RunStateMachine`` the way ``BatchRun`` does, with the ledger played by two plain
/// values (the due rows and the next due time): no SQLite, no clock, no transport.
struct MachineDriver {
    var machine: RunStateMachine
    /// Rows the fake ledger hands out at a claim, in order.
    var due: [ClaimedRow]
    /// What the fake ledger answers when a claim comes back empty.
    var nextDueMs: Int64?
    /// Every transition written, by a claim or a flush, in order.
    var written: [Transition] = []
    /// Every dispatch step the machine answered, in order.
    var steps: [RunStateMachine.DispatchStep] = []
    /// Rows sent and not yet answered, oldest first.
    var inFlight: [ClaimedRow] = []
    /// Backoff jitter (the verdicts in these tests name their waits, so it is never drawn).
    var random = SystemRandomNumberGenerator()

    init(_ settings: RunSettings, pilotRows: Int? = nil, due: Int = 0, nextDueMs: Int64? = nil) {
        machine = RunStateMachine(settings: settings, pilotRows: pilotRows)
        machine.started(nowMs: 0, counts: StateCounts(pending: due), usage: UsageTotals())
        self.due = (0..<Int64(due)).map { ClaimedRow(index: $0, attempt: 1) }
        self.nextDueMs = nextDueMs
    }

    /// The sends of one pass, claims answered from `due`.
    mutating func dispatch(nowMs now: Int64) {
        while true {
            let step = machine.nextDispatch(nowMs: now)
            steps.append(step)
            switch step {
            case let .send(row, _):
                inFlight.append(row)
            case let .claim(count):
                written += machine.unwritten
                let rows = Array(due.prefix(count))
                due.removeFirst(rows.count)
                machine.claimed(rows)
            case .lookUpNextDue:
                machine.nextDue(nextDueMs, nowMs: now)
            case .done:
                return
            }
        }
    }

    /// Ends a pass, writing what the machine says to flush.
    @discardableResult
    mutating func endPass(nowMs now: Int64) -> RunStateMachine.PassEnd {
        let end = machine.endPass(nowMs: now)
        if end.flush {
            written += machine.unwritten
            machine.flushed()
        }
        return end
    }

    /// A whole pass with nothing received: sends, then its end.
    @discardableResult
    mutating func pass(nowMs now: Int64) -> RunStateMachine.PassEnd {
        machine.beginPass()
        dispatch(nowMs: now)
        return endPass(nowMs: now)
    }

    /// The oldest request in flight answers with `status`, judged at once into `verdict`.
    @discardableResult
    mutating func answer(status: Int = 200, _ verdict: RowVerdict, nowMs now: Int64) -> EndedAttempt {
        let row = inFlight.removeFirst()
        _ = machine.answerArrived(status: status)
        let ended = machine.judged(verdict, row: row, startedAtMs: 0, endedAtMs: now, estimatedTokens: 2_000, nowMs: now, using: &random)
        machine.judgingEnded(nowMs: now)
        return ended
    }

    /// Indexes of the rows sent, in order.
    var sent: [Int64] {
        steps.compactMap { if case let .send(row, _) = $0 { row.index } else { nil } }
    }
}

extension RunSettings {
    static func machine(
        concurrency: Int = 8, maxCost: Double? = nil, requestsPerMinute: Double? = nil, breakerThreshold: Int = 50
    ) -> RunSettings {
        var settings = RunSettings()
        settings.concurrency = concurrency
        settings.maxCost = maxCost
        settings.requestsPerMinute = requestsPerMinute
        settings.breakerThreshold = breakerThreshold
        settings.gracePeriodMs = 20_000
        return settings
    }
}

/// Verdicts as `RowJudge` gives them.
enum Verdicts {
    static func done(cost: Double? = nil) -> RowVerdict {
        .done(RowResult(line: "{}"), AttemptRecord(attempt: 1, startedAtMs: 0, endedAtMs: 10, promptTokens: 10, completionTokens: 10, cost: cost))
    }

    static func retry(_ kind: String = "server_error", waitMs: Int64? = 0, rateLimit: Bool = false) -> RowVerdict {
        .retry(AttemptRecord(attempt: 1, startedAtMs: 0, endedAtMs: 10, errorKind: kind, error: kind), waitMs: waitMs, rateLimit: rateLimit)
    }

    static func fail(_ kind: String = "bad_request") -> RowVerdict {
        .fail(AttemptRecord(attempt: 1, startedAtMs: 0, endedAtMs: 10, errorKind: kind, error: kind))
    }

    static func abort(_ message: String = "invalid key") -> RowVerdict {
        .abort(AttemptRecord(attempt: 1, startedAtMs: 0, endedAtMs: 10, errorKind: "auth", error: message), message: message)
    }
}
