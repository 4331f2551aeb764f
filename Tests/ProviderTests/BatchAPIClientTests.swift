import Foundation
import Testing
import TestSupport
@testable import Provider
@testable import Simulator

/// `BatchAPIClient` against the simulator's Batch APIs, both shapes, over real HTTP.
@Suite("The provider Batch API client")
struct BatchAPIClientTests {
    static func start(_ change: (inout SimulatorConfig) -> Void = { _ in }) async throws -> Loopback {
        var config = SimulatorConfig(seed: 5)
        config.batchTurnaround = .milliseconds(200)
        change(&config)
        return try await Loopback.start(config)
    }

    static func lines(_ count: Int) -> [BatchRequestLine] {
        (0..<count).map { BatchRequestLine(customID: "run-x.\($0)", body: chatBody(prompt: "row \($0): " + String(repeating: "facts ", count: 200))) }
    }

    /// Polls until terminal (the simulator's batches end after 200 ms here).
    static func finish(_ api: BatchAPIClient, _ id: String) async throws -> ProviderBatch {
        try await withTimeout(30) {
            while true {
                let batch = try await api.get(id)
                if batch.isTerminal { return batch }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    @Test("kind from the base URL: openrouter.ai speaks OpenRouter's, anything else OpenAI's")
    func kinds() {
        #expect(BatchAPIKind.from(baseURL: "https://openrouter.ai/api/v1") == .openrouter)
        #expect(BatchAPIKind.from(baseURL: "https://api.openai.com/v1") == .openai)
        #expect(BatchAPIKind.from(baseURL: "http://127.0.0.1:8000/v1") == .openai)
    }

    @Test("a batch round trip: created once per idempotency key, polled to its end, every row's answer classified", arguments: BatchAPIKind.allCases)
    func roundTrip(kind: BatchAPIKind) async throws {
        let loop = try await Self.start()
        let api = BatchAPIClient(transport: loop.transport, config: loop.client.config, kind: kind)
        let created = try await api.create(Self.lines(12), model: "google/gemini-3-flash-preview", idempotencyKey: "run-x.1",
                                           metadata: ["batch_run": "run-x"])
        #expect(created.status == "validating" && created.total == 12)
        let again = try await api.create(Self.lines(12), model: "google/gemini-3-flash-preview", idempotencyKey: "run-x.1")
        #expect(again.id == created.id)
        #expect(loop.server.stats().batchesCreated == 1)
        let done = try await Self.finish(api, created.id)
        #expect(done.status == "completed" && done.completed == 12)
        let results = try await api.results(of: done)
        #expect(results.map(\.customID).sorted() == (0..<12).map { "run-x.\($0)" }.sorted())
        for result in results {
            guard case .success(let completion) = result.outcome else { Issue.record("\(result)"); continue }
            #expect(completion.content.contains("\"messages\""))
            #expect((completion.cost ?? 0) > 0)
        }
        if kind == .openai {
            let listed = try await api.list()
            #expect(listed.batches.first { $0.id == created.id }?.metadata == ["batch_run": "run-x"])
        }
        try await loop.close()
    }

    @Test("rows a batch did not answer come back as errors to retry: per-request errors and expiry", arguments: BatchAPIKind.allCases)
    func errorsAndExpiry(kind: BatchAPIKind) async throws {
        let loop = try await Self.start { $0.batchExpireRate = 1; $0.batchRequestErrorRate = 0.3 }
        let api = BatchAPIClient(transport: loop.transport, config: loop.client.config, kind: kind)
        let done = try await Self.finish(api, try await api.create(Self.lines(20), model: "m", idempotencyKey: "k").id)
        #expect(done.status == "expired")
        let results = try await api.results(of: done)
        #expect(results.count == 20)
        let kinds = results.compactMap { $0.outcome.failure?.kind }
        #expect(kinds.filter { $0 == "batch_expired" }.count == 10)
        #expect(kinds.contains("batch_error"))
        #expect(results.filter { if case .success = $0.outcome { true } else { false } }.count == loop.server.stats().batchBilledRequests)
        try await loop.close()
    }

    @Test("a 429 on create says how long to wait; a 500 on poll is unavailable; an unknown batch is refused")
    func errors() async throws {
        let loop = try await Self.start { $0.batchCreate429Rate = 1; $0.batchPoll5xxRate = 1 }
        let api = BatchAPIClient(transport: loop.transport, config: loop.client.config, kind: .openrouter)
        do {
            _ = try await api.create(Self.lines(1), model: "m", idempotencyKey: "k")
            Issue.record("created despite the 429")
        } catch {
            #expect(error.kind == .rateLimited(retryAfter: .seconds(1)))
        }
        do {
            _ = try await api.get("x")
            Issue.record("no error")
        } catch {
            #expect(error.kind == .unavailable)
        }
        try await loop.close()
        let plain = try await Self.start()
        do {
            _ = try await BatchAPIClient(transport: plain.transport, config: plain.client.config).get("missing")
            Issue.record("no error")
        } catch {
            #expect(error.kind == .refused(status: 404))
        }
        try await plain.close()
    }
}
