import Ledger

/// The Ledger library names no `batch` command in its errors; the CLI adds the one that helps.
enum LedgerHints {
    /// `error` with the command hint the CLI gives for it: a missing ledger is started with
    /// `batch run`, an existing one continued with `batch resume`. Any other error is unchanged.
    static func adding(to error: any Error) -> any Error {
        guard let error = error as? LedgerError, let path = error.path else { return error }
        switch error.code {
        case .notFound:
            return LedgerError(.notFound, "no ledger at \(path); start one with `batch run --ledger \(path) ...`", path: path)
        case .alreadyExists:
            return LedgerError(
                .alreadyExists,
                "\(path) already exists; continue it with `batch resume --ledger \(path)` or choose another path", path: path)
        default:
            return error
        }
    }
}
