import Recipe
import Wire

/// MinHash signatures over word shingles, and an LSH index that finds, for each conversation,
/// an earlier one whose estimated Jaccard similarity reaches a threshold.
///
/// A conversation's text is lower-cased and split into words (runs of letters and digits);
/// its shingles are the runs of `shingleWords` consecutive words (the whole text when it is
/// shorter). A signature holds, for each of `MinHash.size` hash functions, the smallest hash of
/// any shingle: two signatures agree in a position with probability equal to the Jaccard
/// similarity of the shingle sets.
public enum MinHash {
    public static let size = 64
    public static let shingleWords = 3

    /// The signature of `text` (UTF-8 bytes).
    public static func signature<Bytes: Collection>(of text: Bytes) -> [UInt32] where Bytes.Element == UInt8 {
        // Hash function i of a shingle hash x is (a_i * x + b_i) >> 32 (multiply-shift, a_i odd),
        // eight at a time in SIMD lanes.
        var minimums = [SIMD8<UInt64>](repeating: SIMD8(repeating: .max), count: size / 8)
        var w0: UInt64 = 0, w1: UInt64 = 0, words = 0
        var word: UInt64 = 0xcbf2_9ce4_8422_2325, inWord = false, shingles = 0
        func add(_ shingle: UInt64) {
            shingles += 1
            let x = SIMD8<UInt64>(repeating: shingle)
            for k in 0..<(size / 8) {
                minimums[k] = pointwiseMin(minimums[k], (multipliers[k] &* x &+ increments[k]) &>> 32)
            }
        }
        func endWord() {
            guard inWord else { return }
            words += 1
            if words >= shingleWords { add(combine(w0, w1, word)) }
            w0 = w1
            w1 = word
            word = 0xcbf2_9ce4_8422_2325
            inWord = false
        }
        for byte in text {
            var b = byte
            let isUpper = b >= 65 && b <= 90
            if isUpper { b += 32 }
            let isWordByte = isUpper || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b >= 0x80
            if isWordByte {
                word = (word ^ UInt64(b)) &* 0x0000_0100_0000_01b3
                inWord = true
            } else {
                endWord()
            }
        }
        endWord()
        // Shorter than a shingle: the words there are, as one.
        if shingles == 0 && words > 0 { add(combine(words > 1 ? w0 : 0, w1, 0)) }
        var signature = [UInt32]()
        signature.reserveCapacity(size)
        for vector in minimums { for lane in 0..<8 { signature.append(UInt32(truncatingIfNeeded: vector[lane])) } }
        return signature
    }

    private static func combine(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var h: UInt64 = 0x8422_2325_cbf2_9ce4
        h = (h ^ a) &* 0x0000_0100_0000_01b3 &+ 0x9e37
        h = (h ^ b) &* 0x0000_0100_0000_01b3 &+ 0x9e37
        h = (h ^ c) &* 0x0000_0100_0000_01b3 &+ 0x9e37
        return h ^ (h >> 29)
    }

    /// The hash functions' odd multipliers and increments, fixed (a signature must mean the same
    /// in every run), drawn from SplitMix64.
    private static let (multipliers, increments): ([SIMD8<UInt64>], [SIMD8<UInt64>]) = {
        var rng = SeededRandom(seed: 0x6d69_6e68_6173_6821)
        var a: [SIMD8<UInt64>] = [], b: [SIMD8<UInt64>] = []
        for _ in 0..<(size / 8) {
            var va = SIMD8<UInt64>(), vb = SIMD8<UInt64>()
            for lane in 0..<8 {
                va[lane] = rng.next() | 1
                vb[lane] = rng.next()
            }
            a.append(va)
            b.append(vb)
        }
        return (a, b)
    }()

    /// The share of positions where two signatures agree: an estimate of the Jaccard similarity.
    public static func similarity(_ a: ArraySlice<UInt32>, _ b: ArraySlice<UInt32>) -> Double {
        var same = 0
        for (x, y) in zip(a, b) where x == y { same += 1 }
        return Double(same) / Double(size)
    }
}

/// Locality-sensitive hashing over MinHash signatures: `bands` bands of `size / bands` values.
/// Two conversations become candidates when any band matches; with 16 bands of 4, a pair at
/// similarity 0.8 is a candidate with probability 0.9998, at 0.5 with 0.64, at 0.2 with 0.03.
/// Candidates are then compared on their whole signatures.
///
/// Memory: the signatures of every added conversation (256 bytes each: 256 MB for a million
/// rows) and one dictionary entry per band and distinct band value.
public struct NearDuplicateIndex {
    public static let bands = 16
    private static let rows = MinHash.size / bands

    public let threshold: Double
    private var signatures: [UInt32] = []
    private var ids: [Int64] = []
    private var buckets = [[UInt64: Int32]](repeating: [:], count: bands)

    public init(threshold: Double) { self.threshold = threshold }

    /// The most similar earlier conversation at or above the threshold (its id and estimated
    /// similarity), then adds this one.
    public mutating func add(id: Int64, signature: [UInt32]) -> (id: Int64, similarity: Double)? {
        precondition(signature.count == MinHash.size)
        let position = Int32(ids.count)
        var best: (Int32, Double)?
        var keys = [UInt64](repeating: 0, count: Self.bands)
        for band in 0..<Self.bands {
            var key: UInt64 = UInt64(band) &* 0x9e37_79b9_7f4a_7c15
            for r in 0..<Self.rows { key = (key ^ UInt64(signature[band * Self.rows + r])) &* 0x0000_0100_0000_01b3 }
            keys[band] = key
            guard let other = buckets[band][key] else { continue }
            if let (seen, _) = best, seen == other { continue }
            let start = Int(other) * MinHash.size
            let similarity = MinHash.similarity(signatures[start..<start + MinHash.size], signature[...])
            if similarity >= threshold, similarity > best?.1 ?? -1 { best = (other, similarity) }
        }
        signatures.append(contentsOf: signature)
        ids.append(id)
        for band in 0..<Self.bands where buckets[band][keys[band]] == nil { buckets[band][keys[band]] = position }
        return best.map { (ids[Int($0.0)], $0.1) }
    }
}
