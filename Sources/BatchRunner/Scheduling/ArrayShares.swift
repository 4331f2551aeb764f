/// One key, many shards: how a Slurm array's `--rpm`, `--tpm` and `--max-cost`, given for the
/// whole array, are shared among its tasks. Pure: each task computes its own share from what
/// its siblings' ledgers say (`ArraySiblings` reads them every few seconds).
///
/// - **Rates** are split among the shards running now, in proportion to their planned rows: a
///   shard whose ledger has rows in flight is running (a requeued or stopped task releases its
///   rows, so it stops counting; one killed with `kill -9` keeps its orphans in flight and
///   keeps its share until it resumes, which errs on the safe side). Tasks that finished, or have
///   not started, leave their share to the others.
/// - **The budget** starts as a static split by planned rows, and a shard that finished (no
///   row pending or in flight) gives what it did not spend to the unfinished ones, again by
///   planned rows. A finished shard's spend is final and every task takes only its own part of
///   it, so the tasks' budgets never add up to more than the array's, even when they read the
///   ledgers at different moments (a task that has not yet seen a sibling finish has a smaller
///   budget, not a larger one).
public enum ArrayShares {
    /// What one sibling's ledger said.
    public struct Sibling: Sendable, Equatable {
        public var shard: Int
        /// Its ledger exists and could be read.
        public var exists: Bool
        /// No row pending or in flight.
        public var finished: Bool
        /// Rows in flight (claimed by a running task).
        public var inFlight: Int
        /// Its recorded cost.
        public var spent: Double

        public init(shard: Int, exists: Bool, finished: Bool = false, inFlight: Int = 0, spent: Double = 0) {
            self.shard = shard
            self.exists = exists
            self.finished = finished
            self.inFlight = inFlight
            self.spent = spent
        }

        func running(starting: Bool) -> Bool {
            exists ? !finished && (inFlight > 0 || starting) : starting
        }
    }

    /// This shard's part of the array's limits (nil where the array has none).
    public struct Share: Sendable, Equatable {
        public var requestsPerMinute: Double?
        public var tokensPerMinute: Double?
        public var maxCost: Double?
        /// Shards running now, this one included, and shards finished.
        public var running: Int
        public var finished: Int
    }

    /// Rows planned for shard `k` of `n` over indices `0..<num`: those with `index % n == k`.
    public static func rows(shard k: Int, of n: Int, num: Int64) -> Int64 {
        num > Int64(k) ? (num - Int64(k) + Int64(n) - 1) / Int64(n) : 0
    }

    /// Shard `me`'s share, given the other shards' states (a shard missing from `siblings` is
    /// taken as not started).
    ///   - starting: this task started moments ago: count every unfinished shard as running, even
    ///     one whose ledger does not exist yet or has no row in flight. The tasks of an array
    ///     usually start together, and a task must not take the whole rate before its siblings'
    ///     ledgers show them running. Later, such a shard is a task still queued
    ///     (`--array=0-15%4`) or requeued, and its share goes to the running ones.
    public static func share(
        me: Int, of n: Int, num: Int64, siblings: [Sibling], requestsPerMinute: Double?, tokensPerMinute: Double?, maxCost: Double?,
        starting: Bool = false
    ) -> Share {
        let weight = (0..<n).map { Double(rows(shard: $0, of: n, num: num)) }
        let total = weight.reduce(0, +)
        let listed = siblings.filter { $0.shard != me && $0.shard >= 0 && $0.shard < n }
        let others = (0..<n).filter { $0 != me }.map { k in listed.first { $0.shard == k } ?? Sibling(shard: k, exists: false) }
        let running = others.filter { $0.running(starting: starting) }
        let runningWeight = weight[me] + running.map { weight[$0.shard] }.reduce(0, +)
        let rateShare = runningWeight > 0 ? weight[me] / runningWeight : 1
        var budget: Double?
        if let maxCost, total > 0 {
            let finished = others.filter { $0.exists && $0.finished }
            let unfinishedWeight = total - finished.map { weight[$0.shard] }.reduce(0, +)
            let leftover = finished.map { maxCost * weight[$0.shard] / total - $0.spent }.reduce(0, +)
            budget = maxCost * weight[me] / total + (unfinishedWeight > 0 ? leftover * weight[me] / unfinishedWeight : 0)
        }
        return Share(
            requestsPerMinute: requestsPerMinute.map { $0 * rateShare }, tokensPerMinute: tokensPerMinute.map { $0 * rateShare },
            maxCost: budget.map { max(0, $0) }, running: 1 + running.count,
            finished: others.filter { $0.exists && $0.finished }.count)
    }
}
