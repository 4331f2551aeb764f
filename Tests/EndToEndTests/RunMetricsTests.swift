import Ledger
import Testing
@testable import BatchRunner
@testable import batch

/// `--metrics-listen`'s parts without a process: the address flag and what the metrics count.
@Suite("--metrics-listen: the address and the metrics")
struct RunMetricsTests {
    @Test("ADDR:PORT: IPv4, bracketed IPv6 and names; port 0 to 65535", arguments: [
        ("127.0.0.1:9464", MetricsAddress(host: "127.0.0.1", port: 9464)),
        ("0.0.0.0:0", MetricsAddress(host: "0.0.0.0", port: 0)),
        ("[::1]:9464", MetricsAddress(host: "::1", port: 9464)),
        ("[::]:65535", MetricsAddress(host: "::", port: 65535)),
        ("localhost:9464", MetricsAddress(host: "localhost", port: 9464)),
        ("9464", nil), (":9464", nil), ("127.0.0.1:", nil), ("127.0.0.1:65536", nil), ("127.0.0.1:-1", nil),
        ("::1:9464", nil), ("[::1]9464", nil), ("[127.0.0.1]:9464", nil), ("127.0.0.1:94 64", nil), ("http://127.0.0.1:9464", nil),
    ] as [(String, MetricsAddress?)])
    func address(_ text: String, _ expected: MetricsAddress?) {
        #expect(MetricsAddress(text) == expected)
    }

    @Test("the URL printed at start puts an IPv6 address in brackets")
    func url() {
        #expect(MetricsAddress(host: "::1", port: 0).url(port: 9464) == "http://[::1]:9464/metrics")
        #expect(MetricsAddress(host: "127.0.0.1", port: 0).url(port: 9464) == "http://127.0.0.1:9464/metrics")
    }

    @Test("attempts add up by outcome and error kind, with latency, tokens and cost; a negative or NaN cost is left out")
    func attempts() throws {
        let metrics = RunMetrics()
        metrics.attemptEnded(EndedAttempt(outcome: .done, errorKind: nil, latencyMs: 1_500, promptTokens: 100, completionTokens: 20,
                                          cachedTokens: 60, cost: 0.25))
        metrics.attemptEnded(EndedAttempt(outcome: .done, errorKind: nil, latencyMs: 80, promptTokens: 10, completionTokens: 2, cost: 0.5))
        metrics.attemptEnded(EndedAttempt(outcome: .retry, errorKind: "rate_limited", latencyMs: 40, pausedRun: true))
        metrics.attemptEnded(EndedAttempt(outcome: .retry, errorKind: "rate_limited", latencyMs: 40, cost: -1))
        metrics.attemptEnded(EndedAttempt(outcome: .failed, errorKind: "truncated", latencyMs: 200_000, cost: .nan))
        metrics.attemptEnded(EndedAttempt(outcome: .abandoned, errorKind: "abandoned", latencyMs: nil))
        let s = try PrometheusText.samples(String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(s[#"batch_requests_total{outcome="done"}"#] == 2)
        #expect(s[#"batch_requests_total{outcome="retry"}"#] == 2)
        #expect(s[#"batch_requests_total{outcome="failed"}"#] == 1)
        #expect(s[#"batch_requests_total{outcome="abandoned"}"#] == 1)
        #expect(s[#"batch_errors_total{kind="rate_limited"}"#] == 2)
        #expect(s[#"batch_errors_total{kind="truncated"}"#] == 1)
        #expect(s[#"batch_errors_total{kind="abandoned"}"#] == 1)
        #expect(s["batch_prompt_tokens_total"] == 110 && s["batch_completion_tokens_total"] == 22)
        #expect(s["batch_cached_prompt_tokens_total"] == 60)
        #expect(s["batch_cost_total"] == 0.75)
        #expect(s["batch_rate_limit_pauses_total"] == 1 && s["batch_rate_limit_paused"] == 1)
        // Five latencies: 0.04 s twice, 0.08 s, 1.5 s, and 200 s (past the last bucket).
        #expect(s["batch_request_duration_seconds_count"] == 5)
        #expect(s[#"batch_request_duration_seconds_bucket{le="0.1"}"#] == 3)
        #expect(s[#"batch_request_duration_seconds_bucket{le="2.0"}"#] == 4)
        #expect(s[#"batch_request_duration_seconds_bucket{le="120.0"}"#] == 4)
        #expect(s[#"batch_request_duration_seconds_bucket{le="+Inf"}"#] == 5)
    }

    @Test("progress sets the rows, the window, the pause and the rate; --mode batch sets the rows and the batches open")
    func progress() throws {
        let metrics = RunMetrics()
        metrics.progressed(RunProgress(
            counts: StateCounts(pending: 5, inFlight: 3, done: 10, failed: 2), elapsedMs: 1_000, rowsPerSecond: 2.5, etaSeconds: nil,
            usage: UsageTotals(), projectedCost: nil, window: 3, windowReason: "429", adaptive: false, paused: false, requestsSent: 15))
        var s = try PrometheusText.samples(String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(s[#"batch_rows{state="pending"}"#] == 5 && s[#"batch_rows{state="in_flight"}"#] == 3)
        #expect(s[#"batch_rows{state="done"}"#] == 10 && s[#"batch_rows{state="failed"}"#] == 2)
        #expect(s["batch_window"] == 3 && s["batch_rate_limit_paused"] == 0 && s["batch_rows_per_second"] == 2.5)
        metrics.batchesProgressed(counts: StateCounts(inFlight: 7, done: 13), batchesOpen: 2)
        s = try PrometheusText.samples(String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(s[#"batch_rows{state="in_flight"}"#] == 7 && s[#"batch_rows{state="done"}"#] == 13 && s["batch_batches_open"] == 2)
    }
}
