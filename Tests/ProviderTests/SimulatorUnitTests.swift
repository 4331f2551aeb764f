import Foundation
import Testing
@testable import Simulator

@Suite("SHA-256")
struct SHA256Tests {
    @Test("known vectors", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("The quick brown fox jumps over the lazy dog", "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"),
    ])
    func vector(_ input: String, _ hex: String) {
        #expect(SHA256.hex(Array(input.utf8)) == hex)
    }

    @Test("one million 'a'")
    func million() {
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("feeding in pieces gives the same digest as one call")
    func incremental() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for split in [0, 1, 63, 64, 65, 500, 999] {
            var hasher = SHA256()
            hasher.update(bytes[..<split])
            hasher.update(bytes[split...])
            #expect(hasher.finalize() == SHA256.hash(bytes))
        }
    }
}

@Suite("Simulator pieces")
struct SimulatorUnitTests {
    @Test("the seeded generator repeats for a seed and differs across seeds")
    func generator() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        #expect(first != (0..<5).map { _ in c.next() })
        for _ in 0..<1000 { let u = a.unit(); #expect(u >= 0 && u < 1) }
    }

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

    @Test("JSON strings escape quotes, backslashes and control characters")
    func escaping() throws {
        let text = "a\"b\\c\nd\u{01}é"
        let literal = ResponseBuilder.jsonString(text)
        let decoded = try JSONDecoder().decode(String.self, from: Data(literal.utf8))
        #expect(decoded == text)
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
}
