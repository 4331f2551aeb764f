/// What `Ledger.extend(toPlannedRows:nowMs:)` did.
public struct PlanExtension: Sendable, Equatable {
    /// The run's planned rows (`N` of `0..<N`) before and after.
    public let oldPlannedRows: Int64
    public let newPlannedRows: Int64
    /// Rows added to this ledger, all pending: every new index, or a shard's share of them.
    public let added: Int
}

extension Ledger {
    /// Raises the run's planned rows from N to `total`: its new indices `N..<total` are pending,
    /// written into `items` as the run claims them (``LazyPlan``), so this takes a moment
    /// whatever the count. For a shard's ledger, only the
    /// new indices the shard owns are added, picked by `shardIndices` as at creation. Rows already
    /// planned (done, failed, pending or in flight) and their results are not touched; index i's
    /// prompt depends on i alone, so the new rows are those a run of `total` rows would have had.
    ///
    /// Throws `.invalidPlan` when `total` is not above N. Like every write, this needs the writer
    /// lock, which opening the `Ledger` took: a ledger another process runs cannot be opened here.
    public func extend(toPlannedRows total: Int64, nowMs: Int64) throws(LedgerError) -> PlanExtension {
        try locked { () throws(LedgerError) in
            try db.transaction(doing: "extending the run") { () throws(LedgerError) in
                let run = try Queries.run(db)
                guard total > run.plannedRows else {
                    throw LedgerError(
                        .invalidPlan,
                        "\(path) already plans \(run.plannedRows) rows; extending it takes a larger total than \(total)")
                }
                let indices = shardIndices(num: total, shard: run.shard).starting(atLeast: run.plannedRows)
                // The new rows are written as claims reach them (`LazyPlan`): where the plan's
                // unwritten part starts stays, or, with the plan all written, is the first new index.
                if try LazyPlan.unplanned(db) == nil, indices.start < indices.end {
                    try LazyPlan.setUnplannedFrom(db, indices.start)
                }
                let added = indices.underestimatedCount
                try setPlannedRows(atLeast: total)
                return PlanExtension(oldPlannedRows: run.plannedRows, newPlannedRows: total, added: added)
            }
        }
    }

    /// Plans more indices (ones already planned are left alone) and raises `planned_rows` to at least `plannedRows`.
    /// Returns how many rows were added.
    @discardableResult
    public func extend(indices: some Sequence<Int64>, plannedRows: Int64, nowMs: Int64) throws(LedgerError) -> Int {
        try locked { () throws(LedgerError) in
            try db.transaction(doing: "extending the run") { () throws(LedgerError) in
                let added = try Ledger.insertItems(db, indices, nowMs: nowMs)
                try setPlannedRows(atLeast: plannedRows)
                return added
            }
        }
    }

    private func setPlannedRows(atLeast plannedRows: Int64) throws(LedgerError) {
        let s = try db.statement("UPDATE run SET planned_rows = MAX(planned_rows, ?) WHERE id = 1")
        s.bind(1, plannedRows)
        try s.run(doing: "extending the run")
    }
}
