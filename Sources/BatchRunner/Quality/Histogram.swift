import Foundation

/// Counts of non-negative values in log-spaced bins (four per doubling: each bin is 19% wide),
/// with exact count, sum, minimum and maximum. Percentiles are read to within a bin.
public struct Histogram: Sendable, Equatable {
    /// Bin 0 holds values below 1; bin i >= 1 holds [2^((i-1)/4), 2^(i/4)).
    public private(set) var bins: [Int] = []
    public private(set) var count = 0
    public private(set) var sum = 0.0
    public private(set) var minimum: Int?
    public private(set) var maximum: Int?
    public let unit: String

    public init(unit: String) { self.unit = unit }

    public static func characters() -> Histogram { Histogram(unit: "characters") }
    public static func milliseconds() -> Histogram { Histogram(unit: "ms") }

    public static func bin(of value: Int) -> Int {
        value < 1 ? 0 : Int(log2(Double(value)) * 4) + 1
    }

    /// The smallest value of bin `i` (0 for bin 0).
    public static func lowerEdge(of i: Int) -> Double { i == 0 ? 0 : pow(2, Double(i - 1) / 4) }

    public mutating func add(_ value: Int) {
        let b = Self.bin(of: value)
        if b >= bins.count { bins += Array(repeating: 0, count: b - bins.count + 1) }
        bins[b] += 1
        count += 1
        sum += Double(value)
        minimum = Swift.min(minimum ?? value, value)
        maximum = Swift.max(maximum ?? value, value)
    }

    public mutating func merge(_ other: Histogram) {
        if other.bins.count > bins.count { bins += Array(repeating: 0, count: other.bins.count - bins.count) }
        for (i, n) in other.bins.enumerated() { bins[i] += n }
        count += other.count
        sum += other.sum
        if let m = other.minimum { minimum = Swift.min(minimum ?? m, m) }
        if let m = other.maximum { maximum = Swift.max(maximum ?? m, m) }
    }

    public var mean: Double? { count == 0 ? nil : sum / Double(count) }

    /// The value below which a share `q` (0...1) of the values fall: found in the bin that holds
    /// the q-th value, placed within it by rank (linear between its edges), clamped to the exact
    /// minimum and maximum. Within a bin's width (19%) of the exact value.
    public func percentile(_ q: Double) -> Double? {
        guard count > 0, let minimum, let maximum else { return nil }
        let rank = Swift.max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for (i, n) in bins.enumerated() where n > 0 {
            if seen + n >= rank {
                let low = Self.lowerEdge(of: i), high = Self.lowerEdge(of: i + 1)
                let value = low + (high - low) * Double(rank - seen) / Double(n)
                return Swift.min(Swift.max(value, Double(minimum)), Double(maximum))
            }
            seen += n
        }
        return Double(maximum)
    }
}
