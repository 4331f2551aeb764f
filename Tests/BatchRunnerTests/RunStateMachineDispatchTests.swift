import Testing
@testable import BatchRunner
@testable import Ledger

/// What a pass sends, when it wakes, when it writes and when the run is over, as table rows.
struct RunStateMachineDispatchTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let testDescription: String
        var settings = RunSettings.machine()
        var pilotRows: Int?
        /// Rows due in the fake ledger.
        var due = 0
        var nextDueMs: Int64?
        /// Changes made before the pass (a pause, spend...).
        var before: @Sendable (inout RunStateMachine) -> Void = { _ in }
        var nowMs: Int64 = 100
        // Expected:
        let sent: Int
        var phase = RunPhase.running
        var wakeAtMs: Int64?
        var finish = false
    }

    static let rows: [Row] = [
        Row(testDescription: "the window's worth of due rows is sent, claimed a few at a time",
            due: 20, sent: 8),
        Row(testDescription: "fewer rows due than the window: all are sent, the run waits for their answers",
            due: 3, sent: 3),
        Row(testDescription: "nothing due now but a retry at T: wake at T",
            nextDueMs: 5_000, sent: 0, wakeAtMs: 5_000),
        Row(testDescription: "a retry due already (the claim's clock is behind): wake a millisecond later",
            nextDueMs: 50, sent: 0, wakeAtMs: 101),
        Row(testDescription: "nothing due, no retry, nothing in flight: the run is over",
            sent: 0, phase: .drained, finish: true),
        Row(testDescription: "--pilot 3: three rows are sent, then the pilot stops the run",
            pilotRows: 3, due: 20, sent: 3, phase: .stopping(.pilotFinished(rows: 3), graceDeadlineMs: nil),
            wakeAtMs: 100 + RunStateMachine.flushIntervalMs),
        Row(testDescription: "a pilot that has sent its rows finishes at once",
            pilotRows: 0, due: 20, sent: 0, phase: .stopping(.pilotFinished(rows: 0), graceDeadlineMs: nil), finish: true),
        Row(testDescription: "the budget spent: nothing is sent and the run stops",
            settings: .machine(maxCost: 1), due: 20, before: { $0.usage.cost = 1 },
            sent: 0, phase: .stopping(.budgetReached(cost: 1, budget: 1), graceDeadlineMs: nil), finish: true),
        Row(testDescription: "under a budget with no cost known yet one request goes out at a time",
            settings: .machine(maxCost: 1), due: 20, sent: 1),
        Row(testDescription: "a rate-limit storm's pause: nothing is sent, wake at its end",
            due: 20, before: { $0.window = pausedWindow(until: 5_000) }, sent: 0, wakeAtMs: 5_000),
        Row(testDescription: "at the pause's end sending resumes (in the storm's halved window)",
            due: 20, before: { $0.window = pausedWindow(until: 5_000) }, nowMs: 5_000, sent: 4),
        Row(testDescription: "--rpm 60: one request a second, then wake when the next token is there",
            settings: .machine(requestsPerMinute: 60), due: 20, nowMs: 0, sent: 1, wakeAtMs: 1_000),
    ]

    /// A window that a storm of 429s asking for `until` ms has halved and paused.
    static func pausedWindow(until: Int64) -> CongestionWindow {
        var window = CongestionWindow(maximum: 8)
        for _ in 0..<8 { window.rateLimited(nowMs: 0, waitMs: until) }
        return window
    }

    @Test("sends, wake-ups and the end of the work", arguments: rows)
    func dispatch(_ row: Row) {
        var driver = MachineDriver(row.settings, pilotRows: row.pilotRows, due: row.due, nextDueMs: row.nextDueMs)
        row.before(&driver.machine)
        let end = driver.pass(nowMs: row.nowMs)
        #expect(driver.sent.count == row.sent)
        #expect(driver.machine.inFlight == row.sent)
        #expect(driver.machine.phase == row.phase)
        #expect(end.wakeAtMs == row.wakeAtMs)
        #expect(end.finish == row.finish)
        #expect(driver.machine.claimed.count + driver.sent.count + driver.due.count == row.due || row.phase.isStopping,
                "every claimed row is sent or queued")
    }

    @Test("a stop while rows are queued hands them back at once", arguments: [3, 5])
    func pilotUnclaims(pilot: Int) {
        // Concurrency 8 claims 2 rows at a time, so an odd pilot leaves one claimed row unsent.
        var driver = MachineDriver(.machine(), pilotRows: pilot, due: 20)
        driver.pass(nowMs: 0)
        #expect(driver.sent == Array(0..<Int64(pilot)))
        #expect(driver.machine.claimed.isEmpty)
        let unclaimed = (driver.written + driver.machine.unwritten).filter { if case .unclaim = $0 { true } else { false } }
        #expect(unclaimed == [.unclaim(ClaimedRow(index: Int64(pilot), attempt: 1))])
    }

    // MARK: Judge first under a budget, send first without

    @Test("answers are judged before the sends only under a budget", arguments: [(nil, false), (1.0, true)] as [(Double?, Bool)])
    func judgesFirst(maxCost: Double?, first: Bool) {
        #expect(RunStateMachine(settings: .machine(maxCost: maxCost)).judgesBeforeSending == first)
    }

    @Test("under a budget the answer's cost must count before the next send")
    func budgetJudgesFirst() {
        // One request out (no cost known yet); it answers 200 with cost 0.4 of a budget of 1.
        for judgeFirst in [true, false] {
            var driver = MachineDriver(.machine(maxCost: 1), due: 20)
            driver.pass(nowMs: 0)
            driver.machine.beginPass()
            let row = driver.inFlight.removeFirst()
            let judgedLater = driver.machine.answerArrived(status: 200)
            #expect(judgedLater)
            let judge = { (machine: inout RunStateMachine) in
                var random = SystemRandomNumberGenerator()
                _ = machine.judged(Verdicts.done(cost: 0.4), row: row, startedAtMs: 0, endedAtMs: 10, estimatedTokens: 2_000, nowMs: 10, using: &random)
                machine.judgingEnded(nowMs: 10)
            }
            if judgeFirst { judge(&driver.machine) }
            driver.dispatch(nowMs: 10)
            if !judgeFirst { judge(&driver.machine) }
            driver.endPass(nowMs: 10)
            if judgeFirst {
                // Spent 0.4, estimate 0.4: one more fits (0.8), a third would not (1.2).
                #expect(driver.sent == [0, 1])
                #expect(driver.machine.phase == .running)
            } else {
                // Sending first would have seen no cost and no request in flight: a wrong stop.
                #expect(driver.sent == [0])
                #expect(driver.machine.phase == .stopping(.budgetReached(cost: 0, budget: 1), graceDeadlineMs: nil))
            }
        }
    }

    @Test("without a budget the successors go out before the answers are judged")
    func sendFirstWithoutBudget() {
        var driver = MachineDriver(.machine(), due: 20)
        driver.pass(nowMs: 0)
        driver.machine.beginPass()
        for _ in 0..<2 {
            let judgedLater = driver.machine.answerArrived(status: 200)
            #expect(judgedLater)
        }
        driver.dispatch(nowMs: 10)
        #expect(driver.machine.inFlight == 8, "the two free slots are filled before judging")
        #expect(driver.machine.counts.done == 0)
        let rows = driver.inFlight.prefix(2)
        for row in rows {
            _ = driver.machine.judged(Verdicts.done(), row: row, startedAtMs: 0, endedAtMs: 10, estimatedTokens: 2_000, nowMs: 10, using: &driver.random)
        }
        #expect(driver.machine.counts.done == 2)
    }

    @Test("the budget reached by a judged answer stops the run at the next pass")
    func budgetReached() {
        var driver = MachineDriver(.machine(maxCost: 1), due: 20)
        driver.pass(nowMs: 0)
        driver.machine.beginPass()
        driver.answer(Verdicts.done(cost: 1.5), nowMs: 10)
        driver.dispatch(nowMs: 10)
        let end = driver.endPass(nowMs: 10)
        #expect(driver.sent == [0])
        #expect(driver.machine.phase == .stopping(.budgetReached(cost: 1.5, budget: 1), graceDeadlineMs: nil))
        #expect(end.finish && end.flush, "nothing in flight: the outcome is written and the run ends")
    }

    // MARK: Flush cadence

    struct Flush: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let transitions: Int
        let inFlight: Int
        let phase: RunPhase
        let nowMs: Int64
        let flush: Bool
        let finish: Bool
        let wakeAtMs: Int64?
    }

    @Test("buffered outcomes are written at 256, after 25 ms, or when finishing", arguments: [
        Flush(testDescription: "one outcome, fresh, requests in flight: wait until it is 25 ms old",
              transitions: 1, inFlight: 2, phase: .running, nowMs: 1_024, flush: false, finish: false, wakeAtMs: 1_025),
        Flush(testDescription: "one outcome 25 ms old: written",
              transitions: 1, inFlight: 2, phase: .running, nowMs: 1_025, flush: true, finish: false, wakeAtMs: nil),
        Flush(testDescription: "255 fresh outcomes: not yet",
              transitions: 255, inFlight: 2, phase: .running, nowMs: 1_000, flush: false, finish: false, wakeAtMs: 1_025),
        Flush(testDescription: "256 fresh outcomes: written",
              transitions: 256, inFlight: 2, phase: .running, nowMs: 1_000, flush: true, finish: false, wakeAtMs: nil),
        Flush(testDescription: "finishing a stopped run: written at once",
              transitions: 1, inFlight: 0, phase: .stopping(.pilotFinished(rows: 2), graceDeadlineMs: nil), nowMs: 1_000,
              flush: true, finish: true, wakeAtMs: nil),
        Flush(testDescription: "finishing a run with no work left: written at once",
              transitions: 1, inFlight: 0, phase: .drained, nowMs: 1_000, flush: true, finish: true, wakeAtMs: nil),
        Flush(testDescription: "nothing in flight but still running (a retry due later): not yet",
              transitions: 1, inFlight: 0, phase: .running, nowMs: 1_000, flush: false, finish: false, wakeAtMs: 1_025),
        Flush(testDescription: "nothing to write and nothing in flight: the stopped run is over",
              transitions: 0, inFlight: 0, phase: .stopping(.pilotFinished(rows: 2), graceDeadlineMs: nil), nowMs: 1_000,
              flush: false, finish: true, wakeAtMs: nil),
        Flush(testDescription: "a stop with requests in flight is not over",
              transitions: 0, inFlight: 2, phase: .stopping(.pilotFinished(rows: 2), graceDeadlineMs: nil), nowMs: 1_000,
              flush: false, finish: false, wakeAtMs: nil),
    ])
    func flush(_ row: Flush) {
        var driver = MachineDriver(.machine(), due: row.inFlight, nextDueMs: 999_999)
        driver.pass(nowMs: 0)
        driver.machine.phase = row.phase
        driver.machine.beginPass()
        for i in 0..<row.transitions { driver.machine.record(.window(size: i, reason: "start", atMs: 1_000), nowMs: 1_000) }
        let end = driver.machine.endPass(nowMs: row.nowMs)
        #expect(end.flush == row.flush)
        #expect(end.finish == row.finish)
        #expect(end.wakeAtMs == row.wakeAtMs)
        #expect(driver.machine.unwritten.count == row.transitions)
        driver.machine.flushed()
        #expect(driver.machine.unwritten.isEmpty)
    }

    @Test("a claim takes the buffered outcomes along")
    func claimWritesUnwritten() {
        var driver = MachineDriver(.machine(concurrency: 4), due: 20)
        driver.pass(nowMs: 0)
        driver.machine.beginPass()
        driver.answer(Verdicts.fail(), nowMs: 7)
        let pending = driver.machine.unwritten
        #expect(pending.first == .fail(0, Verdicts.fail().attempt))
        driver.dispatch(nowMs: 7)
        #expect(driver.steps.suffix(3).first == .claim(count: 1))
        #expect(driver.written == pending)
        #expect(driver.machine.unwritten.isEmpty)
    }

    // MARK: Retries becoming due, and the exit condition

    @Test("a retry judged after a claim that found nothing keeps the run going")
    func retryAfterEmptyClaim() {
        var driver = MachineDriver(.machine(), due: 1)
        driver.pass(nowMs: 0)
        driver.machine.beginPass()
        let row = driver.inFlight.removeFirst()
        let judgedLater = driver.machine.answerArrived(status: 200)
        #expect(judgedLater)
        driver.dispatch(nowMs: 10)
        #expect(driver.machine.phase == .drained, "the claim found nothing and nothing is in flight")
        // An invalid conversation: retried at once, but the ledger has not seen it yet.
        _ = driver.machine.judged(Verdicts.retry("invalid_conversation", waitMs: 0), row: row, startedAtMs: 0, endedAtMs: 10, estimatedTokens: 2_000, nowMs: 10, using: &driver.random)
        driver.machine.judgingEnded(nowMs: 10)
        let end = driver.endPass(nowMs: 10)
        #expect(driver.machine.phase == .running)
        #expect(!end.finish)
        #expect(!end.flush && end.wakeAtMs == 10 + RunStateMachine.flushIntervalMs)
        #expect(driver.machine.unwritten.contains(.retry(0, atMs: 10, Verdicts.retry("invalid_conversation").attempt)))
        // The next pass claims with the retry written and sends it again.
        driver.due = [ClaimedRow(index: 0, attempt: 2)]
        driver.pass(nowMs: 35)
        #expect(driver.inFlight == [ClaimedRow(index: 0, attempt: 2)])
    }

    struct RetryWait: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let verdict: RowVerdict
        /// What the jitter generator returns.
        let draw: UInt64
        let dueMs: Int64
    }

    /// A generator that always returns `value`. (`Int64.random(in:using:)` rejects some draws and
    /// draws again: 0 would loop forever; 1 is the smallest draw, and `.max` the largest.)
    struct FixedGenerator: RandomNumberGenerator {
        let value: UInt64
        mutating func next() -> UInt64 { value }
    }

    @Test("when a retried row is due again (judged at 1,000 ms)", arguments: [
        RetryWait(testDescription: "an invalid answer: at once", verdict: Verdicts.retry("invalid_conversation", waitMs: 0), draw: .max, dueMs: 1_000),
        RetryWait(testDescription: "the provider named a wait: after it", verdict: Verdicts.retry("overloaded", waitMs: 3_000), draw: .max, dueMs: 4_000),
        RetryWait(testDescription: "a rate limit: after at least a second", verdict: Verdicts.retry("rate_limited", waitMs: 200, rateLimit: true), draw: .max, dueMs: 2_000),
        RetryWait(testDescription: "a server error: after backoff, the jitter at its ceiling", verdict: Verdicts.retry("server_error", waitMs: nil), draw: .max, dueMs: 1_500),
        RetryWait(testDescription: "a server error: after backoff, the jitter at zero", verdict: Verdicts.retry("server_error", waitMs: nil), draw: 1, dueMs: 1_000),
    ])
    func retryWait(_ row: RetryWait) {
        var driver = MachineDriver(.machine(), due: 1)
        driver.pass(nowMs: 0)
        let sent = driver.inFlight.removeFirst()
        _ = driver.machine.answerArrived(status: 500)
        var random = FixedGenerator(value: row.draw)
        let ended = driver.machine.judged(row.verdict, row: sent, startedAtMs: 0, endedAtMs: 1_000, estimatedTokens: 2_000, nowMs: 1_000, using: &random)
        #expect(ended.outcome == .retry)
        #expect(driver.machine.unwritten.first == .retry(0, atMs: row.dueMs, row.verdict.attempt))
    }

    // MARK: Breakers and the provider's refusal

    struct Failures: Sendable, CustomTestStringConvertible {
        let testDescription: String
        var threshold = 50
        /// Verdicts for the requests sent, answered in order.
        let verdicts: [RowVerdict]
        let expected: RunPhase
    }

    static let failures: [Failures] = [
        Failures(testDescription: "three identical failures trip a breaker of three",
                 threshold: 3, verdicts: Array(repeating: Verdicts.retry(), count: 3) + [Verdicts.done()],
                 expected: .stopping(.circuitOpen(kind: "server_error", count: 3, lastError: "server_error"), graceDeadlineMs: nil)),
        Failures(testDescription: "two of three do not",
                 threshold: 3, verdicts: [Verdicts.retry(), Verdicts.retry(), Verdicts.done(), Verdicts.retry()], expected: .running),
        Failures(testDescription: "rate limits do not count",
                 threshold: 3, verdicts: Array(repeating: Verdicts.retry("rate_limited", waitMs: 1_000, rateLimit: true), count: 4),
                 expected: .running),
        Failures(testDescription: "ten failures and no success, nothing left in flight: the startup breaker",
                 verdicts: Array(repeating: Verdicts.fail(), count: 10),
                 expected: .stopping(.circuitOpen(kind: "bad_request", count: 10, lastError: "bad_request"), graceDeadlineMs: nil)),
        Failures(testDescription: "nine failures and no success: not yet",
                 verdicts: Array(repeating: Verdicts.fail(), count: 9), expected: .running),
        Failures(testDescription: "a success among them: no startup breaker",
                 verdicts: [Verdicts.done()] + Array(repeating: Verdicts.fail(), count: 10), expected: .running),
        Failures(testDescription: "the provider refuses the run: the hard stop",
                 verdicts: [Verdicts.abort("invalid key")], expected: .abandoned(.aborted(message: "invalid key"))),
    ]

    @Test("breakers and the provider's refusal", arguments: failures)
    func failureStops(_ row: Failures) {
        let n = row.verdicts.count
        var driver = MachineDriver(.machine(concurrency: 64, breakerThreshold: row.threshold), due: n + 1)
        driver.pass(nowMs: 0)
        #expect(driver.inFlight.count == n + 1)
        driver.machine.beginPass()
        for verdict in row.verdicts { driver.answer(status: 500, verdict, nowMs: 10) }
        driver.endPass(nowMs: 10)
        // The startup breaker waits for the last request in flight, which could still succeed.
        if case .stopping(.circuitOpen(_, 10, _), _) = row.expected {
            #expect(driver.machine.phase == .running)
            driver.machine.beginPass()
            driver.answer(status: 500, Verdicts.retry("rate_limited", waitMs: 1_000, rateLimit: true), nowMs: 11)
            driver.endPass(nowMs: 11)
        }
        #expect(driver.machine.phase == row.expected)
    }
}
