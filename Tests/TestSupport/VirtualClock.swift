import BatchRunner
import Foundation

/// Virtual time for the run loop: `sleep` jumps the clock to the deadline instead of waiting.
public final class VirtualClock: RunClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: Int64

    public init(startMs: Int64 = 1_000_000) { now = startMs }

    public func nowMs() -> Int64 { lock.withLock { now } }

    public func sleep(untilMs deadlineMs: Int64) async throws {
        try Task.checkCancellation()
        lock.withLock { now = max(now, deadlineMs) }
        await Task.yield()
    }
}
