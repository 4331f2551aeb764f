import Foundation
import Ledger

/// Reads the other shards' ledgers of a Slurm array (read-only; they may be written meanwhile)
/// for ``ArrayShares``. A ledger that does not exist yet, or cannot be read right now (being
/// created), counts as a shard not started.
struct ArraySiblings {
    let array: ArrayRun

    func read() -> [ArrayShares.Sibling] {
        (0..<array.shards).filter { $0 != array.shard }.map { k in
            let path = array.ledger(ofShard: k)
            guard FileManager.default.fileExists(atPath: path), let reader = try? LedgerReader(path: path),
                  let (counts, usage) = try? reader.snapshot({ (try $0.counts(), try $0.usage()) })
            else { return ArrayShares.Sibling(shard: k, exists: false) }
            return ArrayShares.Sibling(
                shard: k, exists: true, finished: counts.pending + counts.inFlight == 0, inFlight: counts.inFlight, spent: usage.cost)
        }
    }

    func share(_ settings: RunSettings, starting: Bool) -> ArrayShares.Share {
        ArrayShares.share(
            me: array.shard, of: array.shards, num: array.num, siblings: read(),
            requestsPerMinute: settings.requestsPerMinute, tokensPerMinute: settings.tokensPerMinute, maxCost: settings.maxCost,
            starting: starting)
    }
}
