import Recipe
import Testing
import Wire

@Suite("Conversation validation")
struct ConversationValidatorTests {
    let plain = ConversationValidator()
    static let twoTurns = #"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello!"}]}"#

    @Test("whitespace and Markdown code fences around the answer are accepted", arguments: [
        twoTurns,
        "  \n\(twoTurns)\n\t ",
        "```json\n\(twoTurns)\n```",
        "```\n\(twoTurns)\n```",
        "\n```JSON\n\(twoTurns)\n```\n",
        "```json\(twoTurns)```",
    ])
    func accepts(_ answer: String) throws {
        let messages = try plain.parse(answer)
        #expect(messages == [ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "Hello!")])
    }

    @Test("extra keys in a message are dropped")
    func extraKeys() throws {
        let messages = try plain.parse(#"{"messages": [{"content": "a", "role": "user", "name": "x"}, {"role": "assistant", "content": "b", "extra": 1}], "meta": 2}"#)
        #expect(JSONLine.encode(messages) == #"[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]"#)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        let name: String
        let answer: String
        let validator: ConversationValidator
        let kind: ConversationError.Kind
        let message: Int?
        let fragment: String
        var testDescription: String { name }
    }

    static let u = #"{"role": "user", "content": "q"}"#
    static let a = #"{"role": "assistant", "content": "r"}"#
    static func answer(_ messages: String...) -> String { #"{"messages": ["# + messages.joined(separator: ", ") + "]}" }

    @Test("a rejected answer says which message and why", arguments: [
        Bad(name: "not JSON", answer: "Sure! Here is a conversation:", validator: .init(), kind: .notJSON, message: nil, fragment: "not valid JSON"),
        Bad(name: "an array", answer: "[\(u), \(a)]", validator: .init(), kind: .wrongShape, message: nil, fragment: "expected an object"),
        Bad(name: "no messages", answer: #"{"conversation": []}"#, validator: .init(), kind: .wrongShape, message: nil, fragment: "no \"messages\""),
        Bad(name: "messages not an array", answer: #"{"messages": "hi"}"#, validator: .init(), kind: .wrongShape, message: nil, fragment: "expected an array"),
        Bad(name: "too short", answer: answer(u), validator: .init(), kind: .tooFewMessages, message: nil, fragment: "1 message, at least 2"),
        Bad(name: "empty", answer: answer(), validator: .init(), kind: .tooFewMessages, message: nil, fragment: "0 messages"),
        Bad(name: "starts with assistant", answer: answer(a, u), validator: .init(), kind: .wrongRole, message: 0, fragment: "expected \"user\""),
        Bad(name: "two users in a row", answer: answer(u, u), validator: .init(), kind: .wrongRole, message: 1, fragment: "expected \"assistant\""),
        Bad(name: "system role", answer: answer(#"{"role": "system", "content": "x"}"#, a), validator: .init(), kind: .wrongRole, message: 0, fragment: "\"system\""),
        Bad(name: "blank content", answer: answer(u, #"{"role": "assistant", "content": " \n\t"}"#), validator: .init(), kind: .emptyContent, message: 1, fragment: "content is empty"),
        Bad(name: "content null", answer: answer(u, #"{"role": "assistant", "content": null}"#), validator: .init(), kind: .notAString, message: 1, fragment: "content is null, expected a string"),
        Bad(name: "content array", answer: answer(#"{"role": "user", "content": ["a"]}"#, a), validator: .init(), kind: .notAString, message: 0, fragment: "content is an array"),
        Bad(name: "role number", answer: answer(#"{"role": 1, "content": "a"}"#, a), validator: .init(), kind: .notAString, message: 0, fragment: "role is a number"),
        Bad(name: "missing content", answer: answer(#"{"role": "user"}"#, a), validator: .init(), kind: .wrongShape, message: 0, fragment: "has no \"content\""),
        Bad(name: "message not an object", answer: answer(u, #""hello""#), validator: .init(), kind: .wrongShape, message: 1, fragment: "is a string"),
        Bad(name: "non-ASCII", answer: answer(u, #"{"role": "assistant", "content": "caf\u00e9"}"#), validator: .init(asciiOnly: true), kind: .nonASCII, message: 1, fragment: "U+00E9 at character 3"),
        Bad(name: "below min", answer: answer(u, a), validator: .init(minMessages: 4), kind: .tooFewMessages, message: nil, fragment: "at least 4"),
        Bad(name: "above max", answer: answer(u, a, u, a), validator: .init(maxMessages: 3), kind: .tooManyMessages, message: nil, fragment: "at most 3"),
        Bad(name: "ends with user", answer: answer(u, a, u), validator: .init(endWithAssistant: true), kind: .endsOnUser, message: 2, fragment: "ends on a user turn"),
    ])
    func rejects(_ bad: Bad) {
        do {
            _ = try bad.validator.parse(bad.answer)
            Issue.record("accepted \(bad.name)")
        } catch {
            #expect(error.kind == bad.kind)
            #expect(error.messageIndex == bad.message)
            #expect(error.description.contains(bad.fragment), "\(error.description)")
            if let index = bad.message { #expect(error.description.hasPrefix("messages[\(index)]")) }
        }
    }

    @Test("the optional checks pass when met")
    func optionalChecksPass() throws {
        let strict = ConversationValidator(minMessages: 2, maxMessages: 4, asciiOnly: true, endWithAssistant: true)
        #expect(try strict.parse(Self.answer(Self.u, Self.a, Self.u, Self.a)).count == 4)
        #expect(try plain.parse(Self.answer(Self.u, Self.a, Self.u)).count == 3)
    }

    @Test("an error never repeats the whole answer")
    func errorsAreShort() {
        let long = String(repeating: "x", count: 5_000)
        let answer = Self.answer(#"{"role": "\#(long)", "content": "a"}"#, Self.a)
        #expect {
            _ = try plain.parse(answer)
        } throws: { error in
            String(describing: error).count < 200
        }
    }

    @Test("a recipe's validation settings apply through parseConversation")
    func recipeSettings() throws {
        var draft = RecipeDraft()
        draft["validation"] = .object([("ascii_only", .bool(true)), ("end_with_assistant", .bool(true)), ("max_messages", .int(6))])
        let recipe = try draft.load()
        #expect(recipe.validator == ConversationValidator(minMessages: 2, maxMessages: 6, asciiOnly: true, endWithAssistant: true))
        #expect(throws: ConversationError.self) { try recipe.parseConversation(Self.answer(Self.u, Self.a, Self.u)) }
        #expect(try recipe.parseConversation(Self.twoTurns).count == 2)
    }
}
