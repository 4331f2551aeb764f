import CSQLite
import Foundation

/// A Batch API submission (`--mode batch`): a set of rows sent as one provider batch.
public struct Submission: Sendable, Equatable {
    public var id: Int64
    public var api: String
    /// The provider's batch id; nil until its create answered.
    public var batchID: String?
    /// `submitting` until the create answered, then the provider's status; `collected` once the
    /// rows are written.
    public var status: String
    public var rows: Int
    public var createdAtMs: Int64
    public var error: String?
    /// Once collected: what its answers cost, and what they would have cost online.
    public var cost: Double? = nil
    public var onlineCost: Double? = nil
}

extension Ledger {
    /// SQL: the row is held by a submission (its lease owner is one).
    static let inSubmission = "lease_owner LIKE 'submission:%'"

    static func owner(ofSubmission id: Int64) -> String { "submission:\(id)" }

    /// Writes a new submission holding up to `limit` due pending rows, before anything is sent
    /// (intent first), in one transaction. nil when no row is due.
    public func claimSubmission(limit: Int, api: String, nowMs: Int64) throws(LedgerError) -> (Submission, [ClaimedRow])? {
        try locked { () throws(LedgerError) in
            try db.transaction(doing: "claiming rows for a batch") { () throws(LedgerError) -> (Submission, [ClaimedRow])? in
                let insert = try db.statement(
                    "INSERT INTO submissions (api, status, rows, created_at_ms, updated_at_ms) VALUES (?, 'submitting', 0, ?, ?)")
                insert.bind(1, api)
                insert.bind(2, nowMs)
                insert.bind(3, nowMs)
                try insert.run(doing: "recording a submission")
                let id = sqlite3_last_insert_rowid(db.handle)
                let rows = try claimDue(limit: limit, nowMs: nowMs, owner: Ledger.owner(ofSubmission: id), doing: "claiming rows for a batch")
                guard !rows.isEmpty else {
                    try db.execute("DELETE FROM submissions WHERE id = \(id)", doing: "dropping an empty submission")
                    return nil
                }
                let count = try db.statement("UPDATE submissions SET rows = ? WHERE id = ?")
                count.bind(1, rows.count)
                count.bind(2, id)
                try count.run(doing: "recording a submission")
                return (Submission(id: id, api: api, batchID: nil, status: "submitting", rows: rows.count, createdAtMs: nowMs, error: nil),
                        rows.sorted { $0.index < $1.index })
            }
        }
    }

    /// Submissions whose rows are not yet written, oldest first.
    public func openSubmissions() throws(LedgerError) -> [Submission] {
        try locked { () throws(LedgerError) in try Queries.submissions(db, openOnly: true) }
    }

    /// The rows a submission holds (in flight in it), in index order.
    public func rows(ofSubmission id: Int64) throws(LedgerError) -> [ClaimedRow] {
        try locked { () throws(LedgerError) in
            let s = try db.statement("SELECT idx, attempts FROM items WHERE state = 'in_flight' AND lease_owner = ? ORDER BY idx")
            s.bind(1, Ledger.owner(ofSubmission: id))
            defer { s.reset() }
            var rows: [ClaimedRow] = []
            while try s.step(doing: "reading a submission's rows") { rows.append(ClaimedRow(index: s.int64(0), attempt: s.int(1))) }
            return rows
        }
    }

    /// Records what the provider said of a submission: its batch id once known, its status.
    public func updateSubmission(_ id: Int64, batchID: String?, status: String, error: String? = nil, nowMs: Int64) throws(LedgerError) {
        try locked { () throws(LedgerError) in
            let s = try db.statement(
                "UPDATE submissions SET batch_id = COALESCE(?, batch_id), status = ?, error = COALESCE(?, error), updated_at_ms = ? WHERE id = ?")
            s.bind(1, batchID)
            s.bind(2, status)
            s.bind(3, error)
            s.bind(4, nowMs)
            s.bind(5, id)
            try s.run(doing: "recording a submission's status")
        }
    }

    /// Writes a finished submission's rows (`transitions`, each of a row it holds) and marks it
    /// collected, in one transaction: a crash before leaves the batch to be read again, after
    /// leaves nothing to do. Rows it held that `transitions` do not mention go back to pending.
    public func collect(
        _ id: Int64, _ transitions: [Transition], status: String, cost: Double = 0, onlineCost: Double = 0, nowMs: Int64
    ) throws(LedgerError) {
        try locked { () throws(LedgerError) in
            try db.transaction(doing: "writing a batch's rows") { () throws(LedgerError) in
                _ = try applyInTransaction(transitions, nowMs: nowMs)
                let rest = try db.statement("""
                    UPDATE items SET state = 'pending', attempts = MAX(attempts - 1, 0), lease_owner = NULL, updated_at_ms = ?
                    WHERE state = 'in_flight' AND lease_owner = ?
                    """)
                rest.bind(1, nowMs)
                rest.bind(2, Ledger.owner(ofSubmission: id))
                try rest.run(doing: "releasing a batch's unanswered rows")
                let s = try db.statement(
                    "UPDATE submissions SET status = 'collected', error = COALESCE(error, ?), updated_at_ms = ?, cost = ?, online_cost = ? WHERE id = ?")
                s.bind(1, status == "completed" ? nil : "the batch ended \(status)")
                s.bind(2, nowMs)
                s.bind(3, cost)
                s.bind(4, onlineCost)
                s.bind(5, id)
                try s.run(doing: "recording a collected submission")
            }
        }
    }
}
