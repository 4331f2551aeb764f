import BatchRunner
import Dispatch
import Foundation

/// SIGINT and SIGTERM as an async sequence: the one way this program takes them, for the runs
/// (`routing(to:during:)`) and for `batch simulate` (which stops at the first).
///
/// The signals are trapped from `init` on, so one sent right after (say, after a ready line) is
/// never lost; `stop()` (or the end of the value) gives them back their default action, killing
/// the process.
final class TerminationSignals {
    /// The signal numbers, as they arrive.
    let received: AsyncStream<Int32>
    private var sources: [any DispatchSourceSignal]

    init() {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        received = stream
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    /// Stops trapping: SIGINT and SIGTERM end the process again.
    func stop() {
        guard !sources.isEmpty else { return }
        for source in sources { source.cancel() }
        sources = []
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }

    deinit { stop() }

    /// Runs `body` (a run) with each SIGINT or SIGTERM passed to `control`: the first asks the
    /// run to finish the requests in flight within its grace period, a second to stop at once.
    static func routing<T>(to control: RunControl, during body: () async throws -> T) async throws -> T {
        let signals = TerminationSignals()
        defer { signals.stop() }
        let received = signals.received
        return try await withThrowingDiscardingTaskGroup(returning: T.self) { group in
            group.addTask {
                for await number in received {
                    Terminal.error("\nbatch: received \(name(of: number)); finishing requests in flight (again to stop at once)")
                    control.shutdown(signal: number)
                }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// "SIGINT" or "SIGTERM".
    static func name(of number: Int32) -> String { number == SIGINT ? "SIGINT" : "SIGTERM" }
}
