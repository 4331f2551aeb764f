import BatchRunner
import Testing
@testable import batch

/// The run flags parsed in-process: what they override, and their help read from `RunDefaults`.
@Suite("run, resume and retry flags")
struct SettingsOptionsTests {
    @Test("only the flags given become overrides; seconds become whole milliseconds, rounded up")
    func overrides() throws {
        let options = try SettingsOptions.parse([
            "--concurrency", "auto:64", "--request-timeout", "2.675", "--grace-period", "0.0005", "--backoff-base", "1.1",
            "--no-http1.1", "--mode", "batch", "--poll-interval", "0.05",
        ])
        var expected = RunSettingsOverrides()
        expected.concurrency = ConcurrencySetting(limit: 64, adaptive: true)
        expected.requestDeadlineMs = 2_675
        expected.gracePeriodMs = 1
        expected.backoffBaseMs = 1_100
        expected.http11Only = false
        expected.mode = .batch
        expected.pollIntervalMs = 50
        #expect(options.overrides == expected)
        #expect(try SettingsOptions.parse([]).overrides == RunSettingsOverrides())
    }

    @Test("--help states the defaults RunSettings starts from")
    func helpDefaults() {
        let help = RunCommand.helpMessage(columns: 10_000)
        for text in [
            "(default 16)", "up to MAX (default 1024)", "(default 8)", "(default https://openrouter.ai/api/v1)",
            "(default OPENROUTER_API_KEY)", "(default 300)", "(default 20)", "(default 0.5)", "(default 180)", "(default 50)",
            "(default 4)", "(default 30)",
        ] {
            #expect(help.contains(text), "\(text)")
        }
        let s = RunSettings()
        #expect((s.concurrency, s.maxAttempts, s.breakerThreshold) == (16, 8, 50))
        #expect((s.requestDeadlineMs, s.gracePeriodMs, s.backoffBaseMs, s.backoffCapMs) == (300_000, 20_000, 500, 180_000))
    }
}
