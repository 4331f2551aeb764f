import Foundation
import Testing
@testable import Provider

/// One row of docs/provider-behaviour.md (and a few more), and the outcome it must give.
struct ClassifierCase: Sendable, CustomTestStringConvertible {
    var name: String
    var status: Int
    var headers: HTTPHeaders = [:]
    var body: String
    var decision: String
    var kind: String?
    var wait: Duration? = nil
    var isRateLimit: Bool? = nil

    var testDescription: String { name }
}

/// 2026-01-01T00:00:00Z, a Thursday.
let fixedNow = Date(timeIntervalSince1970: 1_767_225_600)

private func errorBody(_ code: Int, _ message: String, type: String? = nil) -> String {
    let metadata = type.map { ",\"metadata\":{\"error_type\":\"\($0)\"}" } ?? ""
    return "{\"error\":{\"code\":\(code),\"message\":\"\(message)\"\(metadata)}}"
}

private func completionBody(content: String?, finish: String = "stop", extraChoice: String = "") -> String {
    let contentJSON = content.map { "\"\($0)\"" } ?? "null"
    return """
    {"id":"gen-1","model":"m/answered","object":"chat.completion","choices":[{"finish_reason":"\(finish)",\
    "index":0,"message":{"role":"assistant","content":\(contentJSON)}\(extraChoice)}],\
    "usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"cost":0.0001}}
    """
}

let classifierTable: [ClassifierCase] = [
    // abort the run: every row would fail
    .init(name: "401 bad key aborts", status: 401, body: errorBody(401, "User not found."), decision: "abort_run", kind: "auth"),
    .init(name: "401 with a non-JSON body aborts", status: 401, body: "Unauthorized", decision: "abort_run", kind: "auth"),
    .init(name: "403 from key permissions aborts", status: 403, body: errorBody(403, "This API key is not allowed to use this model"), decision: "abort_run", kind: "forbidden"),
    .init(name: "400 model not found aborts", status: 400, body: errorBody(400, "foo/bar is not a valid model ID"), decision: "abort_run", kind: "model_not_found"),
    .init(name: "404 OpenAI model_not_found code aborts", status: 404, body: "{\"error\":{\"message\":\"The model `gpt-9` does not exist\",\"type\":\"invalid_request_error\",\"code\":\"model_not_found\"}}", decision: "abort_run", kind: "model_not_found"),
    .init(name: "404 no endpoints found aborts", status: 404, body: errorBody(404, "No endpoints found for foo/bar."), decision: "abort_run", kind: "model_not_found"),
    .init(name: "404 availability error marked not retryable aborts", status: 404, body: "{\"error\":{\"error_type\":\"model_unavailable\",\"http_status\":404,\"message\":\"gone\",\"availability\":{\"code\":\"deprecated\",\"retryable\":false}}}", decision: "abort_run", kind: "unavailable"),
    .init(name: "404 constraint_filtered aborts", status: 404, body: errorBody(404, "No endpoints support the parameters", type: "constraint_filtered"), decision: "abort_run", kind: "no_eligible_provider"),
    .init(name: "404 on an unknown path aborts", status: 404, body: "<html>Not Found</html>", decision: "abort_run", kind: "not_found"),
    .init(name: "402 without Retry-After aborts (out of credits)", status: 402, body: errorBody(402, "Insufficient credits"), decision: "abort_run", kind: "no_credits"),
    .init(name: "301 redirect aborts", status: 301, headers: ["Location": "https://example.com/v1"], body: "", decision: "abort_run", kind: "unexpected_redirect"),

    // wait as told, capped, slowing every worker
    .init(name: "402 with Retry-After waits", status: 402, headers: ["Retry-After": "30"], body: errorBody(402, "in-flight budget exceeded"), decision: "retry_after", kind: "payment_required", wait: .seconds(30), isRateLimit: true),
    .init(name: "429 with Retry-After seconds waits", status: 429, headers: ["Retry-After": "7"], body: errorBody(429, "Rate limit exceeded", type: "rate_limit_exceeded"), decision: "retry_after", kind: "rate_limited", wait: .seconds(7), isRateLimit: true),
    .init(name: "429 with Retry-After HTTP date waits until then", status: 429, headers: ["Retry-After": "Thu, 01 Jan 2026 00:00:20 GMT"], body: errorBody(429, "slow down"), decision: "retry_after", kind: "rate_limited", wait: .seconds(20), isRateLimit: true),
    .init(name: "429 with retry-after-ms waits", status: 429, headers: ["retry-after-ms": "1500"], body: errorBody(429, "slow down"), decision: "retry_after", kind: "rate_limited", wait: .milliseconds(1500), isRateLimit: true),
    .init(name: "429 with X-RateLimit-Reset in epoch ms waits", status: 429, headers: ["X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1767225612000"], body: errorBody(429, "Rate limit exceeded: free-models-per-min."), decision: "retry_after", kind: "rate_limited", wait: .seconds(12), isRateLimit: true),
    .init(name: "429 with OpenAI x-ratelimit-reset-requests waits (capped)", status: 429, headers: ["x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6m0s", "x-ratelimit-reset-tokens": "12ms"], body: "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}", decision: "retry_after", kind: "rate_limited", wait: .seconds(300), isRateLimit: true),
    .init(name: "429 with x-ratelimit-reset-tokens waits", status: 429, headers: ["x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1.5s"], body: errorBody(429, "tokens"), decision: "retry_after", kind: "rate_limited", wait: .milliseconds(1500), isRateLimit: true),
    .init(name: "Retry-After above the cap is capped", status: 429, headers: ["Retry-After": "3600"], body: errorBody(429, "slow down"), decision: "retry_after", kind: "rate_limited", wait: .seconds(300), isRateLimit: true),
    .init(name: "503 with Retry-After waits", status: 503, headers: ["Retry-After": "5"], body: errorBody(503, "No provider available"), decision: "retry_after", kind: "unavailable", wait: .seconds(5), isRateLimit: true),
    .init(name: "503 availability shape with retry_after in the body waits", status: 503, body: "{\"error\":{\"error_type\":\"provider_unavailable\",\"http_status\":503,\"message\":\"busy\",\"availability\":{\"code\":\"no_capacity\",\"retryable\":true,\"retry_after\":9}}}", decision: "retry_after", kind: "unavailable", wait: .seconds(9), isRateLimit: true),

    // the daily cap will not clear in minutes
    .init(name: "429 daily cap aborts", status: 429, body: errorBody(429, "Rate limit exceeded: free-models-per-day. Add 10 credits to unlock 1000 free model requests per day"), decision: "abort_run", kind: "daily_cap", isRateLimit: true),
    .init(name: "429 whose reset is hours away aborts", status: 429, headers: ["X-RateLimit-Reset": "1767243600000"], body: errorBody(429, "Rate limit exceeded"), decision: "abort_run", kind: "daily_cap", isRateLimit: true),

    // retry with backoff
    .init(name: "429 without a hint retries, slowing everyone", status: 429, body: errorBody(429, "Rate limit exceeded"), decision: "retry", kind: "rate_limited", isRateLimit: true),
    .init(name: "408 retries", status: 408, body: errorBody(408, "Request timed out"), decision: "retry", kind: "upstream_timeout", isRateLimit: false),
    .init(name: "409 retries", status: 409, body: errorBody(409, "conflict"), decision: "retry", kind: "conflict"),
    .init(name: "500 retries", status: 500, body: errorBody(500, "Internal Server Error"), decision: "retry", kind: "server_error", isRateLimit: false),
    .init(name: "502 with an HTML body retries", status: 502, body: "<html><head><title>502 Bad Gateway</title></head></html>", decision: "retry", kind: "server_error"),
    .init(name: "503 without a hint retries", status: 503, body: errorBody(503, "No provider available"), decision: "retry", kind: "unavailable", isRateLimit: false),
    .init(name: "503 availability shape, unknown code, retries", status: 503, body: "{\"error\":{\"error_type\":\"provider_unavailable\",\"http_status\":503,\"message\":\"busy\",\"availability\":{\"code\":\"something_new\"}}}", decision: "retry", kind: "unavailable"),
    .init(name: "404 availability error retryable retries", status: 404, body: "{\"error\":{\"error_type\":\"model_unavailable\",\"http_status\":404,\"message\":\"warming up\",\"availability\":{\"code\":\"cold\",\"retryable\":true}}}", decision: "retry", kind: "unavailable"),
    .init(name: "504 retries", status: 504, body: "", decision: "retry", kind: "upstream_timeout"),
    .init(name: "524 retries", status: 524, body: "<html>A timeout occurred</html>", decision: "retry", kind: "upstream_timeout"),
    .init(name: "500 with a plain-text body retries", status: 500, body: "upstream connect error or disconnect/reset before headers", decision: "retry", kind: "server_error"),
    .init(name: "400 with a non-JSON body retries", status: 400, body: "<html><body>Bad Request</body></html>", decision: "retry", kind: "non_json_body"),
    .init(name: "provider_overloaded type retries", status: 502, body: errorBody(502, "overloaded", type: "provider_overloaded"), decision: "retry", kind: "unavailable"),

    // errors inside HTTP 200
    .init(name: "200 with an error code 429 and choices null is a 429", status: 200, body: "{\"choices\":null,\"error\":{\"code\":429,\"message\":\"Rate limit exceeded\"}}", decision: "retry", kind: "rate_limited", isRateLimit: true),
    .init(name: "200 with an error code 502 and no choices retries", status: 200, body: "{\"id\":\"gen-2\",\"error\":{\"code\":502,\"message\":\"Provider returned error\"}}", decision: "retry", kind: "server_error"),
    .init(name: "200 with an error code 401 aborts", status: 200, body: "{\"choices\":null,\"error\":{\"code\":401,\"message\":\"bad key\"}}", decision: "abort_run", kind: "auth"),
    .init(name: "200 with an error and no code retries", status: 200, body: "{\"choices\":null,\"error\":{\"message\":\"Provider returned error\",\"metadata\":{\"error_type\":\"provider_error\"}}}", decision: "retry", kind: "error_in_200"),
    .init(name: "200 with an availability-shape error retries", status: 200, body: "{\"choices\":null,\"error\":{\"error_type\":\"provider_unavailable\",\"http_status\":503,\"message\":\"busy\",\"availability\":{\"code\":\"no_capacity\",\"retryable\":true}}}", decision: "retry", kind: "unavailable"),
    .init(name: "200 with choices null and no error retries", status: 200, body: "{\"id\":\"gen-3\",\"choices\":null}", decision: "retry", kind: "no_choices"),
    .init(name: "200 with an empty choices array retries", status: 200, body: "{\"id\":\"gen-3\",\"choices\":[]}", decision: "retry", kind: "no_choices"),
    .init(name: "200 with finish_reason error retries, discarding partial content", status: 200, body: completionBody(content: "{\\\"messages\\\": [", finish: "error"), decision: "retry", kind: "finish_error"),
    .init(name: "200 with choices[0].error retries", status: 200, body: completionBody(content: "", finish: "stop", extraChoice: ",\"error\":{\"code\":502,\"message\":\"upstream died\"}"), decision: "retry", kind: "finish_error"),
    .init(name: "200 with a body that is not JSON retries", status: 200, body: "<html>oops</html>", decision: "retry", kind: "non_json_body"),

    // content problems
    .init(name: "empty content with stop retries", status: 200, body: completionBody(content: ""), decision: "retry", kind: "empty_content"),
    .init(name: "whitespace-only content retries", status: 200, body: completionBody(content: "  \\n\\t "), decision: "retry", kind: "empty_content"),
    .init(name: "null content retries", status: 200, body: completionBody(content: nil), decision: "retry", kind: "empty_content"),
    .init(name: "finish_reason length fails the row", status: 200, body: completionBody(content: "{\\\"messages\\\": [{\\\"role\\\"", finish: "length"), decision: "fail_row", kind: "truncated"),
    .init(name: "finish_reason length with empty content (reasoning spent the budget) fails the row", status: 200, body: completionBody(content: "", finish: "length"), decision: "fail_row", kind: "truncated"),
    .init(name: "finish_reason content_filter fails the row", status: 200, body: completionBody(content: "", finish: "content_filter"), decision: "fail_row", kind: "content_filter"),
    .init(name: "a refusal fails the row", status: 200, body: "{\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"role\":\"assistant\",\"content\":null,\"refusal\":\"I can't help with that.\"}}]}", decision: "fail_row", kind: "refusal"),

    // fail the row
    .init(name: "403 moderation fails the row", status: 403, body: "{\"error\":{\"code\":403,\"message\":\"Your input was flagged\",\"metadata\":{\"reasons\":[\"violence\"],\"flagged_input\":\"...\"}}}", decision: "fail_row", kind: "content_filter"),
    .init(name: "content_policy_violation fails the row", status: 400, body: errorBody(400, "blocked", type: "content_policy_violation"), decision: "fail_row", kind: "content_filter"),
    .init(name: "refusal error type fails the row", status: 400, body: errorBody(400, "The model refused", type: "refusal"), decision: "fail_row", kind: "refusal"),
    .init(name: "400 context too long fails the row", status: 400, body: errorBody(400, "This endpoint's maximum context length is 8192 tokens"), decision: "fail_row", kind: "context_too_long"),
    .init(name: "context_length_exceeded (OpenAI code) fails the row", status: 400, body: "{\"error\":{\"message\":\"too long\",\"type\":\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}", decision: "fail_row", kind: "context_too_long"),
    .init(name: "400 invalid request fails the row", status: 400, body: errorBody(400, "temperature must be <= 2"), decision: "fail_row", kind: "invalid_request"),
    .init(name: "413 fails the row", status: 413, body: "<html>Request Entity Too Large</html>", decision: "fail_row", kind: "payload_too_large"),
    .init(name: "422 fails the row", status: 422, body: errorBody(422, "unprocessable"), decision: "fail_row", kind: "invalid_request"),
    .init(name: "an unexpected 4xx fails the row", status: 405, body: errorBody(405, "method not allowed"), decision: "fail_row", kind: "bad_status"),

    // success
    .init(name: "a normal completion succeeds", status: 200, body: completionBody(content: "{\\\"messages\\\":[]}"), decision: "success", kind: nil),
    .init(name: "a body after whitespace keep-alive bytes succeeds", status: 200, body: "\n\n   \n" + completionBody(content: "hello"), decision: "success", kind: nil),
    .init(name: "content wrapped in a Markdown fence is returned as is", status: 200, body: completionBody(content: "```json\\n{}\\n```"), decision: "success", kind: nil),
]

@Suite("Response classification")
struct ClassifierTests {
    @Test("each row of the provider-behaviour table gives its outcome", arguments: classifierTable)
    func row(_ row: ClassifierCase) {
        let outcome = ResponseClassifier.classify(status: row.status, headers: row.headers, body: Array(row.body.utf8), now: fixedNow)
        #expect(outcome.decision == row.decision, "\(outcome)")
        #expect(outcome.failure?.kind == row.kind, "\(outcome)")
        if let wait = row.wait, case .retryAfter(let actual, _) = outcome {
            #expect(actual == wait)
        }
        if let isRateLimit = row.isRateLimit {
            #expect(outcome.failure?.isRateLimit == isRateLimit, "\(outcome)")
        }
        if let failure = outcome.failure {
            #expect(failure.message.count <= 400, "messages stay short")
            #expect(!failure.message.contains("\n"))
            #expect(failure.httpStatus == row.status)
        }
    }

    @Test("a success carries content, usage, cost, model, generation id, finish reason and latency")
    func successFields() {
        let body = completionBody(content: "{\\\"messages\\\":[]}")
        let outcome = ResponseClassifier.classify(status: 200, headers: [:], body: Array(body.utf8), now: fixedNow, latency: .milliseconds(42))
        #expect(outcome == .success(ChatCompletion(
            content: "{\"messages\":[]}", promptTokens: 10, completionTokens: 5, cost: 0.0001,
            model: "m/answered", generationID: "gen-1", finishReason: "stop", latency: .milliseconds(42)
        )))
    }

    @Test("cached prompt tokens and the cache discount are read from usage (OpenRouter's shape), or the body's top level")
    func promptCacheUsage() {
        let inUsage = #"{"choices":[{"finish_reason":"stop","message":{"content":"hi"}}],"usage":{"prompt_tokens":10339,"completion_tokens":60,"prompt_tokens_details":{"cached_tokens":10318,"cache_write_tokens":0},"cost":0.001,"cache_discount":0.0093}}"#
        guard case .success(let a) = ResponseClassifier.classify(status: 200, headers: [:], body: Array(inUsage.utf8), now: fixedNow) else {
            Issue.record("not a success"); return
        }
        #expect(a.cachedTokens == 10318 && a.cacheDiscount == 0.0093)
        let topLevel = #"{"cache_discount":-0.002,"choices":[{"finish_reason":"stop","message":{"content":"hi"}}],"usage":{"prompt_tokens":10}}"#
        guard case .success(let b) = ResponseClassifier.classify(status: 200, headers: [:], body: Array(topLevel.utf8), now: fixedNow) else {
            Issue.record("not a success"); return
        }
        #expect(b.cachedTokens == nil && b.cacheDiscount == -0.002)
    }

    @Test("the generation id falls back to the X-Generation-Id header")
    func generationIDHeader() {
        let body = "{\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"content\":\"hi\"}}]}"
        let outcome = ResponseClassifier.classify(status: 200, headers: ["X-Generation-Id": "gen-h"], body: Array(body.utf8), now: fixedNow)
        guard case .success(let completion) = outcome else { Issue.record("\(outcome)"); return }
        #expect(completion.generationID == "gen-h")
        #expect(completion.promptTokens == nil)
    }

    @Test("a long provider message is cut to about 200 characters")
    func longMessage() {
        let long = String(repeating: "x", count: 5000)
        let outcome = ResponseClassifier.classify(status: 500, headers: [:], body: Array(errorBody(500, long).utf8), now: fixedNow)
        #expect((outcome.failure?.message.count ?? 0) < 300)
    }

    @Test("the 401 message names the configured variable")
    func authMessage() {
        let classifier = ResponseClassifier(apiKeyEnvName: "MY_KEY")
        let outcome = classifier.classify(status: 401, headers: [:], body: [], now: fixedNow)
        #expect(outcome.failure?.message.contains("MY_KEY") == true)
    }

    @Test("the wait cap is configurable")
    func cap() {
        let classifier = ResponseClassifier(maxWait: .seconds(10))
        let outcome = classifier.classify(status: 429, headers: ["Retry-After": "60"], body: [], now: fixedNow)
        #expect(outcome == .retryAfter(.seconds(10), outcome.failure!))
    }
}

struct TransportCase: Sendable, CustomTestStringConvertible {
    var kind: TransportError.Kind
    var decision: String
    var failureKind: String
    var testDescription: String { "transport \(kind) -> \(decision) \(failureKind)" }
}

@Suite("Transport failure classification")
struct TransportClassificationTests {
    @Test("each transport failure gives one outcome", arguments: [
        TransportCase(kind: .timeout, decision: "retry", failureKind: "timeout"),
        TransportCase(kind: .reset, decision: "retry", failureKind: "connection_reset"),
        TransportCase(kind: .connect, decision: "retry", failureKind: "connect_failed"),
        TransportCase(kind: .cancelled, decision: "retry", failureKind: "cancelled"),
        TransportCase(kind: .shutdown, decision: "retry", failureKind: "transport_shutdown"),
        TransportCase(kind: .other, decision: "retry", failureKind: "transport_error"),
        TransportCase(kind: .invalidRequest, decision: "abort_run", failureKind: "bad_url"),
    ])
    func transport(_ row: TransportCase) {
        let outcome = ResponseClassifier.classify(TransportError(row.kind, "details"))
        #expect(outcome.decision == row.decision)
        #expect(outcome.failure?.kind == row.failureKind)
        #expect(outcome.failure?.httpStatus == nil)
    }
}
