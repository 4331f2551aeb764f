import Testing
@testable import BatchRunner
@testable import Ledger

/// The run's stops as table rows: (phase, requests in flight, event) -> (phase, abandon?).
struct RunStateMachineStopTests {
    enum Event: Sendable {
        case signal(Int32, atMs: Int64)
        /// A pass at this time with nothing received (the grace deadline is checked).
        case pass(atMs: Int64)
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let phase: RunPhase
        let inFlight: Int
        let event: Event
        let expected: RunPhase
        let abandon: Bool
    }

    static let interrupted = StopReason.interrupted(signal: 2)
    static let budget = StopReason.budgetReached(cost: 1, budget: 1)

    static let rows: [Row] = [
        Row(testDescription: "a first signal stops claiming and starts the grace period",
            phase: .running, inFlight: 2, event: .signal(2, atMs: 100),
            expected: .stopping(interrupted, graceDeadlineMs: 20_100), abandon: false),
        Row(testDescription: "a first signal after the work ran out also starts the grace period",
            phase: .drained, inFlight: 0, event: .signal(15, atMs: 100),
            expected: .stopping(.interrupted(signal: 15), graceDeadlineMs: 20_100), abandon: false),
        Row(testDescription: "a second signal abandons what is in flight at once, keeping the first reason",
            phase: .stopping(interrupted, graceDeadlineMs: 20_100), inFlight: 2, event: .signal(15, atMs: 200),
            expected: .abandoned(interrupted), abandon: true),
        Row(testDescription: "a signal after a budget stop is the hard stop",
            phase: .stopping(budget, graceDeadlineMs: nil), inFlight: 2, event: .signal(2, atMs: 200),
            expected: .abandoned(budget), abandon: true),
        Row(testDescription: "before the grace deadline requests in flight may still finish",
            phase: .stopping(interrupted, graceDeadlineMs: 20_100), inFlight: 2, event: .pass(atMs: 20_099),
            expected: .stopping(interrupted, graceDeadlineMs: 20_100), abandon: false),
        Row(testDescription: "at the grace deadline with requests in flight they are abandoned",
            phase: .stopping(interrupted, graceDeadlineMs: 20_100), inFlight: 2, event: .pass(atMs: 20_100),
            expected: .abandoned(interrupted), abandon: true),
        Row(testDescription: "at the grace deadline with nothing in flight there is nothing to abandon",
            phase: .stopping(interrupted, graceDeadlineMs: 20_100), inFlight: 0, event: .pass(atMs: 30_000),
            expected: .stopping(interrupted, graceDeadlineMs: 20_100), abandon: false),
        Row(testDescription: "a stop without a signal has no grace deadline",
            phase: .stopping(.pilotFinished(rows: 3), graceDeadlineMs: nil), inFlight: 2, event: .pass(atMs: 10_000_000),
            expected: .stopping(.pilotFinished(rows: 3), graceDeadlineMs: nil), abandon: false),
        Row(testDescription: "the requests in flight are abandoned once",
            phase: .abandoned(interrupted), inFlight: 2, event: .signal(2, atMs: 300),
            expected: .abandoned(interrupted), abandon: false),
    ]

    @Test("signals, the grace period and the hard stop", arguments: rows)
    func stops(_ row: Row) {
        var driver = MachineDriver(.machine(concurrency: 8), due: row.inFlight)
        driver.pass(nowMs: 0)
        #expect(driver.machine.inFlight == row.inFlight)
        driver.machine.phase = row.phase
        driver.machine.beginPass()
        let now: Int64
        switch row.event {
        case let .signal(signal, at):
            driver.machine.shutdownSignalled(signal, nowMs: at)
            now = at
        case let .pass(at):
            now = at
        }
        _ = driver.machine.checkGraceDeadline(nowMs: now)
        driver.dispatch(nowMs: now)
        let end = driver.endPass(nowMs: now)
        #expect(driver.machine.phase == row.expected)
        #expect(end.abandon == row.abandon)
        #expect(driver.sent.count == row.inFlight, "no row is sent after a stop")
    }

    @Test("a signal with rows queued: they are unclaimed, and nothing more is sent")
    func signalUnclaimsQueued() {
        // Concurrency 8 claims 2 rows at a time: with one slot free, one claimed row waits.
        var driver = MachineDriver(.machine(concurrency: 8), due: 10)
        driver.pass(nowMs: 0)
        driver.answer(Verdicts.done(), nowMs: 5)
        driver.machine.beginPass()
        driver.dispatch(nowMs: 5)
        #expect(driver.machine.claimed == [ClaimedRow(index: 9, attempt: 1)])
        driver.machine.beginPass()
        driver.machine.shutdownSignalled(2, nowMs: 6)
        driver.dispatch(nowMs: 6)
        let end = driver.endPass(nowMs: 6)
        #expect(driver.machine.claimed.isEmpty)
        #expect(driver.machine.unwritten.last == .unclaim(ClaimedRow(index: 9, attempt: 1)))
        #expect(driver.sent == Array(0...8))
        #expect(!end.abandon && !end.finish, "the requests in flight may finish")
        #expect(end.wakeAtMs == 6 + RunStateMachine.flushIntervalMs, "the unclaim is written within the flush interval")
    }

    struct LateAnswer: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let verdict: RowVerdict
        let transition: @Sendable (ClaimedRow) -> Transition
        let outcome: EndedAttempt.Outcome
        let released: Int
    }

    static let lateAnswers: [LateAnswer] = [
        LateAnswer(testDescription: "a result that arrives after the hard stop is kept",
                   verdict: Verdicts.done(), transition: { .complete($0.index, RowResult(line: "{}"), Verdicts.done().attempt) },
                   outcome: .done, released: 0),
        LateAnswer(testDescription: "a failure after the hard stop puts the row back without counting the attempt",
                   verdict: Verdicts.fail(), transition: { .release($0, startedAtMs: 0) }, outcome: .abandoned, released: 1),
        LateAnswer(testDescription: "a retry after the hard stop puts the row back without counting the attempt",
                   verdict: Verdicts.retry(), transition: { .release($0, startedAtMs: 0) }, outcome: .abandoned, released: 1),
    ]

    @Test("answers that arrive after the hard stop", arguments: lateAnswers)
    func lateAnswer(_ row: LateAnswer) {
        var driver = MachineDriver(.machine(), due: 2)
        driver.pass(nowMs: 0)
        driver.machine.beginPass()
        driver.machine.shutdownSignalled(2, nowMs: 1)
        driver.machine.shutdownSignalled(2, nowMs: 1)
        #expect(driver.endPass(nowMs: 1).abandon)
        let first = driver.inFlight[0]
        driver.machine.beginPass()
        let judgedLater = driver.machine.answerArrived(status: 200)
        #expect(!judgedLater, "after the abort every answer is judged at once")
        driver.inFlight.removeFirst()
        let ended = driver.machine.judged(row.verdict, row: first, startedAtMs: 0, endedAtMs: 5, estimatedTokens: 2_000, nowMs: 5, using: &driver.random)
        #expect(ended.outcome == row.outcome)
        #expect(driver.machine.released == row.released)
        #expect(driver.machine.unwritten.last == row.transition(first))
        let end = driver.endPass(nowMs: 5)
        #expect(!end.finish, "one request is still in flight")
    }

    struct Routing: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let phase: RunPhase
        let status: Int
        let judgedLater: Bool
    }

    @Test("which answers wait for the sends and which are judged at once", arguments: [
        Routing(testDescription: "a 200 while running waits", phase: .running, status: 200, judgedLater: true),
        Routing(testDescription: "a 500 is judged at once", phase: .running, status: 500, judgedLater: false),
        Routing(testDescription: "a 429 is judged at once", phase: .running, status: 429, judgedLater: false),
        Routing(testDescription: "a 200 during the grace period waits", phase: .stopping(interrupted, graceDeadlineMs: 1), status: 200, judgedLater: true),
        Routing(testDescription: "a 200 once the hard stop is asked, before the abort, waits", phase: .hardStop(interrupted), status: 200, judgedLater: true),
        Routing(testDescription: "a 200 after the abort is judged at once", phase: .abandoned(interrupted), status: 200, judgedLater: false),
    ])
    func routing(_ row: Routing) {
        var driver = MachineDriver(.machine(), due: 1)
        driver.pass(nowMs: 0)
        driver.machine.phase = row.phase
        let judgedLater = driver.machine.answerArrived(status: row.status)
        #expect(judgedLater == row.judgedLater)
        #expect(driver.machine.inFlight == 0)
    }
}
