@testable import Ledger

/// One-row transitions and a row's state, which only tests use: the runner records outcomes
/// with `apply` (many rows, one transaction) and reads states through `LedgerReader`.
extension Ledger {
    /// Puts an in-flight row back to pending, due again at `retryAtMs`, recording why.
    func scheduleRetry(_ index: Int64, atMs retryAtMs: Int64, attempt: AttemptRecord, nowMs: Int64) throws(LedgerError) {
        try apply([.retry(index, atMs: retryAtMs, attempt)], nowMs: nowMs)
    }

    /// Marks an in-flight row failed with its last error.
    func fail(_ index: Int64, attempt: AttemptRecord, nowMs: Int64) throws(LedgerError) {
        try apply([.fail(index, attempt)], nowMs: nowMs)
    }

    /// A row's state and attempt count, or nil for an index the ledger does not plan.
    func state(of index: Int64) throws(LedgerError) -> (state: ItemState, attempts: Int)? {
        try locked { () throws(LedgerError) in try Queries.state(db, of: index) }
    }
}
