import Ledger

/// The done rows of several ledgers of one run (its shards), merged into global index order.
/// Refuses an index done in two of them (the same run exported twice).
struct DoneRowMerge {
    private let paths: [String]
    private let cursors: [DoneRowCursor]
    private var heads: [DoneRow?]

    init(_ readers: [LedgerReader]) throws {
        paths = readers.map(\.path)
        cursors = try readers.map { try $0.doneRows() }
        heads = try cursors.map { try $0.next() }
    }

    mutating func next() throws -> DoneRow? {
        // The smallest index among the cursors' current rows (a handful of ledgers: a scan is enough).
        var best: Int?
        for (i, head) in heads.enumerated() {
            guard let head else { continue }
            if let b = best, let current = heads[b], current.index <= head.index {
                if current.index == head.index {
                    throw ExportError("index \(head.index) is done in both \(paths[b]) and \(paths[i]); give each run's ledgers once")
                }
                continue
            }
            best = i
        }
        guard let b = best, let row = heads[b] else { return nil }
        heads[b] = try cursors[b].next()
        return row
    }
}
