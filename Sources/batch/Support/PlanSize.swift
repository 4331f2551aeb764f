import ArgumentParser
import Ledger

/// The rows one ledger of a run plans, checked against `Ledger.maximumPlannedRows` before
/// anything is written, and progress on standard error while a big plan is written.
enum PlanSize {
    /// Rows of `0..<num` that the ledger of `shard` (every N-th index from K) plans.
    static func rows(num: Int64, shard: Shard?) -> Int64 {
        guard let shard else { return num }
        let first = Int64(shard.index), step = Int64(shard.count)
        return num > first ? (num - first - 1) / step + 1 : 0
    }

    /// The ledger's row count; a usage error (exit 64) naming the limit and `--shard` when it is over.
    static func checked(num: Int64, shard: Shard?) throws -> Int64 {
        let rows = rows(num: num, shard: shard)
        let limit = Ledger.maximumPlannedRows
        guard rows <= limit else {
            let shards = num / limit + (num % limit == 0 ? 0 : 1)
            throw ValidationError("""
                --num \(num)\(shard.map { " --shard \($0)" } ?? "") plans \(rows) rows in one ledger; the limit is \
                \(limit) per ledger (the plan is written up front). Split the run into shards: \
                --shard K/N with N of at least \(shards), one ledger each
                """)
        }
        return rows
    }

    /// Runs `body` (which creates the ledger at `path`) with a line on standard error before a
    /// plan of a million rows or more, and one about every second while it is written.
    static func reporting<T>(path: String, rows: Int64, _ body: () throws -> T) throws -> T {
        guard rows >= 1_000_000 else { return try body() }
        Terminal.error("batch: \(path): planning \(rows) rows...")
        return try Ledger.$planningProgress.withValue({ planned in
            Terminal.error("batch: \(path): planned \(planned) of \(rows) rows")
        }) {
            try body()
        }
    }
}
