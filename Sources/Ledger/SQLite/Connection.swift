import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One SQLite connection. Not thread-safe: the ledger serialises every use behind its lock.
final class Connection {
    let handle: OpaquePointer
    let path: String
    private var statements: [String: Statement] = [:]
    private var closed = false
    /// Whether the ledger has schema 7's `run.unplanned_from` (`LazyPlan`), once known to.
    var hasUnplannedColumn: Bool?

    /// Opens `path` with the given `SQLITE_OPEN_*` flags.
    /// `path` may be a `file:` URI (used for `immutable=1` reads).
    init(path: String, flags: Int32) throws(LedgerError) {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw LedgerError(.io, "cannot open ledger \(path): \(message)")
        }
        handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, 5_000)
    }

    deinit { close() }

    /// Finalises the cached statements and closes the connection (checkpointing the WAL when it
    /// is the last one). Idempotent; nothing may use the connection afterwards.
    func close() {
        guard !closed else { return }
        closed = true
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String, doing what: String) throws(LedgerError) {
        var errorText: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorText)
        if rc != SQLITE_OK {
            let message = errorText.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errorText)
            throw error(rc, message, doing: what)
        }
    }

    /// A prepared statement, cached by its SQL text and reset for reuse.
    func statement(_ sql: String) throws(LedgerError) -> Statement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        let statement = try prepare(sql)
        statements[sql] = statement
        return statement
    }

    /// A prepared statement that is not cached (for one-off or long-running scans).
    func prepare(_ sql: String) throws(LedgerError) -> Statement {
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else {
            throw error(rc, String(cString: sqlite3_errmsg(handle)), doing: "preparing a query")
        }
        return Statement(raw, connection: self)
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: committed if it returns, rolled back if it throws.
    func transaction<T>(doing what: String, _ body: () throws(LedgerError) -> T) throws(LedgerError) -> T {
        try execute("BEGIN IMMEDIATE", doing: what)
        do {
            let value = try body()
            try execute("COMMIT", doing: what)
            return value
        } catch {
            _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
            throw error
        }
    }

    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Maps a SQLite result code to a ledger error that says what was being done.
    func error(_ rc: Int32, _ message: String, doing what: String) -> LedgerError {
        if rc & 0xff == SQLITE_FULL || (rc & 0xff == SQLITE_IOERR && sqlite3_system_errno(handle) == ENOSPC) {
            return LedgerError(.diskFull, "the disk holding \(path) is full while \(what) (\(message)); nothing of it was written")
        }
        switch rc & 0xff {
        case SQLITE_NOTADB:
            return LedgerError(.notALedger, "\(path) is not a batch ledger (not a SQLite database); \(what) changed nothing")
        case SQLITE_CORRUPT:
            return LedgerError(.damaged, "\(path) is damaged (\(message)) while \(what); restore it from a copy or start a new ledger")
        case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_PERM:
            return LedgerError(.io, "cannot write \(path) while \(what): \(message); check the folder is writable and the disk has space")
        case SQLITE_BUSY, SQLITE_LOCKED:
            return LedgerError(.locked, "\(path) is busy while \(what): \(message)")
        default:
            return LedgerError(.sqlite, "SQLite error while \(what) on \(path): \(message) (code \(rc))")
        }
    }
}
