/// The indices a run plans: `start, start + step, ...` below `end` (all of `0..<N`, or one
/// shard's share of it). The ledger plans such a sequence inside SQLite in one statement per
/// chunk instead of row by row.
public struct IndexProgression: Sequence, Sendable, Equatable {
    public let start: Int64
    public let end: Int64
    public let step: Int64

    /// - Precondition: `step > 0`.
    public init(from start: Int64, to end: Int64, by step: Int64 = 1) {
        precondition(step > 0, "an index progression counts upwards")
        self.start = start
        self.end = end
        self.step = step
    }

    public var underestimatedCount: Int { start >= end ? 0 : Int((end - start - 1) / step + 1) }

    public func makeIterator() -> StrideToIterator<Int64> { stride(from: start, to: end, by: Int(step)).makeIterator() }

    /// The same progression without its indices below `bound`: what extending a plan of
    /// `0..<bound` to `0..<end` adds.
    public func starting(atLeast bound: Int64) -> IndexProgression {
        guard bound > start else { return self }
        let empty = IndexProgression(from: end, to: end, by: step)
        let (gap, overflow) = bound.subtractingReportingOverflow(start)
        guard !overflow, bound < end else { return empty }
        let (span, overflow2) = ((gap - 1) / step + 1).multipliedReportingOverflow(by: step)
        let (first, overflow3) = start.addingReportingOverflow(span)
        return overflow2 || overflow3 ? empty : IndexProgression(from: first, to: end, by: step)
    }
}

/// The indices shard K of N owns over `0..<num`: every N-th index from K, so shards stay
/// balanced and interleaved (export merges them back into global order). All of `0..<num`
/// without a shard.
public func shardIndices(num: Int64, shard: Shard?) -> IndexProgression {
    guard let shard else { return IndexProgression(from: 0, to: num) }
    return IndexProgression(from: Int64(shard.index), to: num, by: Int64(shard.count))
}
