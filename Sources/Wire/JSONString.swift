/// The one JSON string escaper, in the two forms batch writes.
///
/// `.ascii` is Python's `json.dumps` with its default `ensure_ascii=True`: `"` `\` and the
/// controls `\n` `\r` `\t` `\b` `\f` get short escapes; every other character outside
/// U+0020...U+007E (other controls, DEL, all non-ASCII) becomes `\uXXXX` in lowercase hex,
/// with a surrogate pair above U+FFFF. Export lines, previews and request bodies use it.
///
/// `.utf8` is the compact form of the simulator's answers and the batch API's bodies: `"` `\`
/// `\n` `\r` `\t` get short escapes, the other controls below U+0020 `\u00xx` (so `\b` is
/// `\u0008`), and everything else, DEL and non-ASCII included, is copied as it is.
/// `/` is escaped by neither.
public enum JSONString {
    public enum Escaping: Sendable {
        case ascii
        case utf8
    }

    /// `string` as a JSON string literal, quotes included.
    public static func encode(_ string: String, _ escaping: Escaping = .ascii) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count + 2)
        append(string, escaping, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `encode(string, escaping)`'s bytes to `out`.
    public static func append(_ string: String, _ escaping: Escaping = .ascii, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendContent(string, escaping, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Appends `encode(string, escaping)`'s bytes without the surrounding quotes.
    public static func appendContent(_ string: String, _ escaping: Escaping = .ascii, to out: inout [UInt8]) {
        var string = string
        string.withUTF8 { appendEscaped($0, escaping, to: &out) }
    }

    /// Appends ASCII text as it is (punctuation and literals around escaped strings).
    public static func appendASCII(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// Bytes copied as they are with `.ascii`: printable ASCII other than `"` and `\`.
    private static let verbatimASCII: [Bool] = (0..<256).map { byte in
        byte >= 0x20 && byte < 0x7F && byte != 0x22 && byte != 0x5C
    }

    /// Bytes copied as they are with `.utf8`: everything from U+0020 up but `"` and `\`.
    private static let verbatimUTF8: [Bool] = (0..<256).map { byte in
        byte >= 0x20 && byte != 0x22 && byte != 0x5C
    }

    /// Escapes valid UTF-8, copying runs of verbatim bytes in one go (prompts are mostly ASCII).
    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, _ escaping: Escaping, to out: inout [UInt8]) {
        let count = bytes.count
        var index = 0
        let table = escaping == .ascii ? verbatimASCII : verbatimUTF8
        table.withUnsafeBufferPointer { verbatim in
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
                    case 0x08 where escaping == .ascii: appendASCII("\\b", to: &out)
                    case 0x0C where escaping == .ascii: appendASCII("\\f", to: &out)
                    default: appendUnicodeEscape(UInt16(byte), to: &out)
                    }
                    index += 1
                    continue
                }
                // One multi-byte UTF-8 scalar (a String's UTF-8 is always valid; only `.ascii` gets here).
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
}
