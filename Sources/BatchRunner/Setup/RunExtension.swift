import Ledger

/// `batch extend`: more indices for a run, so it can be topped up to the number of clean rows
/// wanted. The new indices get the prompts `random.Random(index)` gives them, as if the run had
/// been planned that large from the start; done rows are not touched.
public enum RunExtension {
    /// What an extension did.
    public struct Outcome: Sendable, Equatable {
        public var plannedBefore: Int64
        public var plannedAfter: Int64
        /// Rows added to this ledger (a shard's ledger gets only its share of the new indices).
        public var added: Int
    }

    /// The indices a run planned for `0..<old` gains when planned for `0..<new`: all of them,
    /// or for shard K of N, its share (every N-th index from K), as `shardIndices` plans.
    public static func addedIndices(from old: Int64, to new: Int64, shard: Shard?) -> IndexProgression {
        guard let shard else { return IndexProgression(from: old, to: new) }
        let n = Int64(shard.count), k = Int64(shard.index)
        let start = old + ((k - old % n) % n + n) % n
        return IndexProgression(from: start, to: max(start, new), by: n)
    }

    /// Raises the run in `ledger` (open for writing: no run may be writing it) to `num` planned
    /// rows, in one transaction.
    public static func extend(_ ledger: Ledger, to num: Int64, nowMs: Int64) throws -> Outcome {
        let run = try ledger.run()
        guard num > run.plannedRows else {
            throw RunSetupError("\(ledger.path) already plans \(run.plannedRows) rows; give a larger --num to add rows (the new total, not the number to add)")
        }
        let added = try ledger.extend(
            indices: addedIndices(from: run.plannedRows, to: num, shard: run.shard), plannedRows: num, nowMs: nowMs)
        return Outcome(plannedBefore: run.plannedRows, plannedAfter: num, added: added)
    }
}
