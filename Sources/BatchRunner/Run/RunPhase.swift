/// Where a run is in its life (``RunStateMachine``). A stop only moves forward: running or
/// drained, then stopping, then the hard stop, then abandoned; the first reason given is kept.
enum RunPhase: Sendable, Equatable {
    /// Claiming and sending rows.
    case running
    /// The ledger had nothing due and no retry scheduled, and nothing was in flight: the run
    /// finishes once its outcomes are written. A retry judged later in the same pass makes it
    /// `running` again (the ledger had not yet seen that row come back).
    case drained
    /// No more claims; requests in flight may finish. After a signal, until `graceDeadlineMs`.
    case stopping(StopReason, graceDeadlineMs: Int64?)
    /// A second signal, the grace deadline, or the provider refusing the whole run: everything in
    /// flight is aborted at the end of the pass (answers judged earlier in it still count).
    case hardStop(StopReason)
    /// Every exchange in flight was aborted: answers that still arrive are kept if they are
    /// results, and their rows go back to pending otherwise.
    case abandoned(StopReason)

    /// No more rows are claimed.
    var isStopping: Bool {
        switch self {
        case .running, .drained: false
        case .stopping, .hardStop, .abandoned: true
        }
    }

    var isAbandoned: Bool { if case .abandoned = self { true } else { false } }

    var stopReason: StopReason? {
        switch self {
        case .running, .drained: nil
        case .stopping(let reason, _), .hardStop(let reason), .abandoned(let reason): reason
        }
    }

    /// Stops claiming for `reason`, unless the run is already stopping (for an earlier reason).
    mutating func stop(_ reason: StopReason) {
        if !isStopping { self = .stopping(reason, graceDeadlineMs: nil) }
    }

    /// Asks for the hard stop (after `stop`): from stopping only; a later phase stays.
    mutating func stopHard() {
        if case .stopping(let reason, _) = self { self = .hardStop(reason) }
    }
}
