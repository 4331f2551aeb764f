/// The part of a run's plan not yet written into `items` (schema 7's `run.unplanned_from`).
///
/// Writing a plan costs SQLite about a microsecond a row: 20,000 rows held a run's first request
/// back by 25-50 ms, ten million by many seconds. So a new ledger gets its first
/// `Ledger.initialPlanRows` rows at creation, and the rest of the plan (the shard's progression
/// from `unplanned_from` up to `planned_rows`) is written by the claims that reach it, in the
/// same transaction as the claim: at least `chunkRows` at a time, always in index order, so
/// claims take rows in exactly the order an eager plan would give them.
///
/// Rows not yet written are pending in every count (`Queries.counts`), due at once
/// (`Queries.nextDue`), unfinished in every listing, and pending to `state(of:)`. A crash leaves
/// `items` a prefix of the plan and `unplanned_from` where it stops, both committed together.
enum LazyPlan {
    /// Rows written per claim that runs short, at least.
    static let chunkRows: Int64 = 1_024

    /// The indices planned and not yet in `items`; nil when every planned row is there (or the
    /// ledger predates schema 7).
    static func unplanned(_ db: Connection) throws(LedgerError) -> IndexProgression? {
        guard try hasColumn(db) else { return nil }
        let s = try db.statement("SELECT unplanned_from, planned_rows, shard_index, shard_count FROM run WHERE id = 1")
        defer { s.reset() }  // ends the read transaction
        guard try s.step(doing: "reading the plan"), !s.isNull(0) else { return nil }
        let shard = s.isNull(2) || s.isNull(3) ? nil : Shard(index: s.int(2), count: s.int(3))
        let rest = shardIndices(num: s.int64(1), shard: shard).starting(atLeast: s.int64(0))
        return rest.start < rest.end ? rest : nil
    }

    /// How many planned rows are not in `items` yet.
    static func unplannedCount(_ db: Connection) throws(LedgerError) -> Int {
        try unplanned(db)?.underestimatedCount ?? 0
    }

    /// Writes the next `max(rows, chunkRows)` rows of the plan as pending and moves
    /// `unplanned_from` past them (to NULL when the plan is whole). Inside the caller's
    /// transaction. Returns how many rows were written.
    @discardableResult
    static func planMore(_ db: Connection, rows: Int, nowMs: Int64) throws(LedgerError) -> Int {
        guard let rest = try unplanned(db) else { return 0 }
        let count = max(Int64(rows), chunkRows)
        let (span, overflow) = count.multipliedReportingOverflow(by: rest.step)
        let (limit, overflow2) = rest.start.addingReportingOverflow(span)
        let end = overflow || overflow2 ? rest.end : min(rest.end, limit)
        let added = try Ledger.insertItems(db, IndexProgression(from: rest.start, to: end, by: rest.step), nowMs: nowMs)
        try setUnplannedFrom(db, end < rest.end ? end : nil)
        return added
    }

    /// Records where the unwritten part of the plan starts (nil: nowhere, the plan is whole).
    static func setUnplannedFrom(_ db: Connection, _ index: Int64?) throws(LedgerError) {
        let s = try db.statement("UPDATE run SET unplanned_from = ? WHERE id = 1")
        s.bind(1, index)
        try s.run(doing: "recording the plan")
    }

    /// Whether `index` is planned but not yet in `items`.
    static func isUnplanned(_ db: Connection, _ index: Int64) throws(LedgerError) -> Bool {
        guard let rest = try unplanned(db), index >= rest.start, index < rest.end else { return false }
        return (index - rest.start) % rest.step == 0
    }

    /// Ledgers before schema 7 have no `unplanned_from`: readers open them without migrating.
    private static func hasColumn(_ db: Connection) throws(LedgerError) -> Bool {
        if let known = db.hasUnplannedColumn { return known }
        let s = try db.statement("SELECT COUNT(*) FROM pragma_table_info('run') WHERE name = 'unplanned_from'")
        defer { s.reset() }
        try s.step(doing: "reading the schema")
        let has = s.int(0) > 0
        if has { db.hasUnplannedColumn = true }  // a column never goes away; a reader's ledger may be migrated meanwhile
        return has
    }
}
