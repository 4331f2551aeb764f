import CSQLite

/// One recorded HTTP attempt, as `batch report` reads them.
public struct RecordedAttempt: Sendable {
    public var startedAtMs: Int64
    public var endedAtMs: Int64
    /// done, retry, failed, abandoned, orphaned.
    public var outcome: String
    public var errorKind: String?
    public var httpStatus: Int?
    public var retryAfterMs: Int?
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var cachedTokens: Int?
    public var cost: Double?
}

extension LedgerReader {
    /// Every recorded attempt in the order written, streamed (one row in memory at a time).
    public func forEachAttempt(_ body: (RecordedAttempt) throws -> Void) throws {
        let cached = try hasColumn("attempts", "cached_tokens")
        let s = try db.statement("""
            SELECT started_at_ms, ended_at_ms, outcome, error_kind, http_status, retry_after_ms,
                   prompt_tokens, completion_tokens, cost, \(cached ? "cached_tokens" : "NULL")
            FROM attempts ORDER BY id
            """)
        defer { s.reset() }
        while try s.step(doing: "reading attempts") {
            try body(RecordedAttempt(
                startedAtMs: s.int64(0), endedAtMs: s.int64(1), outcome: s.text(2), errorKind: s.optionalText(3),
                httpStatus: s.optionalInt(4), retryAfterMs: s.optionalInt(5), promptTokens: s.optionalInt(6),
                completionTokens: s.optionalInt(7), cachedTokens: s.optionalInt(9), cost: s.optionalDouble(8)))
        }
    }

    /// Done rows per bucket of `widthMs` from `originMs` (bucket number -> rows), by finish time.
    public func doneRowsPerBucket(originMs: Int64, widthMs: Int64) throws(LedgerError) -> [Int64: Int] {
        let s = try db.statement("SELECT (finished_at_ms - ?1) / ?2, COUNT(*) FROM results GROUP BY 1")
        defer { s.reset() }
        s.bind(1, originMs)
        s.bind(2, widthMs)
        var buckets: [Int64: Int] = [:]
        while try s.step(doing: "counting done rows over time") { buckets[s.int64(0)] = s.int(1) }
        return buckets
    }

    /// Every recorded change of the concurrency window, oldest first (none before schema 4).
    public func windowChanges() throws(LedgerError) -> [(atMs: Int64, size: Int, reason: String)] {
        guard try hasColumn("window_changes", "size") else { return [] }
        let s = try db.statement("SELECT at_ms, size, reason FROM window_changes ORDER BY id")
        defer { s.reset() }
        var changes: [(atMs: Int64, size: Int, reason: String)] = []
        while try s.step(doing: "reading the window's changes") { changes.append((s.int64(0), s.int(1), s.text(2))) }
        return changes
    }

    private func hasColumn(_ table: String, _ column: String) throws(LedgerError) -> Bool {
        let s = try db.statement("SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?")
        defer { s.reset() }
        s.bind(1, table)
        s.bind(2, column)
        try s.step(doing: "reading the ledger's schema")
        return s.int(0) > 0
    }
}
