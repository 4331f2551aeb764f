import Foundation
import Provider
import Testing
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

extension RunLoopTests {
    @Test("quick errors while requests are still out do not trip the start-up breaker; a success may yet come")
    func quickErrorsBeforeFirstSuccess() async throws {
        let clock = VirtualClock()
        let transport = QuickErrorsTransport(failFirst: 20, wave: 32)
        var settings = RunSettings()
        settings.concurrency = 32
        settings.seed = 1
        settings.backoffBaseMs = 1_000
        // A guard, not a wait: with the breaker tripped, the held requests would be waited for
        // until this fails the test.
        let done: Int = try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask {
                let (summary, ledger) = try await run(rows: 32, settings: settings, clock: clock, transport: transport)
                #expect(summary.reason == .finished, "\(summary.reason)")
                return try ledger.counts().done
            }
            group.addTask { try await Task.sleep(for: .seconds(60)); return nil }
            defer { group.cancelAll() }
            return try await group.next()! ?? -1
        }
        #expect(done == 32, "-1: the run did not finish within the guard's 60 s")
    }
}
