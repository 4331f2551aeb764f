/// What one index draws and the prompt it sends.
public struct Sample: Sendable, Equatable {
    public let index: UInt64
    /// The topic category the topic was drawn from (not part of the prompt; handy metadata).
    public let category: String
    public let topic: String
    public let persona: String
    public let dynamic: String
    /// `- example` lines joined by newlines, as the seed formats them.
    public let firstMessageExamples: String
    public let prompt: String
}

extension Recipe {
    /// The seed's `sample_diversity_elements(random.Random(index))` and the filled template.
    ///
    /// Draw order is the seed's: category, topic, persona, dynamic, then
    /// `sample(first-message categories, k)` and one `choice` per drawn category.
    public func sample(index: UInt64) -> Sample {
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
        let prompt = template.render { placeholder in
            switch placeholder {
            case .topic: return topic
            case .persona: return persona
            case .dynamic: return `dynamic`
            case .firstMessageExamples: return examples
            case .knowledge: return ""  // already substituted when the recipe was built
            }
        }
        return Sample(
            index: index, category: category.name, topic: topic, persona: persona,
            dynamic: dynamic, firstMessageExamples: examples, prompt: prompt
        )
    }

    /// The request body for `sample`: the recipe's `request` fields in order, then
    /// `messages` with the prompt as the one user message.
    public func payload(for sample: Sample) -> JSONValue {
        let message = JSONValue.object([("role", .string("user")), ("content", .string(sample.prompt))])
        return .object(request + [("messages", .array([message]))])
    }

    /// `payload(for:)` encoded as Python's `json.dumps` (which `requests.post(json=)` uses),
    /// so the bytes equal what the seed sends.
    public func requestBody(for sample: Sample) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(bodyPrefix.count + sample.prompt.utf8.count + 256)
        var prompt: [UInt8] = []
        JSONLine.appendString(sample.prompt, to: &prompt)
        appendRequestBody(encodedPrompt: prompt, to: &body)
        return body
    }

    /// Appends the request body, given the prompt already encoded as a JSON string.
    func appendRequestBody(encodedPrompt: [UInt8], to out: inout [UInt8]) {
        out.append(contentsOf: bodyPrefix)
        out.append(contentsOf: encodedPrompt)
        JSONLine.appendASCII("}]}", to: &out)
    }

    /// Parses and validates a model's answer with this recipe's `validation` settings.
    public func parseConversation(_ content: String) throws(ConversationError) -> [ChatMessage] {
        try validator.parse(content)
    }
}
