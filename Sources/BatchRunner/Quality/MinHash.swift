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
        var signature = [UInt32](repeating: .max, count: size)
        var window: [UInt64] = []
        window.reserveCapacity(shingleWords)
        var word: UInt64 = 0xcbf2_9ce4_8422_2325, inWord = false, shingles = 0
        func add(_ shingle: UInt64) {
            shingles += 1
            var x = shingle
            for i in 0..<size {
                // One multiply-xorshift mix per function: independent enough for MinHash.
                x = (x ^ (x >> 31)) &* 0x9e37_79b9_7f4a_7c15 &+ UInt64(i) &* 0xbf58_476d_1ce4_e5b9
                let h = UInt32(truncatingIfNeeded: (x ^ (x >> 29)) >> 16)
                if h < signature[i] { signature[i] = h }
            }
        }
        func endWord() {
            guard inWord else { return }
            if window.count == shingleWords { window.removeFirst() }
            window.append(word)
            if window.count == shingleWords { add(combine(window)) }
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
        if shingles == 0 && !window.isEmpty { add(combine(window)) }
        return signature
    }

    private static func combine(_ words: [UInt64]) -> UInt64 {
        var h: UInt64 = 0x8422_2325_cbf2_9ce4
        for w in words { h = (h ^ w) &* 0x0000_0100_0000_01b3 &+ 0x9e37 }
        return h
    }

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
