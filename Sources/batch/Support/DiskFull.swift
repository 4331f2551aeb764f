import ArgumentParser
import Ledger

/// A ledger that could not be written because its disk is full: SQLite rolled the transaction
/// back, so the ledger is intact; rows that were in flight go back to pending on resume.
enum DiskFull {
    /// - Parameter advice: what to do next, when not the default (run again when `creating`, else resume).
    static func exit(_ error: LedgerError, ledger: String, creating: Bool = false, advice: String? = nil) -> ExitCode {
        let advice = advice ?? (creating
            ? "No ledger was created: free space on the disk holding \(ledger) (or choose another --ledger), then run again."
            : "The ledger is intact: free space on the disk holding \(ledger), then `batch resume --ledger \(ledger)` finishes every row.")
        Terminal.error("batch: disk full: \(error.message)\n\(advice)")
        return ExitCode(BatchExitCode.diskFull)
    }

    /// Runs `body`, turning a full disk into its own message and exit code.
    static func guarding<T>(ledger: String, creating: Bool = false, advice: String? = nil, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as LedgerError where error.code == .diskFull {
            throw exit(error, ledger: ledger, creating: creating, advice: advice)
        }
    }
}
