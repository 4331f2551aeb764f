import Foundation
import Ledger
import Provider
import Recipe
import Testing
import TestSupport
@testable import BatchRunner

/// Keeps what a run tells its observer.
final class RecordingObserver: RunObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var attemptsSeen: [EndedAttempt] = []
    private var snapshotsSeen: [RunProgress] = []

    func attemptEnded(_ attempt: EndedAttempt) { lock.withLock { attemptsSeen.append(attempt) } }
    func progressed(_ progress: RunProgress) { lock.withLock { snapshotsSeen.append(progress) } }

    var attempts: [EndedAttempt] { lock.withLock { attemptsSeen } }
    var snapshots: [RunProgress] { lock.withLock { snapshotsSeen } }
}

@Suite("The run loop's observer (live metrics), with a scripted provider and virtual time")
struct RunObserverTests {
    @Test("the observer hears every attempt the ledger records, each pause of the storm, and a snapshot every second to the end")
    func everyAttempt() async throws {
        let dir = try TemporaryDirectory("run-observer")
        defer { dir.remove() }
        let recipe = try Recipe.load(path: Fixtures.repositoryRoot.appendingPathComponent("recipes/nanochat-identity/recipe.json").path)
        let clock = VirtualClock()
        // As in the storm test: the first 16 answers are 429s asking for 30 s, the rest succeed.
        let transport = ScriptedTransport(clock: clock) { n in
            n <= 16 ? ScriptedTransport.rateLimited(retryAfter: 30) : ScriptedTransport.success(n)
        }
        var settings = RunSettings()
        settings.concurrency = 8
        settings.seed = 1
        let ledger = try RunSetup.create(ledgerPath: dir.path("observed.db"), recipe: recipe, num: 40, shard: nil,
                                         settings: settings, durability: .normal, nowMs: clock.nowMs())
        let client = ChatClient(transport: transport, config: ProviderConfig(baseURL: "http://127.0.0.1:1/v1"))
        let observer = RecordingObserver()
        let summary = try await BatchRun(ledger: ledger, recipe: recipe, client: client, settings: settings, clock: clock, observer: observer).run()
        #expect(summary.reason == .finished)

        let attempts = observer.attempts
        #expect(attempts.filter { $0.outcome == .done }.count == 40)
        #expect(attempts.filter { $0.outcome == .retry }.count == 16)
        #expect(attempts.filter { $0.outcome == .retry }.allSatisfy { $0.errorKind == "rate_limited" })
        // Each wave after a pause is all 429s again and pauses anew: 8 answers (the storm is seen
        // at the 8th), then waves of 4, 2, 1 and 1 as the window halves.
        #expect(attempts.filter { $0.pausedRun }.count == 5)
        #expect(attempts.allSatisfy { $0.latencyMs != nil })
        let usage = try ledger.usage()
        #expect(usage.attempts == attempts.count)
        #expect(usage.promptTokens == attempts.map(\.promptTokens).reduce(0, +) && usage.promptTokens == 400)
        #expect(usage.completionTokens == attempts.map(\.completionTokens).reduce(0, +))
        #expect(abs(usage.cost - attempts.map(\.cost).reduce(0, +)) < 1e-12)

        let snapshots = observer.snapshots
        #expect(snapshots.last?.counts == StateCounts(done: 40))
        #expect(snapshots.contains { $0.paused }, "the pause is seen in a snapshot")
        let gaps = zip(snapshots, snapshots.dropFirst()).map { $1.elapsedMs - $0.elapsedMs }
        #expect(snapshots.last!.elapsedMs >= 30_000 && gaps.allSatisfy { $0 <= BatchRun.observerIntervalMs }, "\(gaps)")
    }
}
