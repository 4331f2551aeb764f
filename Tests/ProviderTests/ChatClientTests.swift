import Foundation
import Testing
import TestSupport
@testable import Provider

@Suite("Chat client")
struct ChatClientTests {
    let secret = "sk-or-v1-SECRET-0123456789"

    @Test("posts to <base-url>/chat/completions with the key, content type and attribution headers")
    func request() async throws {
        let transport = ScriptedTransport([.success(HTTPResponse(status: 500, body: []))])
        let config = ProviderConfig(
            baseURL: "https://example.test/api/v1/", apiKey: APIKey(secret),
            headers: [("HTTP-Referer", "https://github.com/x/batch"), ("X-Title", "batch")],
            connectTimeout: .seconds(3), requestDeadline: .seconds(42)
        )
        _ = await ChatClient(transport: transport, config: config).complete(body: Array("{}".utf8))
        let sent = try #require(transport.sent.first)
        #expect(sent.url == "https://example.test/api/v1/chat/completions")
        #expect(sent.method == .post)
        #expect(sent.body == Array("{}".utf8))
        #expect(sent.deadline == .seconds(42))
        #expect(sent.connectTimeout == .seconds(3))
        let headers = HTTPHeaders(sent.headers)
        #expect(headers["authorization"] == "Bearer \(secret)")
        #expect(headers["content-type"] == "application/json")
        #expect(headers["http-referer"] == "https://github.com/x/batch")
        #expect(headers["x-title"] == "batch")
    }

    @Test("no Authorization header without a key")
    func noKey() async throws {
        let transport = ScriptedTransport([.success(HTTPResponse(status: 500))])
        _ = await ChatClient(transport: transport, config: ProviderConfig(baseURL: "http://127.0.0.1:1/v1")).complete(body: [])
        let sent = try #require(transport.sent.first)
        #expect(HTTPHeaders(sent.headers)["authorization"] == nil)
        #expect(sent.url == "http://127.0.0.1:1/v1/chat/completions")
    }

    @Test("the key never reaches an outcome, even when the provider echoes it")
    func keyNeverEchoed() async {
        let echo = "{\"error\":{\"code\":401,\"message\":\"Invalid key \(secret) for this account\"}}"
        let echo200 = "{\"choices\":null,\"error\":{\"message\":\"\(String(repeating: "x", count: 190)) \(secret)\"}}"
        let transport = ScriptedTransport([
            .success(HTTPResponse(status: 401, body: Array(echo.utf8))),
            .success(HTTPResponse(status: 200, body: Array(echo200.utf8))),
            .success(HTTPResponse(status: 400, body: Array("Bearer \(secret)".utf8))),
            .failure(TransportError(.other, "failed")),
        ])
        let client = ChatClient(transport: transport, config: ProviderConfig(apiKey: APIKey(secret)))
        for _ in 0..<4 {
            let outcome = await client.complete(body: [])
            let failure = outcome.failure
            #expect(failure != nil)
            #expect(!"\(outcome)".contains(secret))
            #expect(!(failure?.message.contains("SECRET") ?? true))
        }
    }

    @Test("a transport failure becomes a retry, with no status")
    func transportFailure() async {
        let transport = ScriptedTransport([.failure(TransportError(.timeout, "no complete response within the 1 second deadline"))])
        let outcome = await ChatClient(transport: transport, config: ProviderConfig()).complete(body: [])
        #expect(outcome.decision == "retry")
        #expect(outcome.failure?.kind == "timeout")
    }

    @Test("success latency is measured")
    func latency() async {
        let body = "{\"id\":\"gen-9\",\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"content\":\"ok\"}}]}"
        let transport = ScriptedTransport([.success(HTTPResponse(status: 200, body: Array(body.utf8)))])
        let outcome = await ChatClient(transport: transport, config: ProviderConfig()).complete(body: [])
        guard case .success(let completion) = outcome else { Issue.record("\(outcome)"); return }
        #expect(completion.latency >= .zero)
        #expect(completion.generationID == "gen-9")
    }
}
