import Recipe
import Testing

@Suite("Index ranges")
struct IndexRangeTests {
    @Test("N and A-B parse to inclusive ranges", arguments: [
        ("0", 0 as UInt64, 0 as UInt64), ("42", 42, 42), ("0-99", 0, 99), ("7-7", 7, 7),
        ("9223372036854775807", 9_223_372_036_854_775_807, 9_223_372_036_854_775_807),
        ("9223372036854775800-9223372036854775807", 9_223_372_036_854_775_800, 9_223_372_036_854_775_807),
    ])
    func parses(_ text: String, _ first: UInt64, _ last: UInt64) throws {
        let range = try IndexRange(parsing: text)
        #expect(range.first == first && range.last == last)
        #expect(range.count == last - first + 1)
    }

    @Test("bad ranges say what is wrong", arguments: [
        ("", "invalid index"), ("-1", "invalid index"), ("abc", "invalid index"), ("5-", "invalid index"),
        ("1.5", "invalid index"), ("9-3", "after the end"),
        ("9223372036854775808", "too large"), ("0-18446744073709551616", "too large"),
    ])
    func rejects(_ text: String, _ fragment: String) {
        #expect {
            _ = try IndexRange(parsing: text)
        } throws: { error in
            String(describing: error).contains(fragment)
        }
    }

    @Test("a range iterates its indices in order")
    func iterates() throws {
        #expect(Array(try IndexRange(parsing: "3-6")) == [3, 4, 5, 6])
    }
}
