/// Writes JSON exactly as Python's `json.dumps` does with its defaults
/// (`ensure_ascii=True`, separators `", "` and `": "`), byte for byte.
///
/// Escaping: `"` `\` and the controls `\n` `\r` `\t` `\b` `\f` get short escapes; every other
/// character outside U+0020...U+007E (other controls, DEL, all non-ASCII) becomes `\uXXXX`
/// in lowercase hex, with a surrogate pair above U+FFFF. `/` is not escaped.
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
            if i > 0 { appendASCII(", ", to: &out) }
            appendASCII("{\"role\": ", to: &out)
            appendString(message.role, to: &out)
            appendASCII(", \"content\": ", to: &out)
            appendString(message.content, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }

    /// One string as Python's `json.dumps(s)` writes it, quotes included.
    public static func encodeString(_ string: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count + 2)
        appendString(string, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `encodeString(string)`'s bytes to `out`.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscapedContent(string, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `encodeString(string)`'s bytes without the surrounding quotes.
    public static func appendEscapedContent(_ string: String, to out: inout [UInt8]) {
        var string = string
        string.withUTF8 { appendEscaped($0, to: &out) }
    }

    /// Bytes that are copied as they are: printable ASCII other than `"` and `\`.
    private static let verbatim: [Bool] = (0..<256).map { byte in
        byte >= 0x20 && byte < 0x7F && byte != 0x22 && byte != 0x5C
    }

    /// Escapes valid UTF-8, copying runs of verbatim bytes in one go (prompts are mostly ASCII).
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        let count = bytes.count
        var index = 0
        verbatim.withUnsafeBufferPointer { verbatim in
            while index < count {
                let runStart = index
                while index < count, verbatim[Int(bytes[index])] { index += 1 }
                if index > runStart {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                }
                guard index < count else { return }
                let byte = bytes[index]
                if byte < 0x80 {
                    switch byte {
                    case 0x22: appendASCII("\\\"", to: &out)
                    case 0x5C: appendASCII("\\\\", to: &out)
                    case 0x0A: appendASCII("\\n", to: &out)
                    case 0x0D: appendASCII("\\r", to: &out)
                    case 0x09: appendASCII("\\t", to: &out)
                    case 0x08: appendASCII("\\b", to: &out)
                    case 0x0C: appendASCII("\\f", to: &out)
                    default: appendUnicodeEscape(UInt16(byte), to: &out)
                    }
                    index += 1
                    continue
                }
                // One multi-byte UTF-8 scalar (a String's UTF-8 is always valid).
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
                var value = UInt32(byte) & (length == 4 ? 0x07 : length == 3 ? 0x0F : 0x1F)
                for offset in 1..<length {
                    value = value << 6 | (UInt32(bytes[index + offset]) & 0x3F)
                }
                index += length
                if value > 0xFFFF {
                    let v = value - 0x10000
                    appendUnicodeEscape(UInt16(0xD800 + (v >> 10)), to: &out)
                    appendUnicodeEscape(UInt16(0xDC00 + (v & 0x3FF)), to: &out)
                } else {
                    appendUnicodeEscape(UInt16(value), to: &out)
                }
            }
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendUnicodeEscape(_ unit: UInt16, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "u"))
        out.append(hexDigits[Int(unit >> 12)])
        out.append(hexDigits[Int((unit >> 8) & 0xF)])
        out.append(hexDigits[Int((unit >> 4) & 0xF)])
        out.append(hexDigits[Int(unit & 0xF)])
    }

    static func appendASCII(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }
}
