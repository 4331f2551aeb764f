import Provider
import Testing
@testable import BatchRunner

@Suite("Each run default in one place")
struct RunDefaultsTests {
    @Test("a new RunSettings starts from RunDefaults")
    func settingsStartFromDefaults() {
        let s = RunSettings()
        #expect(s.concurrency == RunDefaults.concurrency)
        #expect(s.maxAttempts == RunDefaults.maxAttempts)
        #expect(s.baseURL == RunDefaults.baseURL)
        #expect(s.apiKeyEnv == RunDefaults.apiKeyEnv)
        #expect(s.backoffBaseMs == RunDefaults.backoffBaseMs)
        #expect(s.backoffCapMs == RunDefaults.backoffCapMs)
        #expect(s.maxRetryAfterMs == RunDefaults.maxRetryAfterMs)
        #expect(s.connectTimeoutMs == RunDefaults.connectTimeoutMs)
        #expect(s.requestDeadlineMs == RunDefaults.requestDeadlineMs)
        #expect(s.gracePeriodMs == RunDefaults.gracePeriodMs)
        #expect(s.breakerThreshold == RunDefaults.breakerThreshold)
    }

    @Test("the values users get: 16 in flight, backoff from 0.5 s to 180 s, 300 s deadline, 20 s grace")
    func values() {
        #expect(RunDefaults.concurrency == 16)
        #expect(RunDefaults.backoffBaseMs == 500)
        #expect(RunDefaults.backoffCapMs == 180_000)
        #expect(RunDefaults.requestDeadlineMs == 300_000)
        #expect(RunDefaults.connectTimeoutMs == 10_000)
        #expect(RunDefaults.gracePeriodMs == 20_000)
        #expect(RunDefaults.baseURL == "https://openrouter.ai/api/v1")
        #expect(RunDefaults.apiKeyEnv == "OPENROUTER_API_KEY")
    }

    @Test("Backoff's and the provider's own defaults are the run's")
    func sharedDefaults() {
        #expect(Backoff() == Backoff(baseMs: RunSettings().backoffBaseMs, capMs: RunSettings().backoffCapMs))
        let config = ProviderConfig()
        #expect(config.baseURL == RunDefaults.baseURL && config.apiKeyEnvName == RunDefaults.apiKeyEnv)
        #expect(config.connectTimeout.wholeMilliseconds == RunDefaults.connectTimeoutMs)
        #expect(config.requestDeadline.wholeMilliseconds == RunDefaults.requestDeadlineMs)
        #expect(config.maxRetryAfter.wholeMilliseconds == RunDefaults.maxRetryAfterMs)
        #expect(ResponseClassifier().maxWait == config.maxRetryAfter)
    }
}
