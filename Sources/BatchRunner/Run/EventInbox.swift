import Foundation
import Ledger

/// Something the run loop must react to.
enum RunEvent: Sendable {
    /// A row's attempt ended with a verdict.
    case finished(ClaimedRow, RowVerdict, estimatedTokens: Double)
    /// SIGINT/SIGTERM: stop claiming; a second one stops at once.
    case shutdown(signal: Int32)
    /// A timer fired: look again at what can be sent.
    case wake
}

/// Where row tasks, timers and signal handlers post events for the run loop, which drains them
/// in batches (so many finished rows are written in one transaction).
final class EventInbox: Sendable {
    private let lock = NSLock()
    nonisolated(unsafe) private var events: [RunEvent] = []
    private let continuation: AsyncStream<Void>.Continuation
    let wakeups: AsyncStream<Void>

    init() {
        (wakeups, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func post(_ event: RunEvent) {
        lock.lock()
        events.append(event)
        lock.unlock()
        continuation.yield(())
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
