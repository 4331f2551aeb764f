import Foundation
import Wire

/// Turns every provider response, or transport failure, into exactly one ``ProviderOutcome``.
///
/// Pure: no I/O and no clock (the caller passes `now`, used for HTTP-date `Retry-After` and
/// epoch `X-RateLimit-Reset`), so every row of the table is tested without a server.
///
/// | condition | outcome (failure kind) |
/// |---|---|
/// | 401, or an `authentication` error type | abort (`auth`) |
/// | 402 with a retry hint | wait, slow every worker (`payment_required`) |
/// | 402 without one | abort (`no_credits`) |
/// | 403 naming the key or permissions | abort (`forbidden`) |
/// | 403 otherwise (moderation), `content_policy_violation`, `moderation` | fail row (`content_filter`) |
/// | 400/404 naming an unknown model, `model_not_found` | abort (`model_not_found`) |
/// | 404 availability error not retryable, any `retryable: false` | abort (`unavailable`) |
/// | 404 availability error retryable or unknown | retry or wait (`unavailable`) |
/// | 404 otherwise, `constraint_filtered` | abort (`not_found`, `no_eligible_provider`) |
/// | 429 daily cap (per-day message, or a reset more than an hour away) | abort (`daily_cap`) |
/// | 429 with a retry hint | wait, slow every worker (`rate_limited`) |
/// | 429 without one | retry, slow every worker (`rate_limited`) |
/// | 503 with a retry hint | wait, slow every worker (`unavailable`) |
/// | 503 without one, `provider_overloaded` / `provider_unavailable` | retry (`unavailable`) |
/// | 408, 504, 524, `timeout` | retry (`upstream_timeout`) |
/// | 409, 425, 500, 502, other 5xx (HTML bodies included) | retry, or wait if hinted (`server_error`, `conflict`) |
/// | 400 context too long, `context_length_exceeded` | fail row (`context_too_long`) |
/// | 400, 422 otherwise | fail row (`invalid_request`) |
/// | 413 | fail row (`payload_too_large`) |
/// | 400, 422 or other 4xx with a non-JSON body | retry (`non_json_body`) |
/// | other 4xx | fail row (`bad_status`) |
/// | 3xx | abort (`unexpected_redirect`) |
/// | 1xx, other statuses | retry (`bad_status`) |
/// | 200 with a non-JSON body | retry (`non_json_body`) |
/// | 200 with an `error` object and `choices` null/missing, with a code | as that code's row |
/// | 200 with an `error` object, no code | retry (`error_in_200`) |
/// | 200 with `choices` null/missing/empty and no error | retry (`no_choices`) |
/// | 200 with `finish_reason: "error"` or `choices[0].error` | retry, partial content discarded (`finish_error`) |
/// | 200 with `finish_reason: "length"` | fail row (`truncated`) |
/// | 200 with `finish_reason: "content_filter"` | fail row (`content_filter`) |
/// | 200 with empty content and a `refusal` | fail row (`refusal`) |
/// | 200 with empty or whitespace-only content | retry (`empty_content`) |
/// | 200 otherwise | success |
/// | transport: connect failed, reset, deadline, cancelled, other | retry (`connect_failed`, `connection_reset`, `timeout`, `cancelled`, `transport_error`) |
/// | transport: invalid URL | abort (`bad_url`) |
/// | transport: certificate refused, CA file unreadable | abort (`tls_certificate`) |
/// | transport: proxy unreachable before anything came through it | abort (`proxy`) |
///
/// Waits are capped at `maxWait`. Whether content is a valid conversation is not checked here.
public struct ResponseClassifier: Sendable {
    /// The environment variable that holds the key, named in the 401 message.
    public var apiKeyEnvName: String
    /// The longest wait a retry hint can ask for.
    public var maxWait: Duration

    public init(apiKeyEnvName: String = APIKeyResolver.defaultEnvName, maxWait: Duration = ProviderConfig.defaultMaxRetryAfter) {
        self.apiKeyEnvName = apiKeyEnvName
        self.maxWait = maxWait
    }

    /// Classifies a response with the default options.
    public static func classify(
        status: Int, headers: HTTPHeaders, body: [UInt8], now: Date, latency: Duration = .zero
    ) -> ProviderOutcome {
        ResponseClassifier().classify(status: status, headers: headers, body: body, now: now, latency: latency)
    }

    /// Classifies a transport failure with the default options.
    public static func classify(_ error: TransportError) -> ProviderOutcome {
        ResponseClassifier().classify(error)
    }

    public func classify(
        status: Int, headers: HTTPHeaders, body: [UInt8], now: Date, latency: Duration = .zero
    ) -> ProviderOutcome {
        let json = JSONParser.parseBody(body)
        if (200..<300).contains(status) {
            return classifySuccessStatus(status: status, headers: headers, json: json, now: now, latency: latency)
        }
        let error = json.flatMap { ProviderError(json: $0) }
        return classifyError(status: status, error: error, isJSON: json != nil, headers: headers, now: now, in200: false)
    }

    public func classify(_ error: TransportError) -> ProviderOutcome {
        let message = error.message.shortened()
        switch error.kind {
        case .timeout: return .retry(ProviderFailure(kind: "timeout", message: message))
        case .reset: return .retry(ProviderFailure(kind: "connection_reset", message: message))
        case .connect: return .retry(ProviderFailure(kind: "connect_failed", message: message))
        case .cancelled: return .retry(ProviderFailure(kind: "cancelled", message: message))
        case .shutdown: return .retry(ProviderFailure(kind: "transport_shutdown", message: message))
        case .invalidRequest:
            return .abortRun(ProviderFailure(kind: "bad_url", message: "\(message): check --base-url"))
        case .tls:
            return .abortRun(ProviderFailure(kind: "tls_certificate", message: "\(message); if the server uses a private or corporate CA, pass it with --ca-cert FILE (or SSL_CERT_FILE)"))
        case .proxy:
            return .abortRun(ProviderFailure(kind: "proxy", message: "\(message); check HTTPS_PROXY / NO_PROXY"))
        default: return .retry(ProviderFailure(kind: "transport_error", message: message))
        }
    }

    // MARK: 2xx

    private func classifySuccessStatus(
        status: Int, headers: HTTPHeaders, json: JSONValue?, now: Date, latency: Duration
    ) -> ProviderOutcome {
        guard let json else {
            return .retry(failure("non_json_body", status, "HTTP \(status) with a body that is not JSON"))
        }
        let choices = json["choices"]?.arrayValue ?? []
        if choices.isEmpty {
            if let error = ProviderError(json: json), json["error"].map({ !$0.isNull }) ?? false {
                if let code = error.code, code != status, !(200..<300).contains(code) {
                    return classifyError(status: code, error: error, isJSON: true, headers: headers, now: now, in200: true)
                }
                if let decided = classifyByType(error, status: status, headers: headers, now: now, in200: true) {
                    return decided
                }
                return .retry(failure("error_in_200", status, "error inside an HTTP 200 body\(quoted(error.message))"))
            }
            return .retry(failure("no_choices", status, "HTTP 200 without choices and without an error"))
        }
        let choice = choices[0]
        let finishReason = choice["finish_reason"]?.stringValue
        if finishReason == "error" || (choice["error"].map { !$0.isNull } ?? false) {
            let detail = choice["error"].flatMap { ProviderError(json: .object([("error", $0)])) }?.message
            return .retry(failure("finish_error", status, "the provider ended the generation with an error\(quoted(detail))"))
        }
        if finishReason == "length" {
            return .failRow(failure("truncated", status, "the output hit max_tokens (finish_reason length); raise max_tokens"))
        }
        if finishReason == "content_filter" {
            return .failRow(failure("content_filter", status, "the provider's content filter stopped the output"))
        }
        let message = choice["message"]
        let content = messageContent(message?["content"])
        if content?.allSatisfy(\.isWhitespace) ?? true {
            if let refusal = message?["refusal"]?.stringValue, !refusal.allSatisfy(\.isWhitespace) {
                return .failRow(failure("refusal", status, "the model refused\(quoted(refusal))"))
            }
            return .retry(failure("empty_content", status, "empty content (finish_reason \(finishReason ?? "missing"))"))
        }
        let usage = json["usage"]
        return .success(ChatCompletion(
            content: content ?? "",
            promptTokens: usage?["prompt_tokens"]?.intValue,
            completionTokens: usage?["completion_tokens"]?.intValue,
            cost: usage?["cost"]?.numberValue,
            cachedTokens: usage?["prompt_tokens_details"]?["cached_tokens"]?.intValue,
            cacheDiscount: usage?["cache_discount"]?.numberValue ?? json["cache_discount"]?.numberValue,
            model: json["model"]?.stringValue,
            generationID: json["id"]?.stringValue ?? headers["x-generation-id"],
            finishReason: finishReason,
            latency: latency
        ))
    }

    /// `content` as a string, or the text parts of a multi-part content array joined.
    private func messageContent(_ value: JSONValue?) -> String? {
        if let text = value?.stringValue { return text }
        guard let parts = value?.arrayValue else { return nil }
        let texts = parts.compactMap { $0["text"]?.stringValue ?? $0.stringValue }
        return texts.isEmpty ? nil : texts.joined()
    }

    // MARK: errors

    private func classifyError(
        status: Int, error: ProviderError?, isJSON: Bool, headers: HTTPHeaders, now: Date, in200: Bool
    ) -> ProviderOutcome {
        let reported = in200 ? 200 : status
        let said = quoted(error?.message)
        let where200 = in200 ? " (inside an HTTP 200 body)" : ""
        if let error, let decided = classifyByType(error, status: reported, headers: headers, now: now, in200: in200) {
            return decided
        }
        if let error, error.retryable == false {
            return .abortRun(failure("unavailable", reported, "the provider says the model is unavailable and retrying will not help\(where200)\(said): choose another model or provider settings"))
        }
        let text = error?.searchText ?? ""
        let hint = waitHint(headers: headers, error: error, now: now)

        switch status {
        case 401:
            return authFailure(reported, said)
        case 402:
            return paymentRequired(reported, hint: hint, said: said)
        case 403:
            if text.containsAny(["moderation", "flagged", "policy", "safety"]) {
                return .failRow(failure("content_filter", reported, "the input was flagged by moderation\(where200)\(said)"))
            }
            if text.containsAny(["key", "permission", "not allowed", "authentication", "unauthorized", "forbidden"]) {
                return .abortRun(failure("forbidden", reported, "the API key is not allowed to make this request\(where200)\(said): check the key's permissions and limits"))
            }
            return .failRow(failure("content_filter", reported, "the request was refused (HTTP 403, usually moderation)\(where200)\(said)"))
        case 404:
            if let error, error.isAvailability {
                return waitOrRetry(hint, failure("unavailable", reported, "no provider is available for the model right now\(where200)\(said)"))
            }
            if isModelNotFound(text) {
                return modelNotFound(reported, said)
            }
            return .abortRun(failure("not_found", reported, "the endpoint or model was not found (HTTP 404)\(where200)\(said): check --base-url and the recipe's model"))
        case 400 where isJSON, 422 where isJSON:
            if isModelNotFound(text) { return modelNotFound(reported, said) }
            if isContextTooLong(text) {
                return .failRow(failure("context_too_long", reported, "the prompt is longer than the model's context\(where200)\(said)"))
            }
            return .failRow(failure("invalid_request", reported, "the provider rejected the request as invalid (HTTP \(status))\(where200)\(said)"))
        case 413:
            return .failRow(failure("payload_too_large", reported, "the request is too large for the provider (HTTP 413)\(where200)"))
        case 429:
            return rateLimited(reported, headers: headers, hint: hint, text: text, said: said, now: now)
        case 503:
            if let hint {
                return .retryAfter(capped(hint), failure("unavailable", reported, "the provider is unavailable (HTTP 503) and asked to wait\(where200)\(said)", isRateLimit: true))
            }
            return .retry(failure("unavailable", reported, "the provider is unavailable (HTTP 503)\(where200)\(said)"))
        case 408, 504, 524:
            return waitOrRetry(hint, failure("upstream_timeout", reported, "the provider timed out (HTTP \(status))\(where200)\(said)"))
        case 409:
            return waitOrRetry(hint, failure("conflict", reported, "the provider reported a conflict (HTTP 409)\(where200)\(said)"))
        case 425, 500..<600:
            let shape = isJSON ? "" : " with a non-JSON body"
            return waitOrRetry(hint, failure("server_error", reported, "server error (HTTP \(status))\(shape)\(where200)\(said)"))
        case 400..<500 where !isJSON:
            return .retry(failure("non_json_body", reported, "HTTP \(status) with a body that is not JSON (a proxy page?)"))
        case 400..<500:
            return .failRow(failure("bad_status", reported, "unexpected HTTP \(status)\(where200)\(said)"))
        case 300..<400:
            let location = headers["location"].map { " to \($0.shortened(to: 120))" } ?? ""
            return .abortRun(failure("unexpected_redirect", reported, "the server redirected (HTTP \(status))\(location): check --base-url"))
        default:
            return .retry(failure("bad_status", reported, "unexpected HTTP \(status)\(where200)\(said)"))
        }
    }

    /// Error types that decide the outcome whatever the status.
    private func classifyByType(_ error: ProviderError, status: Int, headers: HTTPHeaders, now: Date, in200: Bool) -> ProviderOutcome? {
        guard let type = error.type else { return nil }
        let said = quoted(error.message)
        let hint = waitHint(headers: headers, error: error, now: now)
        switch type {
        case "authentication", "invalid_api_key", "unauthorized":
            return authFailure(status, said)
        case "payment_required", "insufficient_quota", "insufficient_credits":
            return paymentRequired(status, hint: hint, said: said)
        case "rate_limit_exceeded", "rate_limited", "rate_limit_error":
            return rateLimited(status, headers: headers, hint: hint, text: error.searchText, said: said, now: now)
        case "context_length_exceeded":
            return .failRow(failure("context_too_long", status, "the prompt is longer than the model's context\(said)"))
        case "content_policy_violation", "moderation", "content_filter", "flagged":
            return .failRow(failure("content_filter", status, "the provider's moderation refused the request\(said)"))
        case "refusal":
            return .failRow(failure("refusal", status, "the model refused\(said)"))
        case "model_not_found":
            return modelNotFound(status, said)
        case "constraint_filtered":
            return .abortRun(failure("no_eligible_provider", status, "no provider supports every requested parameter\(said): relax provider.require_parameters or the request options"))
        case "provider_overloaded", "provider_unavailable", "overloaded", "overloaded_error", "service_unavailable":
            if error.retryable == false { return nil }
            return waitOrRetry(hint, failure("unavailable", status, "the provider is overloaded or unavailable\(said)"), rateLimitWhenHinted: true)
        case "timeout":
            return waitOrRetry(hint, failure("upstream_timeout", status, "the provider timed out\(said)"))
        default:
            return nil
        }
    }

    // MARK: rows shared by status and type

    private func authFailure(_ status: Int, _ said: String) -> ProviderOutcome {
        .abortRun(failure("auth", status, "the API key was rejected\(said): check \(apiKeyEnvName) (or the .env file)"))
    }

    private func paymentRequired(_ status: Int, hint: Duration?, said: String) -> ProviderOutcome {
        if let hint {
            return .retryAfter(capped(hint), failure("payment_required", status, "the provider asked to wait for budget (HTTP 402)\(said)", isRateLimit: true))
        }
        return .abortRun(failure("no_credits", status, "out of credits\(said): add credits to the account (OpenRouter: https://openrouter.ai/settings/credits), then resume"))
    }

    private func rateLimited(_ status: Int, headers: HTTPHeaders, hint: Duration?, text: String, said: String, now: Date) -> ProviderOutcome {
        if text.containsAny(["per-day", "per day", "daily", "/day", "perday"]) {
            return .abortRun(failure("daily_cap", status, "the daily request cap is reached and will not clear for hours\(said): resume tomorrow, add credits, or use a paid model", isRateLimit: true))
        }
        if let reset = headers["x-ratelimit-reset"].flatMap(RetryHint.rateLimitResetDate), reset.timeIntervalSince(now) > 3600 {
            return .abortRun(failure("daily_cap", status, "rate limited until \(reset) (more than an hour away)\(said): resume later, add credits, or use a paid model", isRateLimit: true))
        }
        if let hint {
            return .retryAfter(capped(hint), failure("rate_limited", status, "rate limited; the provider asked to wait\(said)", isRateLimit: true))
        }
        return .retry(failure("rate_limited", status, "rate limited\(said)", isRateLimit: true))
    }

    private func modelNotFound(_ status: Int, _ said: String) -> ProviderOutcome {
        .abortRun(failure("model_not_found", status, "the model was not found\(said): check the model name in the recipe"))
    }

    private func waitOrRetry(_ hint: Duration?, _ failure: ProviderFailure, rateLimitWhenHinted: Bool = false) -> ProviderOutcome {
        guard let hint else { return .retry(failure) }
        var failure = failure
        if rateLimitWhenHinted { failure.isRateLimit = true }
        return .retryAfter(capped(hint), failure)
    }

    // MARK: helpers

    private func waitHint(headers: HTTPHeaders, error: ProviderError?, now: Date) -> Duration? {
        if let wait = RetryHint.wait(headers: headers, now: now) { return wait }
        if let seconds = error?.retryAfterSeconds, seconds.isFinite, seconds >= 0 { return RetryHint.seconds(seconds) }
        return nil
    }

    private func capped(_ wait: Duration) -> Duration { min(max(wait, .zero), maxWait) }

    private func isModelNotFound(_ text: String) -> Bool {
        text.containsAny(["not a valid model", "model not found", "model_not_found", "no endpoints found", "unknown model", "invalid model"])
            || (text.contains("model") && text.containsAny(["does not exist", "not found", "not available"]))
    }

    private func isContextTooLong(_ text: String) -> Bool {
        text.containsAny(["context length", "context_length", "maximum context", "context window", "too many tokens", "prompt is too long"])
    }

    private func quoted(_ message: String?) -> String {
        guard let message, !message.allSatisfy(\.isWhitespace) else { return "" }
        return " (provider said: \(message.shortened()))"
    }

    private func failure(_ kind: String, _ status: Int, _ message: String, isRateLimit: Bool = false) -> ProviderFailure {
        ProviderFailure(kind: kind, httpStatus: status, message: message, isRateLimit: isRateLimit)
    }
}

extension String {
    fileprivate func containsAny(_ needles: [String]) -> Bool {
        needles.contains { contains($0) }
    }
}
