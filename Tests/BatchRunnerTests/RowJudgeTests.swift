import Foundation
import Ledger
import Provider
import Recipe
import Testing
import TestSupport
@testable import BatchRunner

/// The pure decision from one provider outcome to one row verdict.
@Suite("Row verdicts")
struct RowJudgeTests {
    let recipe: Recipe
    let labels: SampleLabels

    init() throws {
        recipe = try Recipe.load(path: Fixtures.repositoryRoot.appendingPathComponent("recipes/nanochat-identity/recipe.json").path)
        labels = SampleLabels(recipe.draw(index: 7))
    }

    func judge(_ outcome: ProviderOutcome, attempt: Int = 1, maxAttempts: Int = 8) -> RowVerdict {
        RowJudge.judge(outcome, labels: labels, recipe: recipe, attempt: attempt, maxAttempts: maxAttempts,
                       startedAtMs: 1_000, endedAtMs: 1_250)
    }

    static let conversation = #"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello, I am nanochat."}]}"#

    @Test("a valid conversation is done, with its usage, labels and the seed's JSONL line")
    func done() throws {
        let verdict = judge(.success(ChatCompletion(content: Self.conversation, promptTokens: 10, completionTokens: 5,
                                                   cost: 0.25, model: "m", generationID: "gen-1", finishReason: "stop")))
        guard case let .done(result, attempt) = verdict else { Issue.record("not done: \(verdict)"); return }
        #expect(result.line == #"[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello, I am nanochat."}]"#)
        #expect(result.topic == labels.topic && result.persona == labels.persona && result.dynamic == labels.dynamic)
        #expect(result.generationID == "gen-1")
        #expect(attempt.promptTokens == 10 && attempt.completionTokens == 5 && attempt.cost == 0.25)
        #expect(attempt.startedAtMs == 1_000 && attempt.endedAtMs == 1_250)
    }

    @Test("an answer that is not a valid conversation is retried at once, and failed on the last attempt")
    func invalidConversation() {
        let answer = ProviderOutcome.success(ChatCompletion(content: "Sure! Here is a conversation: {oops", cost: 0.1))
        guard case let .retry(attempt, waitMs, rateLimit) = judge(answer, attempt: 2) else {
            Issue.record("not a retry"); return
        }
        #expect(waitMs == 0)
        #expect(!rateLimit)
        #expect(attempt.errorKind == "invalid_conversation")
        #expect(attempt.cost == 0.1, "the failed answer's cost is still recorded")
        guard case let .fail(last) = judge(answer, attempt: 8, maxAttempts: 8) else { Issue.record("not failed"); return }
        #expect(last.error?.hasPrefix("gave up after 8 attempts") == true)
    }

    @Test("a server error waits for backoff; a provider's Retry-After is kept; auth stops the run")
    func providerFailures() {
        guard case let .retry(_, waitMs, rateLimit) = judge(.retry(ProviderFailure(kind: "server_error", httpStatus: 500, message: "boom"))) else {
            Issue.record("not a retry"); return
        }
        #expect(waitMs == nil, "nil: the loop draws a backoff")
        #expect(!rateLimit)
        let limited = ProviderFailure(kind: "rate_limited", httpStatus: 429, message: "slow down", isRateLimit: true)
        guard case let .retry(attempt, wait, isLimit) = judge(.retryAfter(.seconds(30), limited)) else {
            Issue.record("not a retry"); return
        }
        #expect(wait == 30_000 && isLimit && attempt.retryAfterMs == 30_000 && attempt.httpStatus == 429)
        guard case let .abort(_, message) = judge(.abortRun(ProviderFailure(kind: "auth", httpStatus: 401, message: "bad key"))) else {
            Issue.record("not an abort"); return
        }
        #expect(message == "bad key")
        guard case .fail = judge(.failRow(ProviderFailure(kind: "context_too_long", httpStatus: 400, message: "too long"))) else {
            Issue.record("not failed"); return
        }
    }

    @Test("a truncated answer (finish_reason length) gets the retries other invalid answers get")
    func truncatedRetried() {
        let truncated = ProviderOutcome.failRow(ProviderFailure(kind: "truncated", httpStatus: 200, message: "length"))
        guard case let .retry(attempt, waitMs, rateLimit) = judge(truncated, attempt: 1) else {
            Issue.record("not a retry"); return
        }
        #expect(waitMs == 0 && !rateLimit && attempt.errorKind == "truncated")
        guard case let .fail(last) = judge(truncated, attempt: 8, maxAttempts: 8) else { Issue.record("not failed"); return }
        #expect(last.error?.hasPrefix("gave up after 8 attempts") == true)
    }
}
