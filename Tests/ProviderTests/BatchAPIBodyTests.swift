import Foundation
import Testing
@testable import Provider
import TestSupport
import Wire

/// The batch API's JSON through Wire: the create body's bytes, and result lines read back.
@Suite("Batch API bodies")
struct BatchAPIBodyTests {
    @Test("OpenAI's create body is compact JSON with its keys and the metadata's sorted, byte for byte")
    func openAICreateBody() async throws {
        let transport = ScriptedTransport([
            .success(HTTPResponse(status: 200, body: Array(#"{"id":"file-1"}"#.utf8))),
            .success(HTTPResponse(status: 200, body: Array(#"{"id":"batch_1","status":"validating"}"#.utf8))),
        ])
        let api = BatchAPIClient(transport: transport, config: ProviderConfig(baseURL: "https://api.openai.com/v1"))
        let batch = try await api.create(
            [BatchRequestLine(customID: "run-é.0", body: Array("{}".utf8))], model: "m", idempotencyKey: "k1",
            metadata: ["z": "last", "batch_run": "run-7", "note": "café \"q\"\n"])
        #expect(batch.id == "batch_1")
        try #require(transport.sent.count == 2)
        let upload = String(decoding: transport.sent[0].body, as: UTF8.self)
        #expect(upload.contains(#"{"custom_id":"run-é.0","method":"POST","url":"/v1/chat/completions","body":{}}"#))
        let expected = #"{"completion_window":"24h","endpoint":"/v1/chat/completions","input_file_id":"file-1","metadata":{"batch_run":"run-7","note":"café \"q\"\n","z":"last"}}"#
        #expect(transport.sent[1].body == Array(expected.utf8))
    }

    @Test("a result line's body is classified as the online answer would be")
    func resultLine() throws {
        let api = BatchAPIClient(transport: ScriptedTransport([]), config: ProviderConfig(baseURL: "https://api.openai.com/v1"))
        let text = #"{"custom_id":"r.1","response":{"status_code":200,"body":{"choices":[{"finish_reason":"stop","message":{"content":"caf\u00e9 \ud83d\ude00 \"x\""}}],"usage":{"prompt_tokens":10,"completion_tokens":2.0,"cost":1}}}}"#
        let line = try #require(JSONParser.parseBody(Array(text.utf8)))
        let result = try #require(api.result(line))
        #expect(result.customID == "r.1")
        guard case .success(let completion) = result.outcome else {
            Issue.record("not a success: \(result.outcome)")
            return
        }
        #expect(completion.content == "café 😀 \"x\"")
        #expect(completion.promptTokens == 10)
        #expect(completion.completionTokens == 2)
        #expect(completion.cost == 1)
    }
}
