/// An inclusive range of row indices written `N` or `A-B`, within 0...`Recipe.maximumIndex`.
public struct IndexRange: Sendable, Equatable, Sequence {
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public let first: UInt64
    public let last: UInt64

    public init(first: UInt64, last: UInt64) {
        precondition(first <= last, "IndexRange needs first <= last")
        self.first = first
        self.last = last
    }

    /// Parses `N` or `A-B` (inclusive, A <= B).
    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        func number(_ part: Substring) throws(ParseError) -> UInt64 {
            let digits = part.trimmingSpaces
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw ParseError(description: "invalid index '\(text)': expected N or A-B with whole numbers, like 7 or 0-99")
            }
            guard let value = UInt64(digits), value <= Recipe.maximumIndex else {
                throw ParseError(description: "index \(digits) is too large: the largest index is \(Recipe.maximumIndex) (2^63-1)")
            }
            return value
        }
        let first = try number(parts[0])
        let last = parts.count == 2 ? try number(parts[1]) : first
        guard first <= last else {
            throw ParseError(description: "invalid index range '\(text)': the start \(first) is after the end \(last)")
        }
        self.init(first: first, last: last)
    }

    /// How many indices (at most 2^63).
    public var count: UInt64 { last - first + 1 }

    public func makeIterator() -> ClosedRange<UInt64>.Iterator { (first...last).makeIterator() }
}

private extension Substring {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
