import Foundation
import Ledger
import Provider
import Recipe
import Testing
import TestSupport
@testable import BatchRunner
import Wire

@Suite("The run loop, with a scripted provider and virtual time")
struct RunLoopTests {
    let dir: TemporaryDirectory
    let recipe: Recipe

    init() throws {
        dir = try TemporaryDirectory("run-loop")
        recipe = try Recipe.load(path: Fixtures.repositoryRoot.appendingPathComponent("recipes/nanochat-identity/recipe.json").path)
    }

    func run(rows: Int64, settings: RunSettings, clock: VirtualClock, transport: any HTTPTransport) async throws -> (RunSummary, Ledger) {
        let ledger = try RunSetup.create(ledgerPath: dir.path("loop-\(UUID().uuidString).db"), recipe: recipe, num: rows, shard: nil,
                                         settings: settings, durability: .normal, nowMs: clock.nowMs())
        let client = ChatClient(transport: transport, config: ProviderConfig(baseURL: "http://127.0.0.1:1/v1"))
        let batch = BatchRun(ledger: ledger, recipe: recipe, client: client, settings: settings, clock: clock)
        return (try await batch.run(), ledger)
    }

    @Test("a 429 storm pauses every worker until the provider's Retry-After has passed, then the run finishes")
    func stormPausesEveryone() async throws {
        let clock = VirtualClock()
        let start = clock.nowMs()
        let transport = ScriptedTransport(clock: clock) { n in
            n <= 16 ? ScriptedTransport.rateLimited(retryAfter: 30) : ScriptedTransport.success(n)
        }
        var settings = RunSettings()
        settings.concurrency = 8
        settings.seed = 1
        let (summary, ledger) = try await run(rows: 40, settings: settings, clock: clock, transport: transport)
        #expect(summary.reason == .finished)
        #expect(try ledger.counts() == StateCounts(done: 40))
        let times = transport.times
        // The storm is recognised within the first 16 answers (half of the recent ones limited);
        // every request after those waited out the 30 s the provider asked for.
        let afterStorm = times.dropFirst(16)
        #expect(afterStorm.allSatisfy { $0 >= start + 30_000 }, "requests during the pause: \(afterStorm.filter { $0 < start + 30_000 }.count)")
        #expect(times.count == 56)
    }

    @Test("a lone 429 delays only its own row")
    func loneRateLimit() async throws {
        let clock = VirtualClock()
        let start = clock.nowMs()
        let transport = ScriptedTransport(clock: clock) { n in
            n == 3 ? ScriptedTransport.rateLimited(retryAfter: 60) : ScriptedTransport.success(n)
        }
        var settings = RunSettings()
        settings.concurrency = 4
        settings.seed = 1
        let (summary, ledger) = try await run(rows: 30, settings: settings, clock: clock, transport: transport)
        #expect(summary.reason == .finished)
        #expect(try ledger.counts().done == 30)
        let times = transport.times
        #expect(times.count == 31)
        // Only the last request (the limited row's retry) waited for the minute.
        #expect(times.dropLast().allSatisfy { $0 < start + 60_000 })
        #expect(times.last! >= start + 60_000)
    }

    @Test("an invalid answer is retried at once, a server error after backoff")
    func invalidAnswerRetriedAtOnce() async throws {
        let clock = VirtualClock()
        let start = clock.nowMs()
        let transport = ScriptedTransport(clock: clock) { n in
            switch n {
            case 1: ScriptedTransport.success(n, content: "Sure! {not a conversation")
            case 2: HTTPResponse(status: 500, body: Array(#"{"error": {"code": 500, "message": "boom"}}"#.utf8))
            default: ScriptedTransport.success(n)
            }
        }
        var settings = RunSettings()
        settings.concurrency = 1
        settings.seed = 1
        settings.backoffBaseMs = 10_000
        let (summary, ledger) = try await run(rows: 2, settings: settings, clock: clock, transport: transport)
        #expect(summary.reason == .finished)
        #expect(try ledger.counts() == StateCounts(done: 2))
        let times = transport.times
        #expect(times.count == 4)
        // The invalid answer's row is resent with no wait; the 500 waits a backoff draw (seed 1),
        // after one or two failed attempts depending on which row drew it (the loop sends the
        // next row before it judges an answer).
        let draws = [1, 2].map { failed in
            var random = SeededRandom(seed: 1)
            return Backoff(baseMs: 10_000, capMs: 180_000).delayMs(afterFailedAttempts: failed, using: &random)
        }
        #expect(draws.allSatisfy { $0 > 0 })
        let waits = times.map { $0 - start }
        #expect(waits.dropLast() == [0, 0, 0] && draws.contains(waits.last!), "\(waits), draws \(draws)")
    }

    @Test("--rpm paces requests in virtual time")
    func requestsPerMinute() async throws {
        let clock = VirtualClock()
        let start = clock.nowMs()
        let transport = ScriptedTransport(clock: clock) { ScriptedTransport.success($0) }
        var settings = RunSettings()
        settings.concurrency = 64
        settings.requestsPerMinute = 120
        let (summary, _) = try await run(rows: 60, settings: settings, clock: clock, transport: transport)
        #expect(summary.reason == .finished)
        let times = transport.times
        #expect(times.count == 60)
        // 120 a minute is one every 500 ms after a burst of 2: 60 requests span about 29 s.
        let span = times.last! - start
        #expect(span >= 28_500 && span <= 31_000, "span \(span) ms: \(zip(times.dropFirst(), times).map { $0 - $1 })")
        for (i, t) in times.enumerated() where i >= 2 {
            #expect(t >= start + Int64(i - 1) * 500 - 1, "request \(i) at \(t - start) ms")
        }
    }
}
