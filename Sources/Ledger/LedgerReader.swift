import CSQLite
import Foundation

/// A read-only view of a ledger: works while another process writes it (WAL readers see the
/// last committed state) and never changes the file.
public final class LedgerReader: @unchecked Sendable {
    public let path: String
    let db: Connection

    public init(path: String) throws(LedgerError) {
        try LedgerFile.preflight(path)
        var db = try Connection(path: path, flags: SQLITE_OPEN_READONLY)
        let version: Int
        do {
            version = try Migrator.version(of: db)
        } catch where error.code == .io && !LedgerFile.exists(path + "-wal") {
            // A WAL ledger in a folder we cannot write has no -shm to share; with no -wal file
            // no writer is active either, so reading the file as immutable is safe.
            db = try Connection(path: LedgerReader.immutableURI(path), flags: SQLITE_OPEN_READONLY)
            version = try Migrator.version(of: db)
        }
        try Migrator.checkKnown(version, path: path)
        self.path = path
        self.db = db
        _ = try Queries.run(db)
    }

    private static func immutableURI(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let escaped = absolute.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? absolute
        return "file:\(escaped)?immutable=1"
    }

    /// Reads inside one snapshot: every query in `body` sees the same committed state.
    public func snapshot<T>(_ body: (LedgerReader) throws -> T) throws -> T {
        try db.execute("BEGIN", doing: "starting a read")
        defer { _ = try? db.execute("COMMIT", doing: "ending a read") }
        return try body(self)
    }

    public func run() throws(LedgerError) -> RunRecord { try Queries.run(db) }
    public func counts() throws(LedgerError) -> StateCounts { try Queries.counts(db) }
    public func usage() throws(LedgerError) -> UsageTotals { try Queries.usage(db) }
    /// Batch API submissions not yet collected (none in a ledger older than schema 6).
    public func openSubmissions() throws(LedgerError) -> [Submission] {
        guard try Migrator.version(of: db) >= 6 else { return [] }
        return try Queries.submissions(db, openOnly: true)
    }
    /// What collected batches cost, and what their answers would have cost online (0 before schema 6).
    public func batchCosts() throws(LedgerError) -> (cost: Double, onlineCost: Double) {
        guard try Migrator.version(of: db) >= 6 else { return (0, 0) }
        return try Queries.batchCosts(db)
    }
    public func errorsByKind() throws(LedgerError) -> [(kind: String, count: Int)] { try Queries.errorsByKind(db) }
    public func failedRows(limit: Int = 100) throws(LedgerError) -> [FailedRow] { try Queries.failedRows(db, limit: limit) }
    public func state(of index: Int64) throws(LedgerError) -> (state: ItemState, attempts: Int)? { try Queries.state(db, of: index) }

    /// Done rows in index order, one at a time: memory stays flat whatever the ledger's size.
    public func forEachDone(from start: Int64 = .min, _ body: (DoneRow) throws -> Void) throws {
        try Queries.forEachDone(db, from: start, body)
    }
}

extension LedgerReader {
    /// A cursor over done rows in index order; the reader must outlive it.
    public func doneRows(from start: Int64 = .min) throws(LedgerError) -> DoneRowCursor {
        try DoneRowCursor(db, from: start)
    }

    /// Planned rows that are not done (pending, in flight or failed), in index order, up to `limit`.
    public func unfinishedIndices(limit: Int) throws(LedgerError) -> [Int64] {
        let s = try db.statement("SELECT idx FROM items WHERE state <> 'done' ORDER BY idx LIMIT ?")
        defer { s.reset() }
        s.bind(1, limit)
        var rows: [Int64] = []
        while try s.step(doing: "listing unfinished rows") { rows.append(s.int64(0)) }
        s.reset()
        // Then the planned rows not written yet (`LazyPlan`): all above the written ones.
        if rows.count < limit, let rest = try LazyPlan.unplanned(db) { rows += rest.prefix(limit - rows.count) }
        return rows
    }
}

extension LedgerReader {
    /// When the attempts that ended at or after `ms` began: the start of the recent activity
    /// (a run that began ten seconds ago has only ten seconds of rate), or nil when none did.
    public func activityStart(endedSince ms: Int64) throws(LedgerError) -> Int64? {
        let s = try db.statement("SELECT MIN(started_at_ms) FROM attempts WHERE ended_at_ms >= ?")
        defer { s.reset() }
        s.bind(1, ms)
        try s.step(doing: "finding when the recent attempts began")
        return s.isNull(0) ? nil : s.int64(0)
    }

    /// The concurrency window's latest change (nil when none was recorded, or the ledger
    /// predates the record).
    public func latestWindow() -> (size: Int, reason: String, atMs: Int64)? {
        guard let s = try? db.statement("SELECT size, reason, at_ms FROM window_changes ORDER BY id DESC LIMIT 1") else { return nil }
        defer { s.reset() }
        guard (try? s.step(doing: "reading the concurrency window")) == true else { return nil }
        return (s.int(0), s.text(1), s.int64(2))
    }

    /// Cost, latency and tokens of every done row (for a pilot's projection: read all of them,
    /// so only on small ledgers).
    public func resultMetrics() throws(LedgerError) -> [(cost: Double?, latencyMs: Int?, promptTokens: Int?, completionTokens: Int?)] {
        let s = try db.statement("SELECT cost, latency_ms, prompt_tokens, completion_tokens FROM results")
        defer { s.reset() }
        var rows: [(cost: Double?, latencyMs: Int?, promptTokens: Int?, completionTokens: Int?)] = []
        while try s.step(doing: "reading the done rows' costs") {
            rows.append((s.optionalDouble(0), s.optionalInt(1), s.optionalInt(2), s.optionalInt(3)))
        }
        return rows
    }

    /// When the first recorded attempt started and the last recorded one ended (nil: none yet).
    /// By attempt id, so it costs two index lookups whatever the ledger's size.
    public func attemptSpan() throws(LedgerError) -> (firstStartMs: Int64, lastEndMs: Int64)? {
        let s = try db.statement("""
            SELECT (SELECT started_at_ms FROM attempts ORDER BY id LIMIT 1),
                   (SELECT ended_at_ms FROM attempts ORDER BY id DESC LIMIT 1)
            """)
        defer { s.reset() }
        try s.step(doing: "reading when the attempts began and ended")
        return s.isNull(0) || s.isNull(1) ? nil : (s.int64(0), s.int64(1))
    }

    /// Rows that became done at or after `ms` (for the recent rate).
    public func finishedSince(_ ms: Int64) throws(LedgerError) -> Int {
        let s = try db.statement("SELECT COUNT(*) FROM results WHERE finished_at_ms >= ?")
        defer { s.reset() }
        s.bind(1, ms)
        try s.step(doing: "counting recent rows")
        return s.int(0)
    }
}

extension LedgerReader {
    /// Every planned index that is not done (pending, in flight or failed), in index order,
    /// streamed: memory stays flat whatever the ledger's size.
    public func forEachUnfinishedIndex(_ body: (Int64) throws -> Void) throws {
        let s = try db.statement("SELECT idx FROM items WHERE state <> 'done' ORDER BY idx")
        defer { s.reset() }
        while try s.step(doing: "listing unfinished rows") { try body(s.int64(0)) }
        s.reset()
        // Then the planned rows not written yet (`LazyPlan`): all above the written ones.
        if let rest = try LazyPlan.unplanned(db) { for index in rest { try body(index) } }
    }

    /// The exported line of a done row (nil when the row is not done here).
    public func doneLine(of index: Int64) throws(LedgerError) -> String? {
        let s = try db.statement("SELECT line FROM results WHERE idx = ?")
        defer { s.reset() }
        s.bind(1, index)
        return try s.step(doing: "reading a done row") ? s.text(0) : nil
    }
}
