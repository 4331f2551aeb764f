/// Writes conversations exactly as Python's `json.dumps` does with its defaults
/// (`ensure_ascii=True`, separators `", "` and `": "`), byte for byte: strings are escaped
/// by `JSONString` with `.ascii`.
public enum JSONLine {
    /// One conversation as one JSONL line (no newline): a JSON array of
    /// `{"role": ..., "content": ...}` objects, identical to the seed's `json.dumps(messages)`.
    public static func encode(_ messages: [ChatMessage]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(messages.reduce(2) { $0 + $1.content.utf8.count + $1.role.utf8.count + 32 })
        appendConversation(messages, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the bytes of `encode(messages)` to `out`.
    public static func appendConversation(_ messages: [ChatMessage], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, message) in messages.enumerated() {
            if i > 0 { JSONString.appendASCII(", ", to: &out) }
            JSONString.appendASCII("{\"role\": ", to: &out)
            JSONString.append(message.role, to: &out)
            JSONString.appendASCII(", \"content\": ", to: &out)
            JSONString.append(message.content, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }
}
