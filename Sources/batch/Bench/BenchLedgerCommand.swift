import ArgumentParser
import Foundation
import Ledger

/// Fills a large ledger, completes most of it, then measures claims and completions late in the run.
struct BenchLedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Measure ledger claims/s and completions/s late in a large run.",
        discussion: "Creates ROWS rows, completes DONE of them, then claims and completes SAMPLE more, printing rates."
    )

    @Option(help: "Where to create the ledger (removed afterwards unless --keep).") var path = "bench-ledger.db"
    @Option(help: "Rows planned.") var rows = 1_000_000
    @Option(help: "Rows completed before measuring.") var done = 900_000
    @Option(help: "Rows claimed and completed while measuring.") var sample = 20_000
    @Option(help: "Rows per claim call (the runner claims in small batches).") var claimBatch = 16
    @Option(help: "normal or full.") var durability: String = "normal"
    @Flag(help: "Keep the ledger file.") var keep = false

    func validate() throws {
        guard done + sample <= rows else { throw ValidationError("--done plus --sample must not exceed --rows") }
        guard Durability(rawValue: durability) != nil else { throw ValidationError("--durability is normal or full") }
    }

    func run() throws {
        for suffix in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        defer { if !keep { for suffix in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: path + suffix) } } }
        let record = RunRecord(runID: "bench", createdAtMs: 0, plannedRows: Int64(rows), recipeSHA256: "", recipeSnapshot: "{}", config: "{}")

        var start = Date()
        // The whole plan up front (a run writes it as it claims it), so that creation is measured.
        let ledger = try Ledger.create(
            at: path, run: record, indices: 0..<Int64(rows), durability: Durability(rawValue: durability)!, nowMs: 0, initialRows: Int64(rows))
        report("create \(rows) rows", count: rows, since: start)

        start = Date()
        try drive(ledger, rows: done, claimBatch: 256)
        report("complete first \(done) rows (claim 256 at a time)", count: done, since: start)

        // Late in the run: measure claims and completions separately.
        start = Date()
        var claimed: [ClaimedRow] = []
        claimed.reserveCapacity(sample)
        var calls = 0
        while claimed.count < sample {
            claimed += try ledger.claim(limit: min(claimBatch, sample - claimed.count), nowMs: 1, owner: "bench")
            calls += 1
        }
        let claimSeconds = Date().timeIntervalSince(start)
        print(String(format: "claims after %d done: %.0f rows/s (%.0f claim calls/s of %d rows)",
                     done, Double(sample) / claimSeconds, Double(calls) / claimSeconds, claimBatch))

        start = Date()
        for row in claimed {
            try ledger.complete(row.index, result: Self.result(row.index), attempt: Self.attempt(row), nowMs: 2)
        }
        let completeSeconds = Date().timeIntervalSince(start)
        print(String(format: "completions after %d done: %.0f rows/s (one transaction each)", done, Double(sample) / completeSeconds))

        let counts = try ledger.counts()
        print("final counts: done \(counts.done), pending \(counts.pending), in flight \(counts.inFlight)")
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print(String(format: "ledger size: %.1f MB", Double(size) / 1e6))
    }

    private func drive(_ ledger: Ledger, rows: Int, claimBatch: Int) throws {
        var completed = 0
        while completed < rows {
            for row in try ledger.claim(limit: min(claimBatch, rows - completed), nowMs: 1, owner: "bench") {
                try ledger.complete(row.index, result: Self.result(row.index), attempt: Self.attempt(row), nowMs: 2)
                completed += 1
            }
        }
    }

    private func report(_ what: String, count: Int, since start: Date) {
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "%@: %.2f s (%.0f rows/s)", what, seconds, Double(count) / seconds))
    }

    /// A result of realistic size (a 4-turn conversation is about 2 KB).
    static func result(_ index: Int64) -> RowResult {
        let body = String(repeating: "x", count: 2_000)
        return RowResult(line: #"[{"role": "user", "content": "\#(index)"}, {"role": "assistant", "content": "\#(body)"}]"#,
                         topic: "topic", persona: "persona", dynamic: "dynamic", model: "model", generationID: "gen-\(index)",
                         finishReason: "stop", latencyMs: 1_000)
    }

    static func attempt(_ row: ClaimedRow) -> AttemptRecord {
        AttemptRecord(attempt: row.attempt, startedAtMs: 1, endedAtMs: 2, promptTokens: 1_500, completionTokens: 500, cost: 0.001)
    }
}
