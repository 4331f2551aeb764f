import Foundation
import Recipe
import Testing
import TestSupport
import Wire

/// The shipped recipe reproduces nanochat's generator exactly (fixtures computed by the seed).
@Suite("Seed parity")
struct SeedParityTests {
    struct Expected: Sendable, CustomTestStringConvertible {
        let index: UInt64
        let topic, persona, dynamic, examples, prompt: String
        var testDescription: String { "index \(index)" }
    }

    static let samples: [Expected] = {
        let lines = (try? Fixtures.lines("seed-samples.jsonl")) ?? []
        return lines.compactMap { line in
            guard let o = try? jsonObject(line), let index = o["index"] as? Int else { return nil }
            return Expected(
                index: UInt64(index), topic: o["topic"] as? String ?? "", persona: o["persona"] as? String ?? "",
                dynamic: o["dynamic"] as? String ?? "", examples: o["first_message_examples"] as? String ?? "",
                prompt: o["prompt"] as? String ?? "")
        }
    }()

    @Test("the fixture holds indices 0 to 199")
    func fixtureIsComplete() {
        #expect(Self.samples.map(\.index) == Array(0..<200))
    }

    @Test("each index samples the seed's topic, persona, dynamic, examples and prompt", arguments: samples)
    func matchesSeed(_ expected: Expected) throws {
        let sample = try seedRecipe().sample(index: expected.index)
        #expect(sample.index == expected.index)
        #expect(sample.topic.sameBytes(expected.topic))
        #expect(sample.persona.sameBytes(expected.persona))
        #expect(sample.dynamic.sameBytes(expected.dynamic))
        #expect(sample.firstMessageExamples.sameBytes(expected.examples))
        #expect(sample.prompt.sameBytes(expected.prompt))
    }

    /// `json.dumps(base_payload)` from the seed, computed with Python 3.11.
    static let seedPayloadJSON = #"{"model": "google/gemini-3-flash-preview", "stream": false, "response_format": {"type": "json_schema", "json_schema": {"name": "conversation", "strict": true, "schema": {"type": "object", "properties": {"messages": {"type": "array", "description": "Conversation messages alternating user/assistant, starting with user", "items": {"type": "object", "properties": {"role": {"type": "string", "description": "Either 'user' or 'assistant'"}, "content": {"type": "string", "description": "The message content"}}, "required": ["role", "content"], "additionalProperties": false}}}, "required": ["messages"], "additionalProperties": false}}}, "temperature": 1.0}"#

    @Test("the request body is the seed's payload plus the prompt, as json.dumps writes it")
    func requestBodyMatchesSeed() throws {
        let recipe = try seedRecipe()
        let sample = recipe.sample(index: 3)
        let expected = String(Self.seedPayloadJSON.dropLast())
            + #", "messages": [{"role": "user", "content": "# + JSONString.encode(sample.prompt) + "}]}"
        let body = String(decoding: recipe.requestBody(for: sample), as: UTF8.self)
        #expect(body.sameBytes(expected))
        #expect(recipe.payload(for: sample).encoded() == recipe.requestBody(for: sample))
        #expect(recipe.model == "google/gemini-3-flash-preview")
        #expect(recipe.headers.isEmpty)
    }

    @Test("every fixture index's body holds the seed's prompt escaped as json.dumps does")
    func requestBodiesForAllFixtureIndices() throws {
        let recipe = try seedRecipe()
        let prefix = String(Self.seedPayloadJSON.dropLast()) + #", "messages": [{"role": "user", "content": "#
        for expected in Self.samples {
            let body = String(decoding: recipe.requestBody(for: recipe.draw(index: expected.index)), as: UTF8.self)
            #expect(body.sameBytes(prefix + JSONString.encode(expected.prompt) + "}]}"), "index \(expected.index)")
        }
    }

    @Test("escaping the template's text and the drawn values apart equals escaping the whole prompt")
    func piecewiseEscapingMatchesWholePrompt() throws {
        var draft = RecipeDraft()
        draft["prompt_template"] = .string("\"Q\" \\ tab\t é {{lit}} 😀\u{7f}\u{1}\n{knowledge}|{topic}|{persona}|{dynamic}|{first_message_examples}\r")
        draft["personas"] = .array([.string("naïve \"quoted\" \\ 𝄞"), .string("plain")])
        draft["dynamics"] = .array([.string("line\nbreak\u{8}\u{c}")])
        draft.files["knowledge.md"] = "  ünïcödé {braces} \"q\" 🎉\n\n"
        let recipe = try draft.load()
        for index: UInt64 in 0..<40 {
            let sample = recipe.sample(index: index)
            // payload(for:) escapes the rendered prompt as one string.
            #expect(recipe.requestBody(for: sample.draw) == recipe.payload(for: sample).encoded(), "index \(index)")
        }
    }

    @Test("the payload lists model, stream, response_format, temperature, then messages")
    func payloadKeyOrder() throws {
        let recipe = try seedRecipe()
        let keys = recipe.payload(for: recipe.sample(index: 0)).objectValue?.map(\.0)
        #expect(keys == ["model", "stream", "response_format", "temperature", "messages"])
    }

    @Test("the shipped recipe loads with its own knowledge base and keeps the seed's settings")
    func shippedRecipeLoads() throws {
        let recipe = try Recipe.load(path: Paths.shippedRecipe)
        #expect(recipe.name == "nanochat-identity")
        #expect(recipe.topics.map(\.name) == [
            "identity", "architecture", "training", "capabilities", "limitations",
            "comparisons", "history", "technical_deep_dive", "philosophical",
        ])
        #expect(recipe.personas.count == 12)
        #expect(recipe.dynamics.count == 10)
        #expect(recipe.firstMessages.count == 8)
        #expect(recipe.validator == ConversationValidator())
        let sample = recipe.sample(index: 0)
        #expect(sample.topic == "what optimizations worked vs didn't work")
        #expect(sample.prompt.contains("# nanochat: knowledge base"))
        #expect(recipe.snapshot.knowledgePath?.hasSuffix("recipes/nanochat-identity/knowledge.md") == true)
    }

    @Test("a preview line has the keys in order and embeds the request body")
    func previewLine() throws {
        let recipe = try seedRecipe()
        let sample = recipe.sample(index: 5)
        let line = String(decoding: recipe.previewJSONLine(for: sample), as: UTF8.self)
        let expectedStart = #"{"index": 5, "topic": "# + JSONString.encode(sample.topic)
        #expect(line.hasPrefix(expectedStart))
        #expect(line.hasSuffix(#", "payload": "# + String(decoding: recipe.requestBody(for: sample), as: UTF8.self) + "}"))
        let parsed = try JSONParser.parse(line)
        #expect(parsed.objectValue?.map(\.0) == ["index", "topic", "persona", "dynamic", "first_message_examples", "prompt", "payload"])
        #expect(parsed["prompt"]?.stringValue?.sameBytes(sample.prompt) == true)
        #expect(!line.contains("\n"))
    }
}
