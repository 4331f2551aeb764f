import Foundation
import Recipe
import Testing
import TestSupport
import Wire

/// `kill -9` at random moments, `batch resume` after each: every index ends up exported exactly
/// once, each row's content is a response the simulator really sent for that index's prompt,
/// and the requests wasted are bounded by what was in flight at the kills.
///
/// CI runs a short form; `ops/crash-test.sh` sets BATCH_CRASH_ROWS / BATCH_CRASH_KILLS for the
/// long one (2,000 rows, 25 kills).
@Suite("Crash safety under SIGKILL")
struct CrashTests {
    static let environment = ProcessInfo.processInfo.environment
    static let rows = Int(environment["BATCH_CRASH_ROWS"] ?? "") ?? 600
    static let kills = Int(environment["BATCH_CRASH_KILLS"] ?? "") ?? 10
    static let seed = UInt64(environment["BATCH_CRASH_SEED"] ?? "") ?? UInt64.random(in: 1...1_000_000)
    static let concurrency = 8
    /// BATCH_CRASH_WIRE: "h2" or "h1" for HTTPS through nginx (HTTP/2, HTTP/1.1); plain HTTP otherwise.
    static let wire = environment["BATCH_CRASH_WIRE"] ?? "http"

    @Test("a run killed with SIGKILL again and again and resumed each time exports every index exactly once")
    func killAndResume() async throws {
        try await Self.killAndResume(wire: Self.wire, rows: Self.rows, kills: Self.kills)
    }

    @Test("the same over HTTPS HTTP/2 through nginx (short form)", .enabled(if: TLSFront.isAvailable && Self.wire == "http", "needs nginx; or the long form already runs over HTTPS"))
    func killAndResumeHTTPS() async throws {
        try await Self.killAndResume(wire: "h2", rows: 300, kills: 6)
    }

    static func killAndResume(wire: String, rows: Int, kills: Int) async throws {
        let dir = try TemporaryDirectory("crash")
        defer { dir.remove() }
        let log = dir.path("sim.jsonl")
        let sim = try await SimulatorProcess([
            "--seed", "\(Self.seed)", "--log", log, "--latency-ms", "50", "--latency-sigma", "0.5", "--retry-after", "1",
            "--fail-429", "0.02", "--fail-500", "0.03", "--fail-malformed", "0.03", "--fail-reset", "0.02",
        ])
        var baseURL = sim.baseURL
        var wireArguments: [String] = []
        var tls: TLSFront?
        if wire != "http" {
            let front = try await TLSFront(upstreamRoot: sim.rootURL, directory: dir.path("tls"), accessLog: false)
            tls = front
            baseURL = (wire == "h1" ? front.h1Root : front.h2Root) + "/v1"
            wireArguments = ["--ca-cert", front.caFile] + (wire == "h1" ? ["--http1.1"] : [])
        }
        let ledger = dir.path("crash.db")
        var random = SeededRandom(seed: Self.seed)
        var arguments = ["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "\(rows)",
                         "--concurrency", "\(Self.concurrency)", "--max-attempts", "100", "--base-url", baseURL,
                         "--seed", "\(Self.seed)"] + wireArguments + RunSupport.fastRetries
        var killed = 0
        var doneAtKills: [Int] = []
        while killed < kills {
            let process = try BatchProcess(arguments)
            let landed: Bool
            if random.next() % 4 == 0 {
                // A moment during start-up: opening the ledger, releasing orphans, the first claims.
                let moment = Date().addingTimeInterval(Double(random.next() % 40) / 1_000)
                landed = await Self.kill(process) { Date() >= moment }
            } else {
                // A moment mid-run: after a random number of further answers from the simulator
                // (its log is read directly: cheap enough to poll, unlike a `batch status` process).
                let before = Self.answers(log)
                // At most rows / (kills + 2) answers apart, so that every kill lands before the run ends.
                let target = before + 1 + Int(random.next() % UInt64(max(1, rows / (kills + 2))))
                landed = await Self.kill(process) { Self.answers(log) >= target }
            }
            guard landed else { break }  // finished before its kill: no more moments left
            #expect(await process.exitCode() == 128 + SIGKILL)
            killed += 1
            if FileManager.default.fileExists(atPath: ledger) {
                doneAtKills.append(RunSupport.int(try await RunSupport.status([ledger]), "done"))
                arguments = ["resume", "--ledger", ledger]
            }
        }
        let last = try await runBatch(["resume", "--ledger", ledger])
        #expect(last.status == 0, "\(last.output)")

        let status = try await RunSupport.status([ledger])
        #expect(RunSupport.int(status, "done") == rows)
        #expect(RunSupport.int(status, "failed") == 0)
        let export = try await RunSupport.export([ledger], in: dir)
        #expect(export.indices == (0..<Int64(rows)).map { $0 }, "every index exactly once, in order")
        #expect(export.lines.count == rows)
        let served = try RunSupport.servedOK(log)
        var foreign = 0
        for (line, index) in zip(export.lines, export.indices) {
            guard let id = RunSupport.generationID(of: line, answering: index), served.contains(id) else { foreign += 1; continue }
        }
        #expect(foreign == 0, "\(foreign) rows hold content the simulator never sent for their index")

        let stats = try sim.stats()
        let requests = stats["requests"] as? Int ?? 0
        let okResponses = served.count
        let wasted = okResponses - rows
        print("crash test (\(wire)): seed \(Self.seed), \(rows) rows, \(killed) SIGKILLs (done at kills: \(doneAtKills)), \(requests) requests, \(okResponses) successful answers, \(wasted) successful answers lost to kills (bound \(killed * Self.concurrency)), 0 duplicates, 0 losses")
        #expect(wasted >= 0 && wasted <= killed * Self.concurrency)
        #expect(killed >= min(kills, 3))
        await tls?.stop()
        await sim.stop()
    }

    /// Sends SIGKILL to `process` as soon as `moment` holds, watching from a thread of its own
    /// (every 2 ms): with the whole suite running, the test tasks' shared threads can be busy for
    /// seconds, long enough for a run to end before a kill polled from a task. False when the
    /// process ended first.
    static func kill(_ process: BatchProcess, when moment: @escaping @Sendable () -> Bool) async -> Bool {
        await withCheckedContinuation { continuation in
            Thread {
                while process.process.isRunning {
                    if moment() {
                        process.signal(SIGKILL)
                        continuation.resume(returning: true)
                        return
                    }
                    usleep(2_000)
                }
                continuation.resume(returning: false)
            }.start()
        }
    }

    /// Responses the simulator has written so far (one log line each).
    static func answers(_ log: String) -> Int {
        guard let data = FileManager.default.contents(atPath: log) else { return 0 }
        return data.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    }
}

