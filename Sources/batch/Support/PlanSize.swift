import ArgumentParser
import Ledger
import Provider

/// The rows one ledger of a run plans, checked against `Ledger.maximumPlannedRows` before
/// anything is written, and progress on standard error while a big plan is written.
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
                \(limit) per ledger (the plan is written up front). \
                \(advice ?? "Split the run into shards: --shard K/N with N of at least \(shards), one ledger each")
                """)
        }
        return rows
    }

    /// Rows a ledger plans per second, a cautious figure below what a debug build on a loaded
    /// machine was measured to plan (BENCHMARKS.md). The projection uses it until the plan's own
    /// pace is known.
    static let assumedRowsPerSecond: Double = 250_000

    /// Seconds planning `rows` is projected to take at `rowsPerSecond`.
    static func projectedSeconds(rows: Int64, rowsPerSecond: Double = assumedRowsPerSecond) -> Double {
        Double(rows) / rowsPerSecond
    }

    /// "about 40 s", "about 3 min 20 s".
    static func duration(_ seconds: Double) -> String {
        let whole = max(1, Int(seconds.rounded()))
        return whole < 60 ? "about \(whole) s" : "about \(whole / 60) min \(whole % 60) s"
    }

    /// Runs `body` (which creates the ledger at `path`). When planning is projected to take
    /// more than a second (or the plan has a million rows or more), a line on standard error
    /// first says how long, and one about every second while it is written says how far it
    /// is and how long is left at the pace so far.
    static func reporting<T>(path: String, rows: Int64, _ body: () throws -> T) throws -> T {
        let projected = projectedSeconds(rows: rows)
        guard projected > 1 || rows >= 1_000_000 else { return try body() }
        Terminal.error("batch: \(path): planning \(rows) rows, projected to take \(duration(projected))...")
        let start = ContinuousClock.now
        return try Ledger.$planningProgress.withValue({ planned in
            let elapsed = ContinuousClock.now - start
            let seconds = elapsed.inSeconds
            let left = seconds > 0 && planned > 0 ? Double(rows - planned) / (Double(planned) / seconds) : projected
            Terminal.error("batch: \(path): planned \(planned) of \(rows) rows, \(duration(left)) left")
        }) {
            try body()
        }
    }
}
