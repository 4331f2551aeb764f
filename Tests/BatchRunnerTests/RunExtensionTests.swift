import BatchRunner
import Ledger
import Testing

@Suite("batch extend: which indices a run gains")
struct RunExtensionTests {
    @Test("unsharded: every index from the old total to the new one")
    func unsharded() {
        #expect(Array(RunExtension.addedIndices(from: 20, to: 25, shard: nil)) == [20, 21, 22, 23, 24])
    }

    @Test("a shard gains exactly its share: with the old plan, the shards' indices are 0..<new once each",
          arguments: [(10, 23, 4), (0, 7, 3), (5, 6, 2), (9, 40, 7), (12, 13, 5)])
    func shards(old: Int64, new: Int64, count: Int) {
        var all: [Int64] = []
        for k in 0..<count {
            let shard = Shard(index: k, count: count)
            let before = Array(shardIndices(num: old, shard: shard))
            let gained = Array(RunExtension.addedIndices(from: old, to: new, shard: shard))
            #expect(before + gained == Array(shardIndices(num: new, shard: shard)), "shard \(k)/\(count)")
            all += before + gained
        }
        #expect(all.sorted() == Array(0..<new))
    }
}
