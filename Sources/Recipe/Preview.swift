import Wire

extension Recipe {
    /// One line of `batch preview --json` (no newline): an object with keys `index`, `topic`,
    /// `persona`, `dynamic`, `first_message_examples`, `prompt`, `payload`, written in
    /// Python's `json.dumps` style.
    public func previewJSONLine(for sample: Sample) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(2 * sample.prompt.utf8.count + bodyPrefix.count + 1024)
        JSONString.appendASCII("{\"index\": ", to: &out)
        out.append(contentsOf: String(sample.index).utf8)
        for (key, value) in [
            ("topic", sample.topic), ("persona", sample.persona), ("dynamic", sample.dynamic),
            ("first_message_examples", sample.firstMessageExamples),
        ] {
            JSONString.appendASCII(", ", to: &out)
            JSONString.append(key, to: &out)
            JSONString.appendASCII(": ", to: &out)
            JSONString.append(value, to: &out)
        }
        // The prompt appears twice (alone and in the payload): escape it once.
        var prompt: [UInt8] = []
        prompt.reserveCapacity(sample.prompt.utf8.count + 512)
        JSONString.append(sample.prompt, to: &prompt)
        JSONString.appendASCII(", \"prompt\": ", to: &out)
        out.append(contentsOf: prompt)
        JSONString.appendASCII(", \"payload\": ", to: &out)
        appendRequestBody(encodedPrompt: prompt, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A readable block for `batch preview` without `--json`: the sampled values, then the prompt.
    public func previewText(for sample: Sample) -> String {
        """
        === index \(sample.index) ===
        topic:    \(sample.topic) (\(sample.category))
        persona:  \(sample.persona)
        dynamic:  \(sample.dynamic)
        first-message examples:
        \(sample.firstMessageExamples)
        --- prompt (\(sample.prompt.utf8.count) bytes, model \(model)) ---
        \(sample.prompt)
        """
    }
}
