import Ledger
import Testing
@testable import BatchRunner

@Suite("Shard rules: --shard K/N, the Slurm array, {shard} in the ledger path")
struct ShardRulesTests {
    @Test("K/N parses when 0 <= K < N", arguments: [("0/1", 0, 1), ("3/4", 3, 4), ("0/4", 0, 4)])
    func parses(text: String, index: Int, count: Int) throws {
        #expect(try ShardRules.parse(text) == Shard(index: index, count: count))
    }

    @Test("anything else is refused with the form to use", arguments: ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", ""])
    func refuses(text: String) {
        #expect {
            try ShardRules.parse(text)
        } throws: { error in
            let error = error as? RunSetupError
            return error?.message.contains("--shard must be K/N") == true && error?.isUsage == false
        }
    }

    @Test("--shard wins over the Slurm array task; the task's needs both variables")
    func flagOrSlurm() throws {
        let slurm = ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "5"]
        #expect(try ShardRules.shard(flag: "1/3", environment: slurm) == Shard(index: 1, count: 3))
        #expect(try ShardRules.shard(flag: nil, environment: slurm) == Shard(index: 2, count: 5))
        #expect(try ShardRules.shard(flag: nil, environment: ["SLURM_ARRAY_TASK_ID": "2"]) == nil)
        #expect(try ShardRules.shard(flag: nil, environment: [:]) == nil)
        #expect(throws: RunSetupError.self) {
            try ShardRules.shard(flag: nil, environment: ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "5"])
        }
    }

    @Test("{shard} becomes the index; without a shard it is a usage error")
    func ledgerPath() throws {
        #expect(try ShardRules.ledgerPath("runs/x-{shard}.db", shard: Shard(index: 2, count: 3)) == "runs/x-2.db")
        #expect(try ShardRules.ledgerPath("runs/x.db", shard: Shard(index: 2, count: 3)) == "runs/x.db")
        #expect(try ShardRules.ledgerPath("runs/x.db", shard: nil) == "runs/x.db")
        #expect {
            try ShardRules.ledgerPath("x-{shard}.db", shard: nil)
        } throws: { error in
            let error = error as? RunSetupError
            return error?.isUsage == true && error?.message.contains("{shard} placeholder") == true
        }
    }

    @Test("a run shares its limits with an array only with more than one shard and {shard} in the path")
    func array() {
        let shard = Shard(index: 1, count: 4)
        #expect(ShardRules.array(ledgerPattern: "r/x-{shard}.db", shard: shard, num: 100, workingDirectory: "/w")
            == ArrayRun(ledgerPattern: "/w/r/x-{shard}.db", shard: 1, shards: 4, num: 100))
        #expect(ShardRules.array(ledgerPattern: "/abs/x-{shard}.db", shard: shard, num: 100, workingDirectory: "/w")?.ledgerPattern
            == "/abs/x-{shard}.db")
        #expect(ShardRules.array(ledgerPattern: "x.db", shard: shard, num: 100, workingDirectory: "/w") == nil)
        #expect(ShardRules.array(ledgerPattern: "x-{shard}.db", shard: Shard(index: 0, count: 1), num: 100, workingDirectory: "/w") == nil)
        #expect(ShardRules.array(ledgerPattern: "x-{shard}.db", shard: nil, num: 100, workingDirectory: "/w") == nil)
    }

    @Test("a ledger of another shard is refused as a usage error; no shard asked accepts any")
    func check() throws {
        try ShardRules.check(ledgerPath: "x.db", holds: Shard(index: 0, count: 3), expected: Shard(index: 0, count: 3))
        try ShardRules.check(ledgerPath: "x.db", holds: Shard(index: 0, count: 3), expected: nil)
        try ShardRules.check(ledgerPath: "x.db", holds: nil, expected: nil)
        for (stored, said) in [(Shard(index: 0, count: 3), "holds shard 0/3, not 1/3"), (nil, "holds shard none (unsharded), not 1/3")] {
            #expect {
                try ShardRules.check(ledgerPath: "x.db", holds: stored, expected: Shard(index: 1, count: 3))
            } throws: { error in
                let error = error as? RunSetupError
                return error?.isUsage == true && error?.message.contains(said) == true
            }
        }
    }
}
