import Foundation

/// The runner's view of time, injectable so tests can drive it.
/// Times are milliseconds since the Unix epoch, as the ledger stores them.
public protocol RunClock: Sendable {
    func nowMs() -> Int64
    /// Returns at or after `deadlineMs`, or throws `CancellationError` when the task is cancelled.
    func sleep(untilMs deadlineMs: Int64) async throws
}

/// Wall-clock time, sleeping with `Task.sleep`.
public struct SystemRunClock: RunClock {
    public init() {}

    public func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000).rounded()) }

    public func sleep(untilMs deadlineMs: Int64) async throws {
        let remaining = deadlineMs - nowMs()
        if remaining > 0 { try await Task.sleep(for: .milliseconds(remaining)) }
    }
}
