import BatchRunner
import Dispatch
import Foundation

/// Routes SIGINT and SIGTERM to a run's control for as long as it is kept: the first asks for a
/// graceful stop, a second for an immediate one.
final class SignalTrap {
    private var sources: [DispatchSourceSignal] = []

    init(_ control: RunControl) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                Terminal.error("\nbatch: received \(signalNumber == SIGINT ? "SIGINT" : "SIGTERM"); finishing requests in flight (again to stop at once)")
                control.shutdown(signal: signalNumber)
            }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
