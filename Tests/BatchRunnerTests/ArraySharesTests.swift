import Recipe
import Testing
@testable import BatchRunner
import Wire

@Suite("A Slurm array's limits shared among its tasks")
struct ArraySharesTests {
    typealias Sibling = ArrayShares.Sibling

    @Test("shards plan every index once: 10 rows over 4 shards are 3, 3, 2, 2")
    func rowsPerShard() {
        #expect((0..<4).map { ArrayShares.rows(shard: $0, of: 4, num: 10) } == [3, 3, 2, 2])
        #expect((0..<7).map { ArrayShares.rows(shard: $0, of: 7, num: 3) } == [1, 1, 1, 0, 0, 0, 0])
        for n in 1...9 { #expect((0..<n).map { ArrayShares.rows(shard: $0, of: n, num: 1_001) }.reduce(0, +) == 1_001) }
    }

    @Test("rates are split among the shards running; finished, idle and (after the start) missing ones leave theirs")
    func rates() {
        let running = Sibling(shard: 1, exists: true, inFlight: 3)
        let finished = Sibling(shard: 2, exists: true, finished: true)
        let idle = Sibling(shard: 3, exists: true, inFlight: 0)  // requeued: rows released, none in flight
        func rpm(_ siblings: [Sibling], starting: Bool = false) -> Double? {
            ArrayShares.share(me: 0, of: 4, num: 400, siblings: siblings, requestsPerMinute: 1_200, tokensPerMinute: nil, maxCost: nil,
                              starting: starting).requestsPerMinute
        }
        #expect(rpm([running, Sibling(shard: 2, exists: true, inFlight: 1), Sibling(shard: 3, exists: true, inFlight: 9)]) == 300)
        #expect(rpm([running, finished, idle]) == 600)
        #expect(rpm([running]) == 600, "shards 2 and 3 have no ledger yet: queued")
        #expect(rpm([running], starting: true) == 300, "just started: the others may be starting too")
        #expect(rpm([running, finished, idle], starting: true) == 400)
        #expect(rpm([finished]) == 1_200)
        let tpm = ArrayShares.share(me: 0, of: 2, num: 3, siblings: [Sibling(shard: 1, exists: true, inFlight: 1)],
                                    requestsPerMinute: nil, tokensPerMinute: 90_000, maxCost: nil).tokensPerMinute
        #expect(tpm == 60_000, "by planned rows: shard 0 has 2 of the 3")
    }

    @Test("the budget is split by planned rows, and what finished shards left goes to the unfinished ones")
    func budget() {
        func cost(_ me: Int, _ siblings: [Sibling]) -> Double {
            ArrayShares.share(me: me, of: 4, num: 400, siblings: siblings, requestsPerMinute: nil, tokensPerMinute: nil, maxCost: 10).maxCost ?? -1
        }
        #expect(cost(0, []) == 2.5)
        // Shard 1 finished having spent 1.5 of its 2.5: the three others share the 1.0 left.
        #expect(abs(cost(0, [Sibling(shard: 1, exists: true, finished: true, spent: 1.5)]) - (2.5 + 1.0 / 3)) < 1e-12)
        // A shard that overspent its static part (it had taken others' leftovers) reduces the rest.
        #expect(abs(cost(0, [Sibling(shard: 1, exists: true, finished: true, spent: 3.0)]) - (2.5 - 0.5 / 3)) < 1e-12)
        #expect(cost(0, (1..<4).map { Sibling(shard: $0, exists: true, finished: true, spent: 0) }) == 10)
    }

    /// Tasks spend, finish and read each other's ledgers at random moments (so each sees a
    /// different, stale picture); the array never spends more than its budget.
    @Test("whatever the moments at which tasks read each other, the array's spend stays within its budget", arguments: 0..<20)
    func neverOverspends(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let n = 2 + Int(random.next() % 6), num = Int64(50 + random.next() % 200), budget = 1.0
        var spent = [Double](repeating: 0, count: n)
        var done = [Int64](repeating: 0, count: n)
        var views = [[Sibling]](repeating: [], count: n)
        func ledger(_ k: Int) -> Sibling {
            Sibling(shard: k, exists: true, finished: done[k] == ArrayShares.rows(shard: k, of: n, num: num), inFlight: 1, spent: spent[k])
        }
        for _ in 0..<5_000 {
            let k = Int(random.next() % UInt64(n))
            if random.unit() < 0.2 { views[k] = (0..<n).filter { $0 != k }.map(ledger) }  // a refresh
            guard done[k] < ArrayShares.rows(shard: k, of: n, num: num) else { continue }
            let allowance = ArrayShares.share(me: k, of: n, num: num, siblings: views[k], requestsPerMinute: nil, tokensPerMinute: nil,
                                              maxCost: budget).maxCost ?? 0
            let rowCost = 0.002 + 0.01 * random.unit()
            if spent[k] + rowCost <= allowance {  // what the reservations allow
                spent[k] += rowCost
                done[k] += 1
            } else if random.unit() < 0.05 {
                done[k] = ArrayShares.rows(shard: k, of: n, num: num)  // gives up: finished (its rows failed), spend final
            }
            #expect(spent.reduce(0, +) <= budget + 1e-9, "n \(n) num \(num): \(spent)")
        }
    }
}
