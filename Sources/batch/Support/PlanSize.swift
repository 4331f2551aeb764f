import ArgumentParser
import Ledger
import Provider

/// The rows one ledger of a run plans, checked against `Ledger.maximumPlannedRows` before
/// anything is written.
enum PlanSize {
    /// Rows of `0..<num` that the ledger of `shard` (every N-th index from K) plans.
    static func rows(num: Int64, shard: Shard?) -> Int64 {
        guard let shard else { return num }
        let first = Int64(shard.index), step = Int64(shard.count)
        return num > first ? (num - first - 1) / step + 1 : 0
    }

    /// The ledger's row count; a usage error (exit 64) naming the limit when it is over, and
    /// `advice` (by default: split the run with `--shard`).
    static func checked(num: Int64, shard: Shard?, advice: String? = nil) throws -> Int64 {
        let rows = rows(num: num, shard: shard)
        let limit = Ledger.maximumPlannedRows
        guard rows <= limit else {
            let shards = num / limit + (num % limit == 0 ? 0 : 1)
            throw ValidationError("""
                --num \(num)\(shard.map { " --shard \($0)" } ?? "") plans \(rows) rows in one ledger; the limit is \
                \(limit) per ledger (one ledger row per index). \
                \(advice ?? "Split the run into shards: --shard K/N with N of at least \(shards), one ledger each")
                """)
        }
        return rows
    }
}
