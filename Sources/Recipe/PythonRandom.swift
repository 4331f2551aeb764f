import Foundation

/// CPython's `random.Random(seed)` for the calls nanochat's generator makes:
/// `getrandbits`, `_randbelow`, `choice` and `sample`.
///
/// `PythonRandom(seed: i)` draws exactly what `random.Random(i)` draws in CPython 3
/// for every `UInt64` seed (not only small ones), so index i gets the seed's topic,
/// persona, dynamic and first-message examples. It also conforms to
/// `RandomNumberGenerator` (`next()` is `getrandbits(64)`) for seeded jitter elsewhere.
public struct PythonRandom: RandomNumberGenerator, Sendable {
    private var twister: MersenneTwister

    /// `random.Random(seed)`: `init_by_array` over the seed's 32-bit words, least significant first.
    public init(seed: UInt64) {
        let low = UInt32(truncatingIfNeeded: seed)
        let high = UInt32(truncatingIfNeeded: seed >> 32)
        twister = MersenneTwister(key: high == 0 ? [low] : [low, high])
    }

    /// `getrandbits(k)` for 0 <= k <= 64. Words are drawn least significant first and the
    /// last (most significant) word keeps only its top bits, as CPython does.
    public mutating func getrandbits(_ k: Int) -> UInt64 {
        precondition((0...64).contains(k), "getrandbits supports 0...64 bits")
        if k == 0 { return 0 }
        if k <= 32 { return UInt64(twister.next() >> UInt32(32 - k)) }
        let low = UInt64(twister.next())
        let high = UInt64(twister.next() >> UInt32(64 - k))
        return (high << 32) | low
    }

    /// `_randbelow(n)`: rejection sampling on `getrandbits(n.bit_length())`. Requires n > 0.
    public mutating func randbelow(_ n: Int) -> Int {
        precondition(n > 0, "randbelow needs a positive bound")
        let bits = Int.bitWidth - n.leadingZeroBitCount
        var r = getrandbits(bits)
        while r >= UInt64(n) { r = getrandbits(bits) }
        return Int(r)
    }

    /// `choice(seq)`: `seq[_randbelow(len(seq))]`. Requires a non-empty collection.
    public mutating func choice<C: RandomAccessCollection>(_ collection: C) -> C.Element {
        let offset = randbelow(collection.count)
        return collection[collection.index(collection.startIndex, offsetBy: offset)]
    }

    /// `sample(population, k)`, both of CPython's branches: the pool method when the
    /// population is small next to the set size it would need, else the set method.
    public mutating func sample<T>(_ population: [T], count k: Int) -> [T] {
        let n = population.count
        precondition((0...n).contains(k), "sample larger than population or negative")
        var result: [T] = []
        result.reserveCapacity(k)
        if n <= Self.sampleSetSize(k) {
            var pool = population
            for i in 0..<k {
                let j = randbelow(n - i)
                result.append(pool[j])
                pool[j] = pool[n - i - 1]
            }
        } else {
            var selected = Set<Int>()
            for _ in 0..<k {
                var j = randbelow(n)
                while selected.contains(j) { j = randbelow(n) }
                selected.insert(j)
                result.append(population[j])
            }
        }
        return result
    }

    /// `setsize` in CPython's `sample`, computed with the same floating-point logarithm.
    static func sampleSetSize(_ k: Int) -> Int {
        var size = 21
        if k > 5 {
            let exponent = Int((log(Double(k * 3)) / log(4.0)).rounded(.up))
            size += 1 << (2 * exponent)
        }
        return size
    }

    /// `getrandbits(64)`, for use as a seeded `RandomNumberGenerator`.
    public mutating func next() -> UInt64 { getrandbits(64) }
}
