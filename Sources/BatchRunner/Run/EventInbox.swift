import Foundation
import Ledger
import Provider

/// Something the run loop must react to.
enum RunEvent: Sendable {
    /// A row's request ended: the raw answer, judged by the loop.
    case answered(AnsweredRow)
    /// SIGINT/SIGTERM: stop claiming; a second one stops at once.
    case shutdown(signal: Int32)
    /// A timer fired: look again at what can be sent.
    case wake
}

/// One row's request, ended, with what the loop needs to judge it.
struct AnsweredRow: Sendable {
    let row: ClaimedRow
    let answer: ChatClient.Answer
    let labels: SampleLabels
    let startedAtMs: Int64
    let endedAtMs: Int64
    /// The tokens the rate limiter charged up front.
    let estimatedTokens: Double
}

/// Where request completions, timers and signal handlers post events for the run loop, which drains them
/// in batches (so many finished rows are written in one transaction).
final class EventInbox: Sendable {
    private let lock = NSLock()
    nonisolated(unsafe) private var events: [RunEvent] = []
    private let continuation: AsyncStream<Void>.Continuation
    let wakeups: AsyncStream<Void>

    init() {
        (wakeups, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Adds an event; wakes the loop only for the first event since its last `drain` (the loop
    /// takes every waiting event at once, so later ones need no wake-up of their own).
    func post(_ event: RunEvent) {
        lock.lock()
        let wasEmpty = events.isEmpty
        events.append(event)
        lock.unlock()
        if wasEmpty { continuation.yield(()) }
    }

    /// Whether no event is waiting.
    var isEmpty: Bool {
        lock.lock()
        defer { lock.unlock() }
        return events.isEmpty
    }

    func drain() -> [RunEvent] {
        lock.lock()
        defer { lock.unlock() }
        let drained = events
        events.removeAll(keepingCapacity: true)
        return drained
    }
}
