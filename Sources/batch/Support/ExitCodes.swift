/// Every exit code `batch` uses, so scripts can branch on them (listed in README.md, "Exit codes").
/// In every case but `success` and `usage`, `batch resume` continues a run where it stopped.
enum BatchExitCode {
    /// run/resume/retry: every row is done. export: the files were written.
    static let success: Int32 = 0
    /// An error; the message says what to fix.
    static let error: Int32 = 1
    /// export --require-complete: some planned index is not done (or a shard's ledger is missing); nothing was written.
    static let exportIncomplete: Int32 = 2
    /// The provider refused the run (bad key, no credits, unknown model).
    static let providerRefused: Int32 = 3
    /// --max-cost reached.
    static let budgetReached: Int32 = 4
    /// The circuit breaker stopped the run: attempts kept failing the same way.
    static let circuitOpen: Int32 = 5
    /// The run finished, but some rows failed; `batch retry` reruns them.
    static let rowsFailed: Int32 = 6
    /// The disk holding the ledger is full; the ledger is intact. Free space, then `batch resume`.
    static let diskFull: Int32 = 7
    /// run --pilot K: the pilot rows are done and the projection printed; `batch resume` goes on.
    static let pilotStopped: Int32 = 8
    /// A usage error: a bad flag or value (ArgumentParser's EX_USAGE).
    static let usage: Int32 = 64
    /// Interrupted by SIGINT (130) or SIGTERM (143): 128 + the signal number.
    static func interrupted(_ signal: Int32) -> Int32 { 128 + signal }
}
