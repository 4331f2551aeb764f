import Testing
@testable import Provider

@Suite("Request bodies kept in shared pieces")
struct RequestBodyTests {
    static func body(_ prefix: String, _ suffix: String) -> [UInt8] { Array((prefix + suffix).utf8) }
    static let knowledge = String(repeating: "the knowledge base. ", count: 200)  // 4,000 bytes

    /// Reads the whole body the way libcurl does, `chunk` bytes at a time from `offset`.
    static func readAll(_ body: RequestBody, chunk: Int, from offset: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        var position = offset
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = buffer.withUnsafeMutableBytes { body.read(at: position, into: $0.baseAddress!, capacity: chunk) }
            if n == 0 { break }
            out += buffer[..<n]
            position += n
        }
        return out
    }

    @Test("bodies that begin alike share the common bytes and read back exactly", arguments: [1, 7, 4_000, 4_001, 16_384])
    func sharesPrefix(chunk: Int) {
        let cache = BodyPrefixCache()
        let first = RequestBody(Self.body(Self.knowledge, "topic: cats"), sharing: cache)
        let second = RequestBody(Self.body(Self.knowledge, "topic: dogs and more"), sharing: cache)
        #expect(first.prefixCount == first.count, "the first body is the shared bytes")
        #expect(second.prefix === first.prefix)
        #expect(second.prefixCount == Self.knowledge.utf8.count + "topic: ".utf8.count)
        #expect(second.contiguous == nil)
        #expect(Self.readAll(second, chunk: chunk) == Self.body(Self.knowledge, "topic: dogs and more"))
        #expect(Self.readAll(first, chunk: chunk) == Self.body(Self.knowledge, "topic: cats"))
        // A rewind (libcurl's seek callback sets the offset) reads the same bytes again.
        #expect(Self.readAll(second, chunk: chunk, from: 0) == Self.body(Self.knowledge, "topic: dogs and more"))
        #expect(Self.readAll(second, chunk: chunk, from: second.count) == [])
    }

    @Test("a body that shares too little becomes the new shared bytes; a short one is kept whole")
    func replacesAndSkips() {
        let cache = BodyPrefixCache(minimumShared: 1_024)
        let a = RequestBody(Self.body(Self.knowledge, "a"), sharing: cache)
        let other = String(repeating: "something else entirely. ", count: 100)
        let b = RequestBody(Self.body(other, "b"), sharing: cache)
        #expect(b.prefix !== a.prefix)
        #expect(b.prefixCount == b.count)
        let c = RequestBody(Self.body(other, "c"), sharing: cache)
        #expect(c.prefix === b.prefix, "later bodies share with the newest")
        let short = RequestBody(Array("{\"tiny\":1}".utf8), sharing: cache)
        #expect(short.prefix == nil && short.contiguous != nil)
        #expect(Self.readAll(short, chunk: 3) == Array("{\"tiny\":1}".utf8))
        let whole = RequestBody(Self.body(Self.knowledge, "x"), sharing: nil)
        #expect(whole.prefix == nil && whole.prefixCount == 0 && whole.contiguous != nil)
    }

    @Test("the common prefix count is exact around word boundaries", arguments: [0, 1, 7, 8, 9, 15, 16, 17, 1_000])
    func commonPrefix(length: Int) {
        let base = [UInt8](repeating: 65, count: 1_100)
        let shared = SharedBytes(copying: base)
        var other = base
        if length < other.count { other[length] = 66 }
        #expect(shared.commonPrefixCount(with: other) == length)
        #expect(shared.commonPrefixCount(with: Array(base.prefix(length))) == length)
    }
}
