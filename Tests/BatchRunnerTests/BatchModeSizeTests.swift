import Foundation
import Ledger
import Provider
import Recipe
import Testing
import TestSupport
@testable import BatchRunner

@Suite("--mode batch: batch sizes within the provider's caps")
struct BatchModeSizeTests {
    @Test("a batch holds at most 5,000 requests on OpenRouter, 50,000 on OpenAI, and 190 MB of request bodies either way",
          arguments: BatchAPIKind.allCases)
    func caps(kind: BatchAPIKind) throws {
        let dir = try TemporaryDirectory("batch-size")
        defer { dir.remove() }
        let recipe = try BuiltInRecipe.load()
        let ledger = try Ledger.create(at: dir.path("run.db"), run: LedgerFixtures.run(rows: 10), indices: 0..<10, nowMs: 0)
        let transport = try CurlTransport(maxConnections: 1)
        defer { transport.shutdown() }
        let api = BatchAPIClient(transport: transport, config: ProviderConfig(baseURL: "http://127.0.0.1:9/v1"), kind: kind)
        func size(_ asked: Int?) -> Int {
            var settings = RunSettings()
            settings.batchSize = asked
            return BatchModeRun(ledger: ledger, recipe: recipe, api: api, settings: settings, runID: "r").batchSize
        }
        let body = recipe.requestBody(for: recipe.draw(index: 0)).count
        let largest = size(nil)
        #expect(largest <= (kind == .openrouter ? 5_000 : 50_000))
        #expect(largest * body <= 190_000_000, "\(largest) rows of \(body) bytes")
        #expect(kind == .openrouter ? largest == 5_000 : largest > 10_000, "the seed's 12 KB prompts fill \(largest) rows")
        #expect(size(100) == 100)
        #expect(size(1_000_000) == largest)
    }
}
