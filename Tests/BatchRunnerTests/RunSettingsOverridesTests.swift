import Provider
import Testing
@testable import BatchRunner

@Suite("Which settings a command line overrides")
struct RunSettingsOverridesTests {
    /// Settings as a ledger may have stored them, none at its default.
    static var stored: RunSettings {
        var s = RunSettings()
        s.concurrency = 64
        s.adaptiveConcurrency = true
        s.requestsPerMinute = 600
        s.maxCost = 5
        s.baseURL = "http://127.0.0.1:9/v1"
        s.httpVersion = "http1.1"
        s.mode = "batch"
        s.seed = 7
        s.prices = ModelPrices(prompt: 1, completion: 2)
        s.array = ArrayRun(ledgerPattern: "/r/x-{shard}.db", shard: 1, shards: 2, num: 10)
        return s
    }

    @Test("no flag changes nothing")
    func nothingGiven() {
        var s = Self.stored
        RunSettingsOverrides().apply(to: &s)
        #expect(s == Self.stored)
    }

    @Test("each flag given replaces its setting and only it")
    func eachGiven() {
        var o = RunSettingsOverrides()
        o.requestsPerMinute = 60
        o.maxCost = 9
        o.backoffBaseMs = 250
        o.batchesOpen = 2
        var s = Self.stored
        o.apply(to: &s)
        var expected = Self.stored
        expected.requestsPerMinute = 60
        expected.maxCost = 9
        expected.backoffBaseMs = 250
        expected.batchesOpen = 2
        #expect(s == expected)
    }

    @Test("a fixed --concurrency turns the adaptive window off; auto:MAX turns it on")
    func concurrency() {
        var s = Self.stored
        var o = RunSettingsOverrides()
        o.concurrency = ConcurrencySetting(parsing: "8")
        o.apply(to: &s)
        #expect(s.concurrency == 8 && s.adaptiveConcurrency == nil)
        o.concurrency = ConcurrencySetting(parsing: "AUTO:200")
        o.apply(to: &s)
        #expect(s.concurrency == 200 && s.adaptiveConcurrency == true)
    }

    @Test("--no-http1.1 and --mode online undo what was stored; --http1.1 and --mode batch set it")
    func undo() {
        var s = Self.stored
        var o = RunSettingsOverrides()
        o.http11Only = false
        o.mode = .online
        o.apply(to: &s)
        #expect(s.httpVersion == nil && s.mode == nil)
        o.http11Only = true
        o.mode = .batch
        o.apply(to: &s)
        #expect(s.httpVersion == "http1.1" && s.mode == "batch")
    }

    @Test("--concurrency reads N, auto and auto:MAX", arguments: [
        ("16", ConcurrencySetting(limit: 16, adaptive: false)),
        ("auto", ConcurrencySetting(limit: RunDefaults.adaptiveConcurrencyMaximum, adaptive: true)),
        ("Auto:96", ConcurrencySetting(limit: 96, adaptive: true)),
        ("auto:", nil), ("fast", nil), ("", nil),
    ])
    func parsesConcurrency(text: String, expected: ConcurrencySetting?) {
        #expect(ConcurrencySetting(parsing: text) == expected)
    }

    @Test("a continued run keeps its shard's array and prices, takes the plan's rows, then the flags")
    func continued() {
        var o = RunSettingsOverrides()
        o.requestsPerMinute = 60
        let s = RunSetup.settings(stored: Self.stored, plannedRows: 25, overrides: o)
        #expect(s.array == ArrayRun(ledgerPattern: "/r/x-{shard}.db", shard: 1, shards: 2, num: 25))
        #expect(s.prices == Self.stored.prices)
        #expect(s.requestsPerMinute == 60)
        #expect(RunSetup.settings(stored: RunSettings(), plannedRows: 25, overrides: nil) == RunSettings())
    }
}
