import Foundation
import Recipe
import Testing
import TestSupport

@Suite("Loading recipes")
struct RecipeLoadingTests {
    @Test("a valid recipe loads, strips the knowledge text and keeps literal braces")
    func loadsDraft() throws {
        var draft = RecipeDraft()
        draft["prompt_template"] = .string("\n  {{K}}={knowledge}|T={topic}|P={persona}|D={dynamic}|F={first_message_examples} }}\n")
        let recipe = try draft.load()
        #expect(recipe.name == "test")
        #expect(recipe.model == "m")
        let sample = recipe.sample(index: 0)
        #expect(sample.prompt == "{K}=facts {not a placeholder}|T=\(sample.topic)|P=\(sample.persona)|D=\(sample.dynamic)|F=\(sample.firstMessageExamples) }")
        #expect(recipe.topics.map(\.name) == ["a", "b"])
    }

    @Test("files are read as Python reads text: CRLF and CR become LF, then stripped")
    func universalNewlines() throws {
        var draft = RecipeDraft()
        draft["prompt_template"] = nil
        draft["prompt_template_file"] = .string("prompt.txt")
        draft.files["prompt.txt"] = "\r\n{knowledge}\r\n{topic}\r{persona}\n{dynamic}\n{first_message_examples}\r\n\r\n"
        draft.files["knowledge.md"] = "\u{FEFF}line one\r\nline two\r\n"
        let sample = try draft.load().sample(index: 0)
        #expect(sample.prompt.sameBytes("\u{FEFF}line one\nline two\n\(sample.topic)\n\(sample.persona)\n\(sample.dynamic)\n\(sample.firstMessageExamples)"))
    }

    @Test("--knowledge replaces the recipe's knowledge file")
    func knowledgeOverride() throws {
        let directory = try TemporaryDirectory("override")
        defer { directory.remove() }
        try Data("  other facts \n".utf8).write(to: directory.url.appendingPathComponent("other.md"))
        let recipe = try RecipeDraft().load(knowledgePath: directory.path("other.md"))
        #expect(recipe.sample(index: 0).prompt.hasPrefix("K=other facts\nT="))
        #expect(recipe.snapshot.knowledgePath == directory.path("other.md"))
    }

    @Test("request fields pass through in order and headers are kept")
    func passThrough() throws {
        var draft = RecipeDraft()
        draft["request"] = .object([
            ("model", .string("x/y")), ("max_tokens", .int(4000)), ("seed", .int(7)),
            ("provider", .object([("sort", .string("throughput"))])), ("temperature", .double(0.7)),
        ])
        draft["headers"] = .object([("HTTP-Referer", .string("https://example.org")), ("X-Title", .string("batch"))])
        draft["first_message_sample_size"] = .int(1)
        let recipe = try draft.load()
        let body = String(decoding: recipe.requestBody(for: recipe.sample(index: 0)), as: UTF8.self)
        #expect(body.hasPrefix(#"{"model": "x/y", "max_tokens": 4000, "seed": 7, "provider": {"sort": "throughput"}, "temperature": 0.7, "messages": [{"role": "user", "content": "K=facts"#))
        #expect(recipe.headers.map(\.0) == ["HTTP-Referer", "X-Title"])
        #expect(recipe.sample(index: 0).firstMessageExamples.split(separator: "\n").count == 1)
    }

    @Test("a template without knowledge is fine when the recipe has no knowledge file")
    func noKnowledge() throws {
        var draft = RecipeDraft()
        draft["knowledge_file"] = nil
        draft["prompt_template"] = .string("{topic} {persona} {dynamic} {first_message_examples}")
        #expect(try draft.load().snapshot.knowledgeText == nil)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        let name: String
        let kind: RecipeError.Kind
        let field: String?
        let fragment: String
        let change: @Sendable (inout RecipeDraft) -> Void
        var testDescription: String { name }
    }

    static func template(_ text: String) -> @Sendable (inout RecipeDraft) -> Void {
        { $0["prompt_template"] = .string(text) }
    }

    @Test("a bad recipe fails with the file, the field and what is wrong", arguments: [
        Bad(name: "missing placeholder", kind: .missingPlaceholder, field: "prompt_template", fragment: "{persona}",
            change: template("{knowledge} {topic} {dynamic} {first_message_examples}")),
        Bad(name: "missing knowledge placeholder", kind: .missingPlaceholder, field: "prompt_template", fragment: "{knowledge}",
            change: template("{topic} {persona} {dynamic} {first_message_examples}")),
        Bad(name: "knowledge used without a file", kind: .missingField, field: "knowledge_file", fragment: "uses {knowledge}",
            change: { $0["knowledge_file"] = nil }),
        Bad(name: "unknown placeholder", kind: .unknownPlaceholder, field: "prompt_template", fragment: "unknown placeholder {topics} on line 2",
            change: template("{knowledge}\n{topics} {topic} {persona} {dynamic} {first_message_examples}")),
        Bad(name: "positional placeholder", kind: .unknownPlaceholder, field: "prompt_template", fragment: "unknown placeholder {}",
            change: template("{} {knowledge} {topic} {persona} {dynamic} {first_message_examples}")),
        Bad(name: "format spec", kind: .invalidTemplate, field: "prompt_template", fragment: "format spec",
            change: template("{topic:>10} {knowledge} {persona} {dynamic} {first_message_examples}")),
        Bad(name: "single closing brace", kind: .invalidTemplate, field: "prompt_template", fragment: "single '}'",
            change: template("} {knowledge} {topic} {persona} {dynamic} {first_message_examples}")),
        Bad(name: "unclosed brace", kind: .invalidTemplate, field: "prompt_template", fragment: "never closed",
            change: template("{knowledge} {topic} {persona} {dynamic} {first_message_examples} {oops")),
        Bad(name: "no template", kind: .missingField, field: "prompt_template", fragment: "prompt_template_file",
            change: { $0["prompt_template"] = nil }),
        Bad(name: "two templates", kind: .invalidValue, field: "prompt_template", fragment: "keep one",
            change: { $0["prompt_template_file"] = .string("knowledge.md") }),
        Bad(name: "missing template file", kind: .unreadableFile, field: "prompt_template_file", fragment: "no such file",
            change: { $0["prompt_template"] = nil; $0["prompt_template_file"] = .string("nope.txt") }),
        Bad(name: "empty personas", kind: .emptyList, field: "personas", fragment: "empty",
            change: { $0["personas"] = .array([]) }),
        Bad(name: "empty dynamics", kind: .emptyList, field: "dynamics", fragment: "empty",
            change: { $0["dynamics"] = .array([]) }),
        Bad(name: "empty topic category", kind: .emptyList, field: "topics.b", fragment: "empty",
            change: { $0["topics"] = .object([("a", .array([.string("x")])), ("b", .array([]))]) }),
        Bad(name: "no topic categories", kind: .emptyList, field: "topics", fragment: "no categories",
            change: { $0["topics"] = .object([]) }),
        Bad(name: "empty first-message category", kind: .emptyList, field: "first_messages.g", fragment: "empty",
            change: { $0["first_messages"] = .object([("g", .array([]))]) }),
        Bad(name: "topics as an array", kind: .wrongType, field: "topics", fragment: "expected an object",
            change: { $0["topics"] = .array([.string("x")]) }),
        Bad(name: "non-string persona", kind: .wrongType, field: "personas[1]", fragment: "found a number",
            change: { $0["personas"] = .array([.string("a"), .int(3)]) }),
        Bad(name: "empty string persona", kind: .invalidValue, field: "personas[0]", fragment: "empty string",
            change: { $0["personas"] = .array([.string("")]) }),
        Bad(name: "missing dynamics", kind: .missingField, field: "dynamics", fragment: "missing",
            change: { $0["dynamics"] = nil }),
        Bad(name: "missing first messages", kind: .missingField, field: "first_messages", fragment: "missing",
            change: { $0["first_messages"] = nil }),
        Bad(name: "missing request", kind: .missingField, field: "request", fragment: "missing",
            change: { $0["request"] = nil }),
        Bad(name: "missing model", kind: .missingField, field: "request.model", fragment: "missing",
            change: { $0["request"] = .object([("temperature", .double(1))]) }),
        Bad(name: "messages in request", kind: .invalidValue, field: "request.messages", fragment: "must not be set",
            change: { $0["request"] = .object([("model", .string("m")), ("messages", .array([]))]) }),
        Bad(name: "streaming", kind: .invalidValue, field: "request.stream", fragment: "must be false",
            change: { $0["request"] = .object([("model", .string("m")), ("stream", .bool(true))]) }),
        Bad(name: "temperature as text", kind: .invalidValue, field: "request.temperature", fragment: "expected a number",
            change: { $0["request"] = .object([("model", .string("m")), ("temperature", .string("hot"))]) }),
        Bad(name: "misspelt field", kind: .unknownField, field: "persona", fragment: "did you mean \"personas\"",
            change: { $0["persona"] = .array([.string("x")]) }),
        Bad(name: "API key header", kind: .invalidValue, field: "headers.Authorization", fragment: "environment",
            change: { $0["headers"] = .object([("Authorization", .string("Bearer x"))]) }),
        Bad(name: "sample size zero", kind: .invalidValue, field: "first_message_sample_size", fragment: "at least 1",
            change: { $0["first_message_sample_size"] = .int(0) }),
        Bad(name: "min messages one", kind: .invalidValue, field: "validation.min_messages", fragment: "at least 2",
            change: { $0["validation"] = .object([("min_messages", .int(1))]) }),
        Bad(name: "max below min", kind: .invalidValue, field: "validation.max_messages", fragment: "below min_messages",
            change: { $0["validation"] = .object([("min_messages", .int(4)), ("max_messages", .int(3))]) }),
        Bad(name: "unknown validation key", kind: .unknownField, field: "validation.ascii", fragment: "did you mean \"ascii_only\"",
            change: { $0["validation"] = .object([("ascii", .bool(true))]) }),
        Bad(name: "validation flag as text", kind: .wrongType, field: "validation.ascii_only", fragment: "true or false",
            change: { $0["validation"] = .object([("ascii_only", .string("yes"))]) }),
        Bad(name: "unreadable knowledge file", kind: .unreadableFile, field: "knowledge_file", fragment: "missing.md': no such file",
            change: { $0["knowledge_file"] = .string("missing.md") }),
        Bad(name: "knowledge file is a directory", kind: .unreadableFile, field: "knowledge_file", fragment: "is a directory",
            change: { $0["knowledge_file"] = .string(".") }),
    ])
    func rejects(_ bad: Bad) throws {
        var draft = RecipeDraft()
        bad.change(&draft)
        let directory = try TemporaryDirectory("bad-recipe")
        defer { directory.remove() }
        let path = try draft.write(to: directory)
        try expectError(path: path, kind: bad.kind, field: bad.field, fragment: bad.fragment)
    }

    @Test("invalid JSON names the file and the line and column")
    func invalidJSON() throws {
        let directory = try TemporaryDirectory("bad-json")
        defer { directory.remove() }
        let path = try RecipeDraft().write(to: directory, recipeText: "{\n  \"name\": \"x\",\n  \"personas\": [\"a\",]\n}\n")
        try expectError(path: path, kind: .invalidJSON, field: nil, fragment: "line 3, column 20")
    }

    @Test("a recipe that is not an object is refused")
    func notAnObject() throws {
        let directory = try TemporaryDirectory("bad-json")
        defer { directory.remove() }
        let path = try RecipeDraft().write(to: directory, recipeText: "[1, 2]")
        try expectError(path: path, kind: .wrongType, field: nil, fragment: "must be a JSON object")
    }

    @Test("a missing recipe file names the file")
    func missingRecipe() throws {
        try expectError(path: "/nonexistent/recipe.json", kind: .unreadableFile, field: nil, fragment: "no such file")
    }

    @Test("a knowledge file that is not UTF-8 is refused")
    func notUTF8() throws {
        let directory = try TemporaryDirectory("latin1")
        defer { directory.remove() }
        let path = try RecipeDraft().write(to: directory)
        try Data([0x63, 0x61, 0x66, 0xE9]).write(to: directory.url.appendingPathComponent("knowledge.md"))
        try expectError(path: path, kind: .unreadableFile, field: "knowledge_file", fragment: "not valid UTF-8")
    }

    @Test("a missing --knowledge file names the field and the path")
    func missingOverride() throws {
        let directory = try TemporaryDirectory("override")
        defer { directory.remove() }
        let path = try RecipeDraft().write(to: directory)
        #expect {
            _ = try Recipe.load(path: path, knowledgePath: "/nonexistent/kb.md")
        } throws: { error in
            let e = error as? RecipeError
            return e?.kind == .unreadableFile && e?.field == "knowledge_file"
                && String(describing: error).contains("/nonexistent/kb.md")
        }
    }

    private func expectError(path: String, kind: RecipeError.Kind, field: String?, fragment: String,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        do {
            let recipe = try Recipe.load(path: path)
            Issue.record("loaded a bad recipe: \(recipe.name)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
            #expect(error.field == field, "\(error)", sourceLocation: sourceLocation)
            let text = error.description
            #expect(text.hasPrefix(error.file), sourceLocation: sourceLocation)
            #expect(error.file.hasPrefix((path as NSString).deletingLastPathComponent), "\(error)", sourceLocation: sourceLocation)
            if let field { #expect(text.contains(": \(field): "), "\(text)", sourceLocation: sourceLocation) }
            #expect(text.contains(fragment), "\(text)", sourceLocation: sourceLocation)
        }
    }
}

@Suite("cache_marker: an explicit prompt-cache breakpoint after the fixed prefix")
struct CacheMarkerTests {
    func parts(_ body: [UInt8]) throws -> [[String: Any]] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let messages = try #require(object["messages"] as? [[String: Any]])
        return try #require(messages.first?["content"] as? [[String: Any]])
    }

    @Test("the fixed text before the first sampled placeholder is one part marked ephemeral; the parts join to the prompt")
    func marksTheFixedPrefix() throws {
        var draft = RecipeDraft()
        draft["prompt_template"] = .string("Facts: {knowledge} \"quoted\"\n|T={topic}|P={persona}|D={dynamic}|F={first_message_examples}")
        draft["cache_marker"] = .bool(true)
        let recipe = try draft.load()
        #expect(recipe.cacheMarker)
        var prefixes: Set<String> = []
        for index: UInt64 in [0, 1, 2] {
            let sample = recipe.sample(index: index)
            let body = recipe.requestBody(for: sample)
            let content = try parts(body)
            #expect(content.count == 2)
            let first = content[0]["text"] as? String ?? "", second = content[1]["text"] as? String ?? ""
            #expect(first == "Facts: facts {not a placeholder} \"quoted\"\n|T=")
            #expect((content[0]["cache_control"] as? [String: String]) == ["type": "ephemeral"])
            #expect(content[1]["cache_control"] == nil)
            #expect((first + second).sameBytes(sample.prompt))
            prefixes.insert(first)
            // The three ways to build a body agree byte for byte.
            #expect(recipe.payload(for: sample).encoded() == body)
            let preview = try #require(try JSONSerialization.jsonObject(with: Data(recipe.previewJSONLine(for: sample))) as? [String: Any])
            let payload = try JSONSerialization.data(withJSONObject: preview["payload"] as Any)
            #expect(try parts(Array(payload)).map { $0["text"] as? String } == [first, second])
        }
        #expect(prefixes.count == 1)
    }

    @Test("off by default, and a template that starts with a placeholder sends a plain string")
    func plainOtherwise() throws {
        let plain = try RecipeDraft().load()
        #expect(!plain.cacheMarker)
        var draft = RecipeDraft()
        draft["prompt_template"] = .string("{topic}|{knowledge}|{persona}|{dynamic}|{first_message_examples}")
        draft["cache_marker"] = .bool(true)
        let recipe = try draft.load()
        #expect(!recipe.cacheMarker)
        let body = String(decoding: recipe.requestBody(for: recipe.sample(index: 0)), as: UTF8.self)
        #expect(body.contains(#""content": ""#))
    }
}
