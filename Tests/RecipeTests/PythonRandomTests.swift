import Recipe
import Testing

/// Expected values computed with CPython 3.11's `random` module (commands in each comment).
@Suite("Python random")
struct PythonRandomTests {
    struct Words: Sendable {
        let seed: UInt64
        let first: [UInt64]
        let word701: UInt64
    }

    // [r.getrandbits(32) for _ in range(3)] and the 701st word, for r = random.Random(seed).
    @Test("getrandbits(32) matches CPython's MT19937 outputs, before and after a twist", arguments: [
        Words(seed: 0, first: [3626764237, 1654615998, 3255389356], word701: 2140787315),
        Words(seed: 1, first: [577090037, 2444712010, 3639700191], word701: 1357504633),
        Words(seed: 4294967296, first: [485306839, 1508871100, 1794561286], word701: 3189475354),
        Words(seed: UInt64.max, first: [93740670, 1068495656, 1452108352], word701: 192472331),
    ])
    func rawWords(_ expected: Words) {
        var rng = PythonRandom(seed: expected.seed)
        #expect((0..<3).map { _ in rng.getrandbits(32) } == expected.first)
        var later = PythonRandom(seed: expected.seed)
        for _ in 0..<700 { _ = later.getrandbits(32) }
        #expect(later.getrandbits(32) == expected.word701)
    }

    @Test("getrandbits above 32 bits draws the low word first")
    func wideBits() {
        // r = random.Random(42); r.getrandbits(33), r.getrandbits(64), r.getrandbits(1), r.getrandbits(0), r.getrandbits(63)
        var rng = PythonRandom(seed: 42)
        #expect(rng.getrandbits(33) == 2746317213)
        #expect(rng.getrandbits(64) == 13679192365072849617)
        #expect(rng.getrandbits(1) == 0)
        #expect(rng.getrandbits(0) == 0)
        #expect(rng.getrandbits(63) == 2058755736454904720)
    }

    @Test("randbelow matches _randbelow, including bounds wider than 32 bits")
    func randbelow() {
        // r = random.Random(7); [r._randbelow(n) for n in [1, 2, 3, 1000, 2**32, 2**32+1, 2**40+3, 2**62+5]]
        var rng = PythonRandom(seed: 7)
        let bounds = [1, 2, 3, 1000, 1 << 32, (1 << 32) + 1, (1 << 40) + 3, (1 << 62) + 5]
        #expect(bounds.map { rng.randbelow($0) } == [0, 0, 1, 666, 207388624, 404285457, 127057107037, 345836454132741580])
    }

    struct SampleCase: Sendable, CustomTestStringConvertible {
        let seed: UInt64, n: Int, k: Int
        let expected: [Int]
        let setMethod: Bool
        var testDescription: String { "sample(range(\(n)), \(k)) with seed \(seed) (\(setMethod ? "set" : "pool") method)" }
    }

    // random.Random(seed).sample(list(range(n)), k)
    @Test("sample matches CPython in both its pool and its set branch", arguments: [
        SampleCase(seed: 3, n: 30, k: 3, expected: [7, 18, 17], setMethod: true),
        SampleCase(seed: 4, n: 100, k: 10, expected: [30, 38, 13, 92, 50, 61, 19, 11, 8, 2], setMethod: true),
        SampleCase(seed: 5, n: 50, k: 10, expected: [39, 16, 47, 22, 44, 41, 33, 1, 29, 15], setMethod: false),
        SampleCase(seed: 6, n: 10, k: 10, expected: [9, 1, 7, 6, 2, 0, 4, 3, 8, 5], setMethod: false),
        SampleCase(seed: 8, n: 22, k: 5, expected: [7, 11, 12, 4, 6], setMethod: true),
        SampleCase(seed: 9, n: 21, k: 5, expected: [14, 19, 11, 8, 4], setMethod: false),
        SampleCase(seed: 10, n: 200, k: 6, expected: [146, 8, 109, 123, 147, 3], setMethod: true),
    ])
    func sample(_ c: SampleCase) {
        var rng = PythonRandom(seed: c.seed)
        #expect(rng.sample(Array(0..<c.n), count: c.k) == c.expected)
    }

    @Test("choice draws seq[_randbelow(len(seq))]")
    func choice() {
        var a = PythonRandom(seed: 11)
        var b = PythonRandom(seed: 11)
        let items = Array("abcdefghijklm")
        for _ in 0..<100 { #expect(a.choice(items) == items[b.randbelow(items.count)]) }
    }

    @Test("as a RandomNumberGenerator it yields getrandbits(64)")
    func generator() {
        var a = PythonRandom(seed: 9)
        var b = PythonRandom(seed: 9)
        for _ in 0..<5 { #expect(a.next() == b.getrandbits(64)) }
        var seeded = PythonRandom(seed: 1)
        let jitter = Double.random(in: 0..<1, using: &seeded)
        #expect((0..<1).contains(jitter))
    }
}
