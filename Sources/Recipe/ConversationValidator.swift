import Wire

/// Parses and checks a model's answer: the seed's checks plus optional stricter ones.
///
/// The seed's checks: at least two messages, roles alternating from `user`, no message whose
/// content is empty after stripping whitespace. Added: `role` and `content` must be strings,
/// and, when set, plain ASCII only, a minimum and maximum message count, and ending on an
/// assistant turn. Usable without a recipe.
public struct ConversationValidator: Sendable, Equatable {
    public var minMessages: Int
    public var maxMessages: Int?
    public var asciiOnly: Bool
    public var endWithAssistant: Bool

    public init(minMessages: Int = 2, maxMessages: Int? = nil, asciiOnly: Bool = false, endWithAssistant: Bool = false) {
        self.minMessages = minMessages
        self.maxMessages = maxMessages
        self.asciiOnly = asciiOnly
        self.endWithAssistant = endWithAssistant
    }

    /// Parses `{"messages": [{"role", "content"}, ...]}` from a model's message content and
    /// validates it. Surrounding whitespace and a Markdown code fence (```` ```json ... ``` ````)
    /// are removed first. Extra keys in a message are dropped, as the JSONL line keeps only
    /// `role` and `content`.
    public func parse(_ content: String) throws(ConversationError) -> [ChatMessage] {
        let text = Self.unwrap(content)
        let root: JSONValue
        do {
            root = try JSONParser.parse(text)
        } catch {
            throw ConversationError(.notJSON, "the answer is not valid JSON (\(error.description))")
        }
        guard case .object = root else {
            throw ConversationError(.wrongShape, "the answer is \(root.typeDescription), expected an object with a \"messages\" array")
        }
        guard let list = root["messages"] else {
            throw ConversationError(.wrongShape, "the answer has no \"messages\" field")
        }
        guard case .array(let elements) = list else {
            throw ConversationError(.wrongShape, "\"messages\" is \(list.typeDescription), expected an array")
        }
        var messages: [ChatMessage] = []
        messages.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() {
            guard case .object = element else {
                throw ConversationError(.wrongShape, message: i, "is \(element.typeDescription), expected an object with \"role\" and \"content\"")
            }
            let role = try Self.stringField(element, "role", at: i)
            let content = try Self.stringField(element, "content", at: i)
            messages.append(ChatMessage(role: role, content: content))
        }
        try validate(messages)
        return messages
    }

    /// Checks already-parsed messages.
    public func validate(_ messages: [ChatMessage]) throws(ConversationError) {
        if messages.count < minMessages {
            throw ConversationError(.tooFewMessages,
                                    "the conversation is too short: \(messages.count) message\(messages.count == 1 ? "" : "s"), at least \(minMessages) required")
        }
        for (i, message) in messages.enumerated() {
            let expected = i % 2 == 0 ? "user" : "assistant"
            if message.role != expected {
                throw ConversationError(.wrongRole, message: i,
                                        "role is \(ConversationError.quote(message.role)), expected \"\(expected)\" (roles alternate, starting with user)")
            }
            if PythonText.strip(message.content).isEmpty {
                throw ConversationError(.emptyContent, message: i, "(\(expected)) content is empty")
            }
            if asciiOnly, let (offset, scalar) = message.content.unicodeScalars.enumerated().first(where: { !$0.element.isASCII }) {
                let code = String(scalar.value, radix: 16, uppercase: true)
                throw ConversationError(.nonASCII, message: i,
                                        "(\(expected)) has non-ASCII character U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code) at character \(offset); the recipe requires plain ASCII")
            }
        }
        if let maxMessages, messages.count > maxMessages {
            throw ConversationError(.tooManyMessages,
                                    "the conversation is too long: \(messages.count) messages, at most \(maxMessages) allowed")
        }
        if endWithAssistant, messages.count % 2 == 1 {
            throw ConversationError(.endsOnUser, message: messages.count - 1,
                                    "the conversation ends on a user turn; the recipe requires it to end on an assistant turn")
        }
    }

    /// Strips whitespace and, if present, one surrounding Markdown code fence.
    static func unwrap(_ content: String) -> String {
        var text = PythonText.strip(content)
        guard text.hasPrefix("```") else { return text }
        text.removeFirst(3)
        if let newline = text.firstIndex(of: "\n") {
            // Drop the info string (e.g. "json") on the fence line.
            let info = text[..<newline]
            if !info.contains("{") && !info.contains("[") { text = String(text[text.index(after: newline)...]) }
        } else if text.hasPrefix("json") {
            text.removeFirst(4)
        }
        text = PythonText.strip(text)
        if text.hasSuffix("```") { text.removeLast(3) }
        return PythonText.strip(text)
    }

    private static func stringField(_ object: JSONValue, _ key: String, at i: Int) throws(ConversationError) -> String {
        guard let value = object[key] else {
            throw ConversationError(.wrongShape, message: i, "has no \"\(key)\"")
        }
        guard case .string(let s) = value else {
            throw ConversationError(.notAString, message: i, "\(key) is \(value.typeDescription), expected a string")
        }
        return s
    }
}
