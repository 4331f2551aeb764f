import Foundation
import Provider
import Recipe
import Testing
import TestSupport
@testable import BatchRunner

/// A provider whose errors come back at once while its successes take a while, as real ones do:
/// the first `failFirst` requests answer 500 immediately, the rest of the first wave are held,
/// and the first request after the wave (a retry) releases them all with successes.
final class QuickErrorsTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private let failFirst: Int
    private let wave: Int
    private var count = 0
    private var held: [Int: @Sendable (Result<HTTPResponse, any Error>) -> Void] = [:]

    init(failFirst: Int, wave: Int) {
        self.failFirst = failFirst
        self.wave = wave
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse { ScriptedTransport.success(0) }

    func start(_ request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, any Error>) -> Void) -> PendingExchange {
        let (n, release): (Int, [Int: @Sendable (Result<HTTPResponse, any Error>) -> Void]) = lock.withLock {
            count += 1
            if count > failFirst && count <= wave { held[count] = completion; return (count, [:]) }
            let release = count > wave ? held : [:]
            if count > wave { held = [:] }
            return (count, release)
        }
        for (id, complete) in release { complete(.success(ScriptedTransport.success(10_000 + id))) }
        if n <= failFirst {
            completion(.success(HTTPResponse(status: 500, body: Array(#"{"error": {"code": 500, "message": "boom"}}"#.utf8))))
        } else if n > wave {
            completion(.success(ScriptedTransport.success(n)))
        }
        return PendingExchange { [self] in
            // An abandoned request ends as a cancelled one, as a real transport's does.
            let complete = lock.withLock { held.removeValue(forKey: n) }
            complete?(.failure(TransportError(.cancelled, "cancelled")))
        }
    }
}

@Suite("The start-up breaker, with virtual time")
struct StartupBreakerTests {
    @Test("quick errors while requests are still out do not trip the start-up breaker; a success may yet come")
    func quickErrorsBeforeFirstSuccess() async throws {
        let dir = try TemporaryDirectory("startup-breaker")
        defer { dir.remove() }
        let recipe = try Recipe.load(path: Fixtures.repositoryRoot.appendingPathComponent("recipes/nanochat-identity/recipe.json").path)
        let clock = VirtualClock()
        var settings = RunSettings()
        settings.concurrency = 32
        settings.seed = 1
        settings.backoffBaseMs = 1_000
        let ledger = try RunSetup.create(ledgerPath: dir.path("run.db"), recipe: recipe, num: 32, shard: nil,
                                         settings: settings, durability: .normal, nowMs: clock.nowMs())
        let client = ChatClient(transport: QuickErrorsTransport(failFirst: 20, wave: 32), config: ProviderConfig(baseURL: "http://127.0.0.1:1/v1"))
        let batch = Unchecked(BatchRun(ledger: ledger, recipe: recipe, client: client, settings: settings, clock: clock))
        // A guard, not a wait: with the breaker tripped, the held requests would be waited for
        // until this fails the test.
        let reason: StopReason? = await withCheckedContinuation { continuation in
            let once = ResumeOnce(continuation)
            Task { once.resume(try? await batch.value.run().reason) }
            Task { try? await Task.sleep(for: .seconds(60)); once.resume(nil) }
        }
        #expect(reason == .finished, "nil: the run did not finish within the guard's 60 s")
        #expect(try ledger.counts().done == 32)
    }
}

/// Hands a value that is used by one task at a time to a child task.
private struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Resumes a continuation with the first value given; later ones are dropped.
private final class ResumeOnce<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Value, Never>?
    init(_ continuation: CheckedContinuation<Value, Never>) { self.continuation = continuation }
    func resume(_ value: Value) {
        let pending = lock.withLock { () -> CheckedContinuation<Value, Never>? in defer { continuation = nil }; return continuation }
        pending?.resume(returning: value)
    }
}
