/// MT19937 exactly as CPython's `_randommodule.c` implements it.
struct MersenneTwister: Sendable {
    private static let stateSize = 624
    private static let shift = 397
    private static let matrixA: UInt32 = 0x9908_B0DF
    private static let upperMask: UInt32 = 0x8000_0000
    private static let lowerMask: UInt32 = 0x7FFF_FFFF

    private var state: [UInt32]
    private var position: Int

    /// The state after `init_genrand(19650218)`, where every `init_by_array` starts.
    private static let initialState: [UInt32] = {
        var mt = [UInt32](repeating: 0, count: stateSize)
        mt[0] = 19_650_218
        for i in 1..<stateSize {
            mt[i] = 1_812_433_253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i)
        }
        return mt
    }()

    /// Seeds with `init_by_array(key)`, as CPython does for `random.Random(n)` with the
    /// 32-bit words of `abs(n)`, least significant first (`[0]` for zero).
    init(key: [UInt32]) {
        precondition(!key.isEmpty, "init_by_array needs at least one key word")
        let n = Self.stateSize
        var mt = Self.initialState
        mt.withUnsafeMutableBufferPointer { mt in
            var i = 1
            var j = 0
            for _ in 0..<max(n, key.count) {
                let previous = mt[i - 1] ^ (mt[i - 1] >> 30)
                mt[i] = (mt[i] ^ (previous &* 1_664_525)) &+ key[j] &+ UInt32(truncatingIfNeeded: j)
                i += 1
                j += 1
                if i >= n { mt[0] = mt[n - 1]; i = 1 }
                if j >= key.count { j = 0 }
            }
            for _ in 0..<(n - 1) {
                let previous = mt[i - 1] ^ (mt[i - 1] >> 30)
                mt[i] = (mt[i] ^ (previous &* 1_566_083_941)) &- UInt32(i)
                i += 1
                if i >= n { mt[0] = mt[n - 1]; i = 1 }
            }
            mt[0] = 0x8000_0000
        }
        state = mt
        position = n
    }

    /// `genrand_uint32`: the next tempered 32-bit output.
    mutating func next() -> UInt32 {
        if position >= Self.stateSize { twist() }
        var y = state[position]
        position += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    private mutating func twist() {
        let n = Self.stateSize
        let m = Self.shift
        state.withUnsafeMutableBufferPointer { mt in
            @inline(__always) func mix(_ a: UInt32, _ b: UInt32) -> UInt32 {
                let y = (a & Self.upperMask) | (b & Self.lowerMask)
                return (y >> 1) ^ ((y & 1) == 0 ? 0 : Self.matrixA)
            }
            for k in 0..<(n - m) {
                mt[k] = mt[k + m] ^ mix(mt[k], mt[k + 1])
            }
            for k in (n - m)..<(n - 1) {
                mt[k] = mt[k + m - n] ^ mix(mt[k], mt[k + 1])
            }
            mt[n - 1] = mt[m - 1] ^ mix(mt[n - 1], mt[0])
        }
        position = 0
    }
}
