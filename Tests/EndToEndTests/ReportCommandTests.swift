import Foundation
import Testing
import TestSupport

/// `batch report` and `export --drop` as a user runs them: real simulator and run processes,
/// data flaws injected at known rates, figures checked against `status --json`, direct SQL on
/// the ledger and the simulator's own counts.
@Suite("batch report: the run and the data, checked against status, SQL and the simulator's counts")
struct ReportCommandTests {
    /// `data-key="name">value<` pairs of a report.
    static func figures(_ html: String) -> [String: String] {
        var out: [String: String] = [:]
        let pattern = try! NSRegularExpression(pattern: #"data-key="([^"]+)">([^<]*)<"#)
        for match in pattern.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
            let key = String(html[Range(match.range(at: 1), in: html)!])
            if out[key] == nil { out[key] = String(html[Range(match.range(at: 2), in: html)!]) }
        }
        return out
    }

    static func dataFaults(_ stats: [String: Any]) -> [String: Int] { stats["data_faults"] as? [String: Int] ?? [:] }

    @Test("summary figures equal status --json and SQL; duplicates found equal the duplicates injected; export --drop leaves exactly them out",
          .timeLimit(.minutes(3)))
    func duplicatesAndAgreement() async throws {
        let dir = try TemporaryDirectory("report-dups")
        defer { dir.remove() }
        let sim = try await SimulatorProcess([
            "--latency-ms", "5", "--data-duplicate", "0.03", "--data-near-duplicate", "0.04",
            "--fail-500", "0.05", "--fail-429", "0.02", "--retry-after", "0", "--prompt-cache",
        ])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "600",
                                      "--concurrency", "16", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        #expect(run.status == 0, "\(run.output)")
        let injected = Self.dataFaults(try sim.stats())
        await sim.stop()
        #expect((injected["duplicate"] ?? 0) > 5 && (injected["near_duplicate"] ?? 0) > 5, "\(injected)")

        let html = dir.path("report.html")
        let report = try await runBatch(["report", "--ledger", ledger, "--output", html])
        #expect(report.status == 0, "\(report.output)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        let f = Self.figures(page)
        let status = try await RunSupport.status([ledger])
        for key in ["total", "done", "failed", "pending", "in_flight", "attempts", "prompt_tokens", "completion_tokens", "cached_prompt_tokens"] {
            #expect(f[key] == "\(RunSupport.int(status, key))", "\(key): report \(f[key] ?? "-"), status \(status[key] ?? "-")")
        }
        #expect(f["cost"] == String(format: "%.4f", status["cost"] as? Double ?? -1))
        // The time series are read separately from status; their totals must add up to the ledger's.
        #expect(f["timeline_attempts"] == "\(try SQLiteProbe.integer(ledger, "SELECT COUNT(*) FROM attempts"))")
        #expect(f["timeline_rows_done"] == "\(try SQLiteProbe.integer(ledger, "SELECT COUNT(*) FROM results"))")
        let limited = try SQLiteProbe.integer(ledger, "SELECT COUNT(*) FROM attempts WHERE http_status = 429")
        #expect(limited > 0 && f["rate_limited"] == "\(limited)")
        #expect(page.contains("data-error=\"server_error\">\(try SQLiteProbe.integer(ledger, "SELECT COUNT(*) FROM attempts WHERE error_kind = 'server_error'"))<"))
        #expect(f["quality_rows"] == "\(RunSupport.int(status, "done"))")
        // Every injected flaw found, nothing else: varied answers do not resemble each other by chance.
        #expect(f["failing_exact-duplicates"] == "\(injected["duplicate"] ?? -1)", "\(injected)")
        #expect(f["failing_near-duplicates"] == "\(injected["near_duplicate"] ?? -1)", "\(injected)")
        #expect(f["failing_non-ascii"] == "0")

        // Self-contained: nothing fetched, no script, every chart closed.
        #expect(!page.contains("<script") && !page.contains("src=\"http") && !page.contains("href=\"http") && !page.contains("@import"))
        #expect(page.components(separatedBy: "<svg").count == page.components(separatedBy: "</svg>").count)
        #expect(page.components(separatedBy: "<svg").count > 12)
        for section in ["id=\"summary\"", "id=\"run\"", "id=\"data\""] { #expect(page.contains(section)) }

        // export --drop: the flagged rows go to the rejects file, the rest stay byte for byte.
        let all = try await RunSupport.export([ledger], in: dir, name: "all")
        let kept = dir.path("kept.jsonl"), rejects = dir.path("kept.jsonl.rejects.jsonl")
        let dropped = try await runBatch(["export", "--ledger", ledger, "--output", kept, "--drop", "exact-duplicates,near-duplicates"])
        #expect(dropped.status == 0, "\(dropped.output)")
        let keptLines = try String(contentsOfFile: kept, encoding: .utf8).split(separator: "\n").map(String.init)
        let rejectLines = try String(contentsOfFile: rejects, encoding: .utf8).split(separator: "\n").map(String.init)
        let expectedDropped = (injected["duplicate"] ?? 0) + (injected["near_duplicate"] ?? 0)
        #expect(rejectLines.count == expectedDropped)
        #expect(keptLines.count + rejectLines.count == all.lines.count)
        var rest = Set(all.lines)
        for line in keptLines { #expect(rest.remove(line) != nil || all.lines.filter { $0 == line }.count > 1) }
        for line in rejectLines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let reasons = object["reasons"] as? [String] ?? []
            #expect(reasons == ["exact-duplicates"] || reasons == ["near-duplicates"], "\(line.prefix(120))")
            #expect(object["index"] is NSNumber && object["messages"] is [Any])
        }
        // Kept rows keep index order and nothing repeats verbatim.
        #expect(Set(keptLines).count == keptLines.count)
        #expect(dropped.stderr.contains("left out \(expectedDropped) rows"))
    }

    @Test("shape, non-ASCII and first-message style: each check counts exactly the flaws injected", .timeLimit(.minutes(3)))
    func contentChecks() async throws {
        let dir = try TemporaryDirectory("report-checks")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--data-wrong-shape", "0.15", "--data-non-ascii", "0.08", "--data-off-style", "0.08"])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "500",
                                      "--concurrency", "16", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        #expect(run.status == 0, "\(run.output)")
        let injected = Self.dataFaults(try sim.stats())
        await sim.stop()
        let html = dir.path("r.html")
        let report = try await runBatch(["report", "--ledger", ledger, "--output", html])
        #expect(report.status == 0, "\(report.output)")
        let f = Self.figures(try String(contentsOfFile: html, encoding: .utf8))
        #expect(f["failing_shape-mismatch"] == "\(injected["wrong_shape"] ?? -1)", "\(injected)")
        #expect(f["failing_non-ascii"] == "\(injected["non_ascii"] ?? -1)", "\(injected)")
        #expect(f["non_ascii_rows"] == "\(injected["non_ascii"] ?? -1)")
        #expect(f["failing_first-message-style"] == "\(injected["off_style"] ?? -1)", "\(injected)")
        #expect(f["first_message_in_style"] == "\(500 - (injected["off_style"] ?? 0))")
        #expect(f["failing_exact-duplicates"] == "0" && f["failing_near-duplicates"] == "0")
        #expect(report.stderr.contains("flagged"))
    }

    @Test("a topic the provider refuses shows as bias in that dimension and not in the others", .timeLimit(.minutes(3)))
    func refusedTopicIsBias() async throws {
        let dir = try TemporaryDirectory("report-bias")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--varied", "--refuse-topic", "RoPE"])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "1500",
                                      "--concurrency", "32", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        #expect(run.status == 6, "rows refused by moderation fail: \(run.output.suffix(400))")
        await sim.stop()
        let failed = try SQLiteProbe.integer(ledger, "SELECT COUNT(*) FROM items WHERE state = 'failed'")
        #expect(failed > 5)
        let html = dir.path("r.html")
        let report = try await runBatch(["report", "--ledger", ledger, "--output", html])
        #expect(report.status == 0, "\(report.output)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        func p(_ dimension: String) -> Double? {
            guard let r = page.range(of: "data-dimension=\"\(dimension)\" data-p=\"") else { return nil }
            return Double(page[r.upperBound...].prefix { $0 != "\"" })
        }
        #expect((p("topic") ?? 1) < 1e-6)
        #expect(page.contains("most under-represented: what is RoPE and why use it"))
        #expect((p("persona") ?? 0) > 1e-4 && (p("dynamic") ?? 0) > 1e-4, "persona \(p("persona") ?? -1), dynamic \(p("dynamic") ?? -1)")
        #expect(page.contains("\(failed) rows failed"))
    }

    @Test("the shards of one run: one report, a row per shard, their sums equal to status", .timeLimit(.minutes(3)))
    func shards() async throws {
        let dir = try TemporaryDirectory("report-shards")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--varied"])
        var ledgers: [String] = []
        for k in 0..<2 {
            let ledger = dir.path("s\(k).db")
            ledgers.append(ledger)
            let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "90", "--shard", "\(k)/2",
                                          "--concurrency", "8", "--base-url", sim.baseURL] + RunSupport.fastRetries)
            #expect(run.status == 0, "\(run.output)")
        }
        await sim.stop()
        let html = dir.path("r.html")
        let report = try await runBatch(["report", "--output", html] + ledgers.flatMap { ["--ledger", $0] })
        #expect(report.status == 0, "\(report.output)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(Self.figures(page)["done"] == "90")
        for ledger in ledgers { #expect(page.contains("data-ledger=\"\(ledger)\"")) }
        #expect(page.contains("shard 0/2") && page.contains("shard 1/2"))
        // The default output sits beside the first ledger.
        let plain = try await runBatch(["report", "--ledger", ledgers[0]])
        #expect(plain.status == 0 && FileManager.default.fileExists(atPath: dir.path("s0.report.html")), "\(plain.output)")
    }

    @Test("refusals: a report never overwrites a ledger; bad thresholds and --drop lists exit 64; --drop to a pipe needs --rejects")
    func refusals() async throws {
        let dir = try TemporaryDirectory("report-refusals")
        defer { dir.remove() }
        let sim = try await SimulatorProcess(["--varied"])
        let ledger = dir.path("run.db")
        let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "20",
                                      "--concurrency", "4", "--base-url", sim.baseURL] + RunSupport.fastRetries)
        #expect(run.status == 0, "\(run.output)")
        await sim.stop()
        let before = try Data(contentsOf: URL(fileURLWithPath: ledger))
        for target in [ledger, ledger + "-wal", dir.path("./run.db")] {
            let over = try await runBatch(["report", "--ledger", ledger, "--output", target])
            #expect(over.status == 1 && over.stderr.contains("never writes over a ledger"), "\(target): \(over.output)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: ledger)) == before)
        #expect(try SQLiteProbe.integer(ledger, "SELECT COUNT(*) FROM results") == 20)
        let threshold = try await runBatch(["report", "--ledger", ledger, "--near-duplicate-threshold", "0"])
        #expect(threshold.status == 64)
        let unknown = try await runBatch(["export", "--ledger", ledger, "--output", dir.path("x.jsonl"), "--drop", "dupes"])
        #expect(unknown.status == 64 && unknown.stderr.contains("near-duplicates"), "\(unknown.output)")
        let pipe = try await runBatch(["export", "--ledger", ledger, "--output", "-", "--drop", "non-ascii"])
        #expect(pipe.status == 64 && pipe.stderr.contains("--rejects"), "\(pipe.output)")
        let stray = try await runBatch(["export", "--ledger", ledger, "--output", dir.path("y.jsonl"), "--rejects", dir.path("r.jsonl")])
        #expect(stray.status == 64)
        let onLedger = try await runBatch(["export", "--ledger", ledger, "--output", dir.path("z.jsonl"), "--drop", "non-ascii", "--rejects", ledger])
        #expect(onLedger.status == 1 && onLedger.stderr.contains("never writes over a ledger"), "\(onLedger.output)")
        #expect(!FileManager.default.fileExists(atPath: dir.path("z.jsonl")))
        // A pipe with --rejects streams the kept rows and still writes the rejects file.
        let streamed = try await runBatch(["export", "--ledger", ledger, "--output", "-", "--drop", "non-ascii", "--rejects", dir.path("rej.jsonl")])
        #expect(streamed.status == 0 && streamed.stdout.split(separator: "\n").count == 20, "\(streamed.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.path("rej.jsonl")))
    }
}
