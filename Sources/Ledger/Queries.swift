import CSQLite
/// Read queries shared by the writer (`Ledger`) and readers (`LedgerReader`).
///
/// Every query resets its statement when done: a statement left mid-result keeps its read
/// transaction open, and the connection would go on seeing an old snapshot.
enum Queries {
    static func run(_ db: Connection) throws(LedgerError) -> RunRecord {
        let s = try db.statement("""
            SELECT run_id, created_at_ms, planned_rows, shard_index, shard_count, recipe_sha256, recipe_snapshot, config
            FROM run WHERE id = 1
            """)
        defer { s.reset() }  // ends the read transaction
        guard try s.step(doing: "reading the run record") else {
            throw LedgerError(.notALedger, "\(db.path) has no run record; it was never finished being created")
        }
        let shard = s.isNull(3) ? nil : Shard(index: s.int(3), count: s.int(4))
        return RunRecord(
            runID: s.text(0), createdAtMs: s.int64(1), plannedRows: s.int64(2), shard: shard,
            recipeSHA256: s.text(5), recipeSnapshot: s.text(6), config: s.text(7))
    }

    /// Rows by state without scanning: pending, in-flight and failed rows each have a partial
    /// index, the total is a b-tree count, and done is what remains.
    /// The counts are read in one snapshot (a read transaction unless the caller holds one), so
    /// that a writer's commit between two of them cannot skew `done`.
    static func counts(_ db: Connection) throws(LedgerError) -> StateCounts {
        guard sqlite3_get_autocommit(db.handle) == 0 else {
            try db.execute("BEGIN", doing: "counting rows by state")
            defer { _ = try? db.execute("COMMIT", doing: "counting rows by state") }
            return try counts(db)
        }
        func count(_ sql: String) throws(LedgerError) -> Int {
            let s = try db.statement(sql)
            defer { s.reset() }  // ends the read transaction
            try s.step(doing: "counting rows by state")
            return s.int(0)
        }
        let total = try count("SELECT COUNT(*) FROM items")
        var counts = StateCounts()
        // Planned rows not written yet (`LazyPlan`) are pending.
        let unplanned = try LazyPlan.unplannedCount(db)
        counts.pending = try count("SELECT COUNT(*) FROM items WHERE state = 'pending'") + unplanned
        counts.inFlight = try count("SELECT COUNT(*) FROM items WHERE state = 'in_flight'")
        counts.failed = try count("SELECT COUNT(*) FROM items WHERE state = 'failed'")
        counts.done = total + unplanned - counts.pending - counts.inFlight - counts.failed
        return counts
    }

    /// Totals over attempts that reached an outcome (kept up to date by every recorded attempt).
    static func usage(_ db: Connection) throws(LedgerError) -> UsageTotals {
        // A ledger read (not opened for writing) may predate the cache columns (schema 5).
        let cacheColumns = (try? Migrator.version(of: db)) ?? 0 >= 5
        let s = try db.statement(
            "SELECT attempts, prompt_tokens, completion_tokens, cost\(cacheColumns ? ", cached_tokens, cache_discount" : "") FROM usage_totals WHERE id = 1")
        defer { s.reset() }  // ends the read transaction
        guard try s.step(doing: "reading usage totals") else { return UsageTotals() }
        return UsageTotals(
            attempts: s.int(0), promptTokens: s.int(1), completionTokens: s.int(2), cost: s.double(3),
            cachedTokens: cacheColumns ? s.int(4) : 0, cacheDiscount: cacheColumns ? s.double(5) : 0)
    }

    /// Attempts that did not succeed, by error kind, most frequent first.
    static func errorsByKind(_ db: Connection) throws(LedgerError) -> [(kind: String, count: Int)] {
        let s = try db.statement("""
            SELECT error_kind, COUNT(*) AS n FROM attempts WHERE error_kind IS NOT NULL
            GROUP BY error_kind ORDER BY n DESC, error_kind
            """)
        defer { s.reset() }  // ends the read transaction
        var rows: [(kind: String, count: Int)] = []
        while try s.step(doing: "counting errors by kind") { rows.append((s.text(0), s.int(1))) }
        return rows
    }

    static func failedRows(_ db: Connection, limit: Int) throws(LedgerError) -> [FailedRow] {
        let s = try db.statement("SELECT idx, attempts, last_error FROM items WHERE state = 'failed' ORDER BY idx LIMIT ?")
        defer { s.reset() }  // ends the read transaction
        s.bind(1, limit)
        var rows: [FailedRow] = []
        while try s.step(doing: "listing failed rows") {
            rows.append(FailedRow(index: s.int64(0), attempts: s.int(1), lastError: s.optionalText(2)))
        }
        return rows
    }

    /// Done rows with `index >= start` in index order, one at a time: memory stays flat whatever the size.
    static func forEachDone(_ db: Connection, from start: Int64, _ body: (DoneRow) throws -> Void) throws {
        let cursor = try DoneRowCursor(db, from: start)
        while let row = try cursor.next() { try body(row) }
    }

    static func state(_ db: Connection, of index: Int64) throws(LedgerError) -> (state: ItemState, attempts: Int)? {
        let s = try db.statement("SELECT state, attempts FROM items WHERE idx = ?")
        defer { s.reset() }  // ends the read transaction
        s.bind(1, index)
        guard try s.step(doing: "reading row \(index)") else {
            return try LazyPlan.isUnplanned(db, index) ? (.pending, 0) : nil
        }
        return (ItemState(rawValue: s.text(0)) ?? .pending, s.int(1))
    }

    /// The earliest time a pending row becomes due, or nil when no row is pending.
    static func nextDue(_ db: Connection) throws(LedgerError) -> Int64? {
        // A planned row not written yet (`LazyPlan`) is due at once.
        if try LazyPlan.unplanned(db) != nil { return 0 }
        let s = try db.statement("SELECT MIN(next_attempt_ms) FROM items WHERE state = 'pending'")
        defer { s.reset() }  // ends the read transaction
        try s.step(doing: "finding the next due row")
        return s.isNull(0) ? nil : s.int64(0)
    }
    /// What collected submissions cost, and would have cost online.
    static func batchCosts(_ db: Connection) throws(LedgerError) -> (cost: Double, onlineCost: Double) {
        let s = try db.statement("SELECT TOTAL(cost), TOTAL(online_cost) FROM submissions WHERE status = 'collected'")
        defer { s.reset() }
        try s.step(doing: "adding up batch costs")
        return (s.double(0), s.double(1))
    }

    /// Submissions, oldest first; only those not yet collected with `openOnly`.
    static func submissions(_ db: Connection, openOnly: Bool) throws(LedgerError) -> [Submission] {
        let s = try db.statement("""
            SELECT id, api, batch_id, status, rows, created_at_ms, error, cost, online_cost FROM submissions
            \(openOnly ? "WHERE status <> 'collected'" : "") ORDER BY id
            """)
        defer { s.reset() }
        var out: [Submission] = []
        while try s.step(doing: "reading submissions") {
            out.append(Submission(
                id: s.int64(0), api: s.text(1), batchID: s.isNull(2) ? nil : s.text(2), status: s.text(3), rows: s.int(4),
                createdAtMs: s.int64(5), error: s.isNull(6) ? nil : s.text(6), cost: s.isNull(7) ? nil : s.double(7),
                onlineCost: s.isNull(8) ? nil : s.double(8)))
        }
        return out
    }
}
