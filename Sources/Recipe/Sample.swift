import Wire

/// What one index draws from `random.Random(index)`, before the prompt is filled in.
public struct Draw: Sendable, Equatable {
    public let index: UInt64
    /// The topic category the topic was drawn from (not part of the prompt; handy metadata).
    public let category: String
    public let topic: String
    public let persona: String
    public let dynamic: String
    /// `- example` lines joined by newlines, as the seed formats them.
    public let firstMessageExamples: String
}

/// What one index draws and the prompt it sends. The draw's fields read as the sample's own
/// (`sample.topic`).
@dynamicMemberLookup
public struct Sample: Sendable, Equatable {
    public let draw: Draw
    public let prompt: String

    public subscript<Value>(dynamicMember field: KeyPath<Draw, Value>) -> Value { draw[keyPath: field] }
}

extension Recipe {
    /// The seed's `sample_diversity_elements(random.Random(index))`, without filling the template.
    ///
    /// Draw order is the seed's: category, topic, persona, dynamic, then
    /// `sample(first-message categories, k)` and one `choice` per drawn category.
    public func draw(index: UInt64) -> Draw {
        var rng = PythonRandom(seed: index)
        let category = rng.choice(topics)
        let topic = rng.choice(category.items)
        let persona = rng.choice(personas)
        let dynamic = rng.choice(dynamics)
        let drawn = rng.sample(firstMessages, count: min(firstMessageSampleSize, firstMessages.count))
        var examples = ""
        for (i, messageCategory) in drawn.enumerated() {
            if i > 0 { examples += "\n" }
            examples += "- "
            examples += rng.choice(messageCategory.items)
        }
        return Draw(
            index: index, category: category.name, topic: topic, persona: persona,
            dynamic: dynamic, firstMessageExamples: examples
        )
    }

    /// The seed's draw for `index` and the filled template.
    public func sample(index: UInt64) -> Sample {
        let draw = draw(index: index)
        return Sample(draw: draw, prompt: template.render { draw.value(of: $0) })
    }

    /// The request body for `sample`: the recipe's `request` fields in order, then
    /// `messages` with the prompt as the one user message.
    public func payload(for sample: Sample) -> JSONValue {
        var content = JSONValue.string(sample.prompt)
        if cacheMarker {
            let prompt = Array(sample.prompt.utf8)
            let split = min(cachedPieces.textBytes, prompt.count)
            content = .array([
                .object([("type", .string("text")), ("text", .string(String(decoding: prompt[..<split], as: UTF8.self))),
                         ("cache_control", .object([("type", .string("ephemeral"))]))]),
                .object([("type", .string("text")), ("text", .string(String(decoding: prompt[split...], as: UTF8.self)))]),
            ])
        }
        let message = JSONValue.object([("role", .string("user")), ("content", content)])
        return .object(request + [("messages", .array([message]))])
    }

    /// `payload(for:)` encoded as Python's `json.dumps` (which `requests.post(json=)` uses),
    /// so the bytes equal what the seed sends.
    public func requestBody(for sample: Sample) -> [UInt8] {
        requestBody(for: sample.draw)
    }

    /// The same bytes as `requestBody(for: sample(index:))` without rendering the prompt: the
    /// template's text (the knowledge base, the bulk of it) is JSON-escaped once when the recipe
    /// is built, and only the drawn values are escaped per row.
    public func requestBody(for draw: Draw) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(bodyPrefix.count + escapedTemplate.textBytes + 2_048)
        body.append(contentsOf: bodyPrefix)
        if cacheMarker { JSONString.appendASCII(Self.markedPartsOpening, to: &body) }
        body.append(UInt8(ascii: "\""))
        for (n, piece) in escapedTemplate.pieces.enumerated() {
            if cacheMarker && n == cachedPieces.count { JSONString.appendASCII(Self.markedPartsMiddle, to: &body) }
            switch piece {
            case .text(let escaped): body.append(contentsOf: escaped)
            case .placeholder(let placeholder): JSONString.appendContent(draw.value(of: placeholder), to: &body)
            }
        }
        if cacheMarker && cachedPieces.count == escapedTemplate.pieces.count { JSONString.appendASCII(Self.markedPartsMiddle, to: &body) }
        JSONString.appendASCII(cacheMarker ? "\"}]}]}" : "\"}]}", to: &body)
        return body
    }

    /// With `cacheMarker`, the user content is `[{"type": "text", "text": PREFIX, "cache_control":
    /// {"type": "ephemeral"}}, {"type": "text", "text": REST}]`: these join the parts.
    static let markedPartsOpening: StaticString = "[{\"type\": \"text\", \"text\": "
    static let markedPartsMiddle: StaticString = "\", \"cache_control\": {\"type\": \"ephemeral\"}}, {\"type\": \"text\", \"text\": \""

    /// Appends the request body, given the prompt already encoded as a JSON string (quotes included).
    func appendRequestBody(encodedPrompt: [UInt8], to out: inout [UInt8]) {
        out.append(contentsOf: bodyPrefix)
        guard cacheMarker else {
            out.append(contentsOf: encodedPrompt)
            return JSONString.appendASCII("}]}", to: &out)
        }
        // The rendered prompt starts with the template's fixed text, escaped the same way.
        let split = 1 + cachedPieces.bytes
        JSONString.appendASCII(Self.markedPartsOpening, to: &out)
        out.append(contentsOf: encodedPrompt[..<split])
        JSONString.appendASCII(Self.markedPartsMiddle, to: &out)
        out.append(contentsOf: encodedPrompt[split...])
        JSONString.appendASCII("}]}]}", to: &out)
    }

    /// Parses and validates a model's answer with this recipe's `validation` settings.
    public func parseConversation(_ content: String) throws(ConversationError) -> [ChatMessage] {
        try validator.parse(content)
    }
}

extension Draw {
    /// The text a template placeholder stands for.
    func value(of placeholder: PromptTemplate.Placeholder) -> String {
        switch placeholder {
        case .topic: topic
        case .persona: persona
        case .dynamic: `dynamic`
        case .firstMessageExamples: firstMessageExamples
        case .knowledge: ""  // already substituted when the recipe was built
        }
    }
}
