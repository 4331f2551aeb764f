import Foundation
import Testing
@testable import Simulator
import Recipe

@Suite("Simulator pieces")
struct SimulatorUnitTests {
    @Test("generated conversations alternate user/assistant, carry the marker and are ASCII JSON", arguments: [2, 4, 6])
    func conversation(_ count: Int) throws {
        let plan = SimulatorState.Plan(fault: .ok, delay: .zero, messageCount: count, variant: 123_456_789)
        let sha = String(repeating: "ab", count: 32)
        let content = ResponseBuilder.conversation(plan: plan, generationID: "gen-sim-7", promptSHA256: sha)
        let ascii = content.allSatisfy { $0.isASCII }
        #expect(ascii)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any])
        let messages = try #require(object["messages"] as? [[String: String]])
        #expect(messages.count == count)
        for (index, message) in messages.enumerated() {
            #expect(message["role"] == (index % 2 == 0 ? "user" : "assistant"))
            #expect(!(message["content"] ?? "").isEmpty)
        }
        #expect(messages[1]["content"]?.hasPrefix("[sim gen-sim-7 prompt:\(sha.prefix(16))]") == true)
    }

    @Test("the request summary hashes the last user message")
    func summary() throws {
        let body = "{\"model\":\"m/x\",\"messages\":[{\"role\":\"user\",\"content\":\"first\"},{\"role\":\"assistant\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"abc\"}]}"
        let summary = try #require(ChatRequestSummary(json: Data(body.utf8)))
        #expect(summary.model == "m/x")
        #expect(summary.promptSHA256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(summary.promptBytes == 9)
        #expect(ChatRequestSummary(json: Data("not json".utf8)) == nil)
    }

    @Test("the request summary reads content parts and nulls, and refuses fields of another type", arguments: [
        (#"{"messages":[{"role":"user","content":[{"type":"text","text":"ab"},{"type":"text","text":"c","cache_control":{"type":"ephemeral"}},{"type":"image"}]}]}"#, "abc", 3),
        (#"{"model":null,"messages":[{"role":"system","content":null},{"role":null,"content":"s"},{"role":"user","content":"x"}]}"#, "x", 2),
        (#"{"messages":[{"content":"no role"}]}"#, "", 7),
        (#"{"model":5,"messages":[]}"#, nil, 0),
        (#"{"messages":[{"role":"user","content":5}]}"#, nil, 0),
        (#"{"messages":[{"role":"user","content":[{"text":5}]}]}"#, nil, 0),
        (#"{"messages":[{"role":1,"content":"x"}]}"#, nil, 0),
        (#"{"messages":[1]}"#, nil, 0),
        (#"{"model":"m"}"#, nil, 0),
        (#"[{"messages":[]}]"#, nil, 0),
    ] as [(String, String?, Int)])
    func summaryShapes(_ body: String, _ prompt: String?, _ promptBytes: Int) {
        let summary = ChatRequestSummary(json: Data(body.utf8))
        #expect(summary?.prompt == prompt)
        if prompt != nil {
            #expect(summary?.model == "simulator/default")
            #expect(summary?.promptBytes == promptBytes)
        }
    }

    @Test("invalid configs are refused with a message saying what is allowed", arguments: [
        SimulatorConfig(rate500: 1.5),
        SimulatorConfig(rate429: 0.6, rate500: 0.6),
        SimulatorConfig(port: 70000),
        SimulatorConfig(threads: 0),
        SimulatorConfig(requestsPerMinute: 0),
        SimulatorConfig(latency: .lognormal(median: .milliseconds(10), sigma: -1)),
    ])
    func invalid(_ config: SimulatorConfig) {
        #expect(throws: SimulatorError.self) { try config.validate() }
    }

    @Test("fault draws follow the configured rates")
    func rates() throws {
        let state = try SimulatorState(config: SimulatorConfig(rate500: 0.3, rateTruncated: 0.1, seed: 11))
        var counts: [SimulatorFault: Int] = [:]
        for _ in 0..<2000 {
            guard case .plan(let plan) = state.admit(now: 0) else { Issue.record("unexpected rate limit"); return }
            counts[plan.fault, default: 0] += 1
        }
        #expect((500...700).contains(counts[.status500] ?? 0))
        #expect((140...260).contains(counts[.truncated] ?? 0))
        #expect((1100...1500).contains(counts[.ok] ?? 0))
    }

    @Test("lognormal latency spreads around its median; fixed latency does not")
    func latency() throws {
        let lognormal = try SimulatorState(config: SimulatorConfig(latency: .lognormal(median: .milliseconds(100), sigma: 0.5), seed: 5))
        var delays: [Duration] = []
        for _ in 0..<1001 {
            if case .plan(let plan) = lognormal.admit(now: 0) { delays.append(plan.delay) }
        }
        delays.sort()
        #expect(delays[500] > .milliseconds(85) && delays[500] < .milliseconds(115))
        #expect(delays[0] < .milliseconds(60) && delays[1000] > .milliseconds(180))

        let fixed = try SimulatorState(config: SimulatorConfig(latency: .fixed(.milliseconds(40))))
        for _ in 0..<10 {
            guard case .plan(let plan) = fixed.admit(now: 0) else { return }
            #expect(plan.delay == .milliseconds(40))
        }
    }

    @Test("the requests-per-minute window admits the limit, then asks to wait until the oldest request is a minute old")
    func window() throws {
        let state = try SimulatorState(config: SimulatorConfig(requestsPerMinute: 3))
        let second: UInt64 = 1_000_000_000
        for t in [0, 10, 20] {
            guard case .plan = state.admit(now: UInt64(t) * second) else { Issue.record("refused at \(t)"); return }
        }
        guard case .rateLimited(let wait) = state.admit(now: 30 * second) else { Issue.record("admitted"); return }
        #expect(wait == 30)
        guard case .plan = state.admit(now: 60 * second) else { Issue.record("refused after a minute"); return }
        #expect(state.snapshot()["rpm_429"] == 1)
    }
}
