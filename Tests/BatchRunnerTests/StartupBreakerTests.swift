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
    private var held: [@Sendable (Result<HTTPResponse, any Error>) -> Void] = []

    init(failFirst: Int, wave: Int) {
        self.failFirst = failFirst
        self.wave = wave
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse { ScriptedTransport.success(0) }

    func start(_ request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, any Error>) -> Void) -> PendingExchange {
        let (n, release): (Int, [@Sendable (Result<HTTPResponse, any Error>) -> Void]) = lock.withLock {
            count += 1
            if count > failFirst && count <= wave { held.append(completion); return (count, []) }
            let release = count > wave ? held : []
            if count > wave { held = [] }
            return (count, release)
        }
        for (offset, complete) in release.enumerated() { complete(.success(ScriptedTransport.success(10_000 + offset))) }
        if n <= failFirst {
            completion(.success(HTTPResponse(status: 500, body: Array(#"{"error": {"code": 500, "message": "boom"}}"#.utf8))))
        } else if n > wave {
            completion(.success(ScriptedTransport.success(n)))
        }
        return PendingExchange {}
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
        let (summary, ledger) = try await run(rows: 32, settings: settings, clock: clock, transport: transport)
        #expect(summary.reason == .finished, "\(summary.reason)")
        #expect(try ledger.counts().done == 32)
    }
}
