import Foundation
import Ledger

/// Small builders for ledger tests.
public enum LedgerFixtures {
    public static func run(rows: Int64, shard: Shard? = nil, id: String = "run-test") -> RunRecord {
        RunRecord(
            runID: id, createdAtMs: 1_000, plannedRows: rows, shard: shard, recipeSHA256: String(repeating: "a", count: 64),
            recipeSnapshot: #"{"recipe":"{}","knowledge":"k"}"#, config: #"{"model":"m"}"#)
    }

    public static func attempt(_ n: Int, kind: String? = nil, error: String? = nil, cost: Double? = nil) -> AttemptRecord {
        AttemptRecord(attempt: n, startedAtMs: 10, endedAtMs: 20, errorKind: kind, error: error, promptTokens: 100,
                      completionTokens: 50, cost: cost)
    }

    public static func result(_ index: Int64) -> RowResult {
        RowResult(line: #"[{"role": "user", "content": "q\#(index)"}, {"role": "assistant", "content": "a"}]"#,
                  topic: "t", persona: "p", dynamic: "d", model: "m", generationID: "gen-\(index)")
    }
}
