/// The error `withTimeout` throws when its safety timeout passes.
public struct TimedOut: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the test's safety timeout passed (an awaited event never happened)" }
}

/// Runs `operation`, failing with `TimedOut` if it takes longer than `seconds`. A guard
/// against hangs, not a wait: tests never pass by sleeping.
public func withTimeout<T: Sendable>(_ seconds: Int = 30, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimedOut()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
