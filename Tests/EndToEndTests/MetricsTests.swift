import Foundation
import Testing
import TestSupport

/// `--metrics-listen`: a real `batch run` against a real `batch simulate`, scraped over HTTP as
/// Prometheus would, its numbers held against the ledger.
@Suite("--metrics-listen: live Prometheus metrics")
struct MetricsTests {
    static let key = "sk-metrics-test-4f1d9a0c"

    @Test("a run serves /metrics while it lives: Prometheus text promtool accepts, 404 elsewhere, the key nowhere, and the numbers the ledger has at the end")
    func scrapeAgreesWithLedger() async throws {
        let dir = try TemporaryDirectory("metrics")
        defer { dir.remove() }
        // 60% of answers are 429s asking for ten minutes (capped at five): the storm soon pauses
        // every request, the rows it answered wait their five minutes, and the run stays alive,
        // changing nothing, until the test stops it. Its counters are final from then on.
        let sim = try await SimulatorProcess(["--latency-ms", "100", "--fail-429", "0.6", "--retry-after", "600", "--seed", "7"])
        let ledger = dir.path("run.db"), rows = 200
        let process = try BatchProcess(
            ["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "\(rows)", "--concurrency", "8",
             "--base-url", sim.baseURL, "--api-key-env", "BATCH_TEST_METRICS_KEY", "--metrics-listen", "127.0.0.1:0"],
            environment: ["BATCH_TEST_METRICS_KEY": Self.key])
        let url = try await process.waitForStandardError { line in
            line.hasPrefix("batch: metrics on ") ? String(line.dropFirst("batch: metrics on ".count)) : nil
        }
        #expect(url.hasPrefix("http://127.0.0.1:") && url.hasSuffix("/metrics") && !url.hasSuffix(":0/metrics"), "\(url)")

        // While it runs: the format, the families asked for, and nothing but /metrics.
        let first = try await PrometheusText.scrape(url)
        #expect(first.status == 200)
        #expect(first.contentType == "text/plain; version=0.0.4; charset=utf-8")
        _ = try PrometheusText.samples(first.body)
        let types = PrometheusText.types(first.body)
        for (name, type) in [
            ("batch_rows", "gauge"), ("batch_requests_total", "counter"), ("batch_request_duration_seconds", "histogram"),
            ("batch_prompt_tokens_total", "counter"), ("batch_completion_tokens_total", "counter"),
            ("batch_cached_prompt_tokens_total", "counter"), ("batch_cost_total", "counter"), ("batch_window", "gauge"),
            ("batch_rate_limit_paused", "gauge"), ("batch_rate_limit_pauses_total", "counter"), ("batch_rows_per_second", "gauge"),
        ] {
            #expect(types[name] == type, "\(name) is \(types[name] ?? "missing"), not \(type)")
        }
        let elsewhere = try await PrometheusText.scrape(url.replacingOccurrences(of: "/metrics", with: "/"))
        #expect(elsewhere.status == 404)

        // Until the run stalls: nothing in flight, and the rows as the attempts left them.
        func value(_ s: [String: Double], _ key: String) -> Double { s[key] ?? -1 }
        let done = #"batch_requests_total{outcome="done"}"#, retry = #"batch_requests_total{outcome="retry"}"#
        var last = first
        var final: [String: Double] = [:]
        try await waitUntil {
            guard let scrape = try? await PrometheusText.scrape(url), let s = try? PrometheusText.samples(scrape.body) else { return false }
            last = scrape
            final = s
            return value(s, #"batch_rows{state="in_flight"}"#) == 0 && value(s, #"batch_rows{state="done"}"#) == value(s, done)
                && value(s, #"batch_rows{state="pending"}"#) == Double(rows) - value(s, done) && value(s, done) + value(s, retry) > 0
        }
        #expect(!last.body.contains(Self.key) && !last.body.contains("BATCH_TEST_METRICS_KEY"))
        let pauses = value(final, "batch_rate_limit_pauses_total")
        #expect(pauses == 1, "with 60% 429s a storm pauses the run")
        #expect(value(final, "batch_rate_limit_paused") == (pauses > 0 ? 1 : 0))
        #expect((1...8).contains(value(final, "batch_window")))
        #expect(value(final, "batch_rows_per_second") > 0)
        let attempts = value(final, done) + value(final, retry) + value(final, #"batch_requests_total{outcome="failed"}"#)
        #expect(value(final, "batch_request_duration_seconds_count") == attempts)
        #expect(value(final, #"batch_request_duration_seconds_bucket{le="+Inf"}"#) == attempts)
        let buckets = final.filter { $0.key.hasPrefix("batch_request_duration_seconds_bucket") }
            .map { (Double($0.key.split(separator: "\"")[1]) ?? .infinity, $0.value) }.sorted { $0.0 < $1.0 }
        #expect(buckets.count == 13 && zip(buckets, buckets.dropFirst()).allSatisfy { $0.1 <= $1.1 }, "\(buckets)")

        if Self.promtoolRequired {
            try last.body.write(toFile: dir.path("metrics.txt"), atomically: true, encoding: .utf8)
            let check = try await ShellScript.run("promtool check metrics < metrics.txt", directory: dir.url.path)
            #expect(check.status == 0, "promtool check metrics (Debian: prometheus; ops/setup/install-deps.sh): \(check.output)")
        }

        // Stopped with nothing in flight, the ledger ends where the last scrape saw the run.
        process.signal(SIGTERM)
        #expect(await process.exitCode() == 143)
        let status = try await RunSupport.status([ledger])
        func int(_ key: String) -> Double { Double(RunSupport.int(status, key)) }
        #expect(int("done") == value(final, done))
        #expect(int("done") == value(final, #"batch_rows{state="done"}"#))
        #expect(int("pending") == value(final, #"batch_rows{state="pending"}"#))
        #expect(int("failed") == value(final, #"batch_rows{state="failed"}"#) && int("failed") == 0)
        #expect(int("in_flight") == 0)
        #expect(int("attempts") == attempts)
        #expect(int("prompt_tokens") == value(final, "batch_prompt_tokens_total") && int("prompt_tokens") > 0)
        #expect(int("completion_tokens") == value(final, "batch_completion_tokens_total"))
        #expect(int("cached_prompt_tokens") == value(final, "batch_cached_prompt_tokens_total"))
        let cost = status["cost"] as? Double ?? -1
        #expect(cost > 0 && abs(cost - value(final, "batch_cost_total")) < 1e-9 * max(1, cost), "ledger \(cost)")
        let errors = (status["errors"] as? [String: Int] ?? [:]).mapValues(Double.init)
        let scraped = Dictionary(uniqueKeysWithValues: final.compactMap { key, value -> (String, Double)? in
            guard key.hasPrefix(#"batch_errors_total{kind=""#) else { return nil }
            return (String(key.dropFirst(#"batch_errors_total{kind=""#.count).dropLast(2)), value)
        })
        #expect(errors == scraped && errors["rate_limited"] == value(final, retry), "ledger \(errors), scraped \(scraped)")
        await sim.stop()
    }

    @Test("a port in use is refused before a ledger is made, saying what to do; so is a value that is not ADDR:PORT")
    func portInUse() async throws {
        let dir = try TemporaryDirectory("metrics-port")
        defer { dir.remove() }
        let sim = try await SimulatorProcess([])
        let taken = try #require(URL(string: sim.rootURL)?.port)
        let run = ["run", "--ledger", dir.path("run.db"), "--recipe", RunSupport.recipePath, "--num", "5", "--base-url", sim.baseURL]
            + RunSupport.fastRetries
        let inUse = try await runBatch(run + ["--metrics-listen", "127.0.0.1:\(taken)"], directory: dir.url.path)
        #expect(inUse.status == 1)
        #expect(inUse.stderr.contains("port \(taken) is in use") && inUse.stderr.contains("127.0.0.1:0 for a free one"), "\(inUse.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).isEmpty)

        for bad in ["9464", "::1:9464", "127.0.0.1:65536", "127.0.0.1:"] {
            let result = try await runBatch(run + ["--metrics-listen", bad], directory: dir.url.path)
            #expect(result.status == 64 && result.stderr.contains("--metrics-listen takes ADDR:PORT"), "\(bad): \(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).isEmpty)
        await sim.stop()
    }

    /// promtool checks the scraped text where it is installed, and always in CI, where a missing
    /// one fails the test instead of skipping the check (ops/setup/install-deps.sh installs it).
    static var promtoolRequired: Bool {
        ProcessInfo.processInfo.environment["CI"] != nil
            || (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
                .contains { FileManager.default.isExecutableFile(atPath: "\($0)/promtool") }
    }
}
