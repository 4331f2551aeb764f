import Ledger
import Provider
import Recipe
import Wire

/// What to do with one row after one attempt: the provider's decision combined with the
/// conversation's validation and the row's attempt budget.
enum RowVerdict: Sendable, Equatable {
    case done(RowResult, AttemptRecord)
    /// Back to pending: after `waitMs` when the wait is known (the provider named one, or 0 to
    /// retry an invalid answer at once), else after backoff.
    case retry(AttemptRecord, waitMs: Int64?, rateLimit: Bool)
    case fail(AttemptRecord)
    /// Stop the run: every row would fail the same way. The row itself goes back to pending.
    case abort(AttemptRecord, message: String)

    var isDone: Bool { if case .done = self { true } else { false } }

    var attempt: AttemptRecord {
        switch self {
        case .done(_, let a), .retry(let a, _, _), .fail(let a), .abort(let a, _): a
        }
    }
}

/// What a result keeps of its sample.
struct SampleLabels: Sendable, Equatable {
    let topic: String
    let persona: String
    let dynamic: String

    init(_ draw: Draw) {
        topic = draw.topic
        persona = draw.persona
        dynamic = draw.dynamic
    }
}

/// Turns a provider outcome into a verdict. Pure: tested without I/O.
enum RowJudge {
    static func judge(
        _ outcome: ProviderOutcome, labels sample: SampleLabels, recipe: Recipe, attempt: Int, maxAttempts: Int,
        startedAtMs: Int64, endedAtMs: Int64, prices: ModelPrices? = nil
    ) -> RowVerdict {
        var record = AttemptRecord(attempt: attempt, startedAtMs: startedAtMs, endedAtMs: endedAtMs)
        switch outcome {
        case .success(let completion):
            record.promptTokens = completion.promptTokens
            record.completionTokens = completion.completionTokens
            // No cost in the answer: priced from its tokens at the model list's prices.
            record.cost = completion.cost ?? prices.flatMap { prices in
                completion.promptTokens.map {
                    prices.cost(promptTokens: $0, completionTokens: completion.completionTokens ?? 0, cachedTokens: completion.cachedTokens ?? 0)
                }
            }
            record.cachedTokens = completion.cachedTokens
            record.cacheDiscount = completion.cacheDiscount
            do {
                let messages = try recipe.parseConversation(completion.content)
                let result = RowResult(
                    line: JSONLine.encode(messages), topic: sample.topic, persona: sample.persona, dynamic: sample.dynamic,
                    model: completion.model, generationID: completion.generationID, finishReason: completion.finishReason,
                    latencyMs: completion.latency.milliseconds(rounded: .towardZero))
                return .done(result, record)
            } catch {
                // The provider answered, promptly and well; the model's text just did not hold a
                // valid conversation. Waiting would not change the next sample, so the row is
                // retried at once (attempts are still bounded by `maxAttempts`).
                record.errorKind = "invalid_conversation"
                record.error = String(describing: error)
                return retryOrFail(record, waitMs: 0, rateLimit: false, maxAttempts: maxAttempts)
            }
        case .retry(let failure):
            describe(&record, failure)
            return retryOrFail(record, waitMs: nil, rateLimit: failure.isRateLimit, maxAttempts: maxAttempts)
        case .retryAfter(let wait, let failure):
            describe(&record, failure)
            let waitMs = wait.wholeMilliseconds
            record.retryAfterMs = waitMs
            return retryOrFail(record, waitMs: waitMs, rateLimit: failure.isRateLimit, maxAttempts: maxAttempts)
        case .failRow(let failure) where failure.kind == "truncated":
            // The answer hit max_tokens: like any other invalid answer, the next sample may fit,
            // so it gets the same immediate retries (bounded by `maxAttempts`).
            describe(&record, failure)
            return retryOrFail(record, waitMs: 0, rateLimit: false, maxAttempts: maxAttempts)
        case .failRow(let failure):
            describe(&record, failure)
            return .fail(record)
        case .abortRun(let failure):
            describe(&record, failure)
            return .abort(record, message: failure.message)
        }
    }

    private static func describe(_ record: inout AttemptRecord, _ failure: ProviderFailure) {
        record.errorKind = failure.kind
        record.httpStatus = failure.httpStatus
        record.error = failure.description
    }

    private static func retryOrFail(_ record: AttemptRecord, waitMs: Int64?, rateLimit: Bool, maxAttempts: Int) -> RowVerdict {
        guard record.attempt < maxAttempts else {
            var last = record
            last.error = "gave up after \(record.attempt) attempts; last: \(record.error ?? record.errorKind ?? "unknown")"
            return .fail(last)
        }
        return .retry(record, waitMs: waitMs, rateLimit: rateLimit)
    }
}
