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
}
