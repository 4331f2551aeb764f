/// An RFC 8259 JSON parser producing order-preserving `JSONValue`s, strict or tolerant.
///
/// Strict (the default, for recipes and model outputs): duplicate keys in one object are
/// rejected rather than silently resolved, so a recipe never means something other than what
/// it appears to say; so are invalid UTF-8, unpaired surrogates and numbers out of range.
/// Tolerant (`parseBody`, for servers' answers) reads what a lenient reader would; see `Options`.
public struct JSONParser {
    /// Why a document is not valid JSON, with a 1-based line and column.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let line: Int
        public let column: Int
        public let reason: String
        public var description: String { "line \(line), column \(column): \(reason)" }
    }

    /// How strictly a document is read.
    public struct Options: Sendable {
        /// Nesting deeper than this is an error.
        var maximumDepth: Int
        /// false: a repeated key's last value wins, in the first one's place; a string's invalid
        /// UTF-8 and unpaired surrogate escapes become U+FFFD; an integer beyond 64 bits is read
        /// as a Double, and a number beyond Double's range as an infinity.
        var strict: Bool

        /// Recipes and model outputs: anything doubtful is an error; 512 levels deep at most.
        public static let strict = Options(maximumDepth: 512, strict: true)
        /// Servers' answers: 256 levels deep at most.
        public static let tolerant = Options(maximumDepth: 256, strict: false)
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private let options: Options
    private var offset = 0
    private var depth = 0

    /// Parses one JSON document; anything but whitespace after it is an error.
    public static func parse(_ text: String, _ options: Options = .strict) throws(Failure) -> JSONValue {
        var text = text
        return try text.withUTF8 { parse(buffer: $0, options) }.get()
    }

    public static func parse(bytes: [UInt8], _ options: Options = .strict) throws(Failure) -> JSONValue {
        try bytes.withUnsafeBufferPointer { parse(buffer: $0, options) }.get()
    }

    /// A server's answer read tolerantly: a JSON object or array (whitespace around allowed), or
    /// nil for anything else (a scalar, HTML, an empty or cut-off body).
    public static func parseBody(_ bytes: [UInt8]) -> JSONValue? {
        guard let value = try? parse(bytes: bytes, .tolerant) else { return nil }
        switch value {
        case .object, .array: return value
        default: return nil
        }
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>, _ options: Options) -> Result<JSONValue, Failure> {
        var parser = JSONParser(bytes: buffer, options: options)
        do throws(Failure) {
            return .success(try parser.parseDocument())
        } catch {
            return .failure(error)
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, options: Options) {
        self.bytes = bytes
        self.options = options
    }

    private mutating func parseDocument() throws(Failure) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if offset < bytes.count { throw failure("unexpected text after the JSON value") }
        return value
    }

    private func failure(_ reason: String, at position: Int? = nil) -> Failure {
        let end = min(position ?? offset, bytes.count)
        var line = 1
        var lineStart = 0
        for i in 0..<end where bytes[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        let column = String(decoding: UnsafeBufferPointer(rebasing: bytes[lineStart..<end]), as: UTF8.self).unicodeScalars.count + 1
        return Failure(line: line, column: column, reason: reason)
    }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(Failure) -> JSONValue {
        guard offset < bytes.count else { throw failure("unexpected end of input, expected a value") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected character, expected a value")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        let matches = offset + count <= bytes.count && literal.withUTF8Buffer { expected in
            expected.indices.allSatisfy { bytes[offset + $0] == expected[$0] }
        }
        guard matches else { throw failure("invalid literal, expected \(literal)") }
        offset += count
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        if depth > options.maximumDepth { throw failure("nested more than \(options.maximumDepth) levels deep") }
    }

    private mutating func parseObject() throws(Failure) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        offset += 1
        var members: [(String, JSONValue)] = []
        var keys = KeyIndex()
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else {
                throw failure("expected a quoted key")
            }
            let keyStart = offset
            let key = try parseString()
            let earlier = keys.index(of: key, in: members)
            if earlier != nil, options.strict { throw failure("duplicate key \"\(key)\"", at: keyStart) }
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else {
                throw failure("expected ':' after key \"\(key)\"")
            }
            offset += 1
            skipWhitespace()
            let value = try parseValue()
            if let earlier {
                members[earlier].1 = value
            } else {
                keys.add(key, at: members.count)
                members.append((key, value))
            }
            skipWhitespace()
            guard offset < bytes.count else { throw failure("unexpected end of input inside an object") }
            if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
            if bytes[offset] == UInt8(ascii: "}") { offset += 1; return .object(members) }
            throw failure("expected ',' or '}' in an object")
        }
    }

    /// Finds a repeated key: by scanning while an object is small (most are), by hashing after.
    private struct KeyIndex {
        private static let scanLimit = 16
        private var byKey: [String: Int]?

        mutating func index(of key: String, in members: [(String, JSONValue)]) -> Int? {
            if members.count < Self.scanLimit { return members.firstIndex { $0.0 == key } }
            if byKey == nil {
                byKey = Dictionary(members.enumerated().map { ($1.0, $0) }, uniquingKeysWith: { first, _ in first })
            }
            return byKey![key]
        }

        mutating func add(_ key: String, at index: Int) {
            byKey?[key] = index
        }
    }

    private mutating func parseArray() throws(Failure) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        offset += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard offset < bytes.count else { throw failure("unexpected end of input inside an array") }
            if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
            if bytes[offset] == UInt8(ascii: "]") { offset += 1; return .array(elements) }
            throw failure("expected ',' or ']' in an array")
        }
    }

    private mutating func parseNumber() throws(Failure) -> JSONValue {
        let start = offset
        var isInteger = true
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        guard offset < bytes.count, isDigit(bytes[offset]) else { throw failure("invalid number") }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
        } else {
            while offset < bytes.count, isDigit(bytes[offset]) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            isInteger = false
            offset += 1
            guard offset < bytes.count, isDigit(bytes[offset]) else { throw failure("invalid number: digits expected after '.'") }
            while offset < bytes.count, isDigit(bytes[offset]) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            isInteger = false
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard offset < bytes.count, isDigit(bytes[offset]) else { throw failure("invalid number: digits expected in exponent") }
            while offset < bytes.count, isDigit(bytes[offset]) { offset += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        if isInteger {
            if let value = Int64(text) { return .int(value) }
            guard !options.strict, let value = Double(text) else { throw failure("integer \(text) does not fit in 64 bits", at: start) }
            return .double(value)
        }
        guard let value = Double(text), value.isFinite || !options.strict else { throw failure("number \(text) is out of range", at: start) }
        return .double(value)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func parseString() throws(Failure) -> String {
        offset += 1  // opening quote
        let start = offset
        // Fast path: no escapes.
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<offset])
                offset += 1
                return try string(from: slice, start: start)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw failure("unescaped control character in a string") }
            offset += 1
        }
        var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<offset]))
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                offset += 1
                return try out.withUnsafeBufferPointer { buffer throws(Failure) in try string(from: buffer, start: start) }
            }
            if byte < 0x20 { throw failure("unescaped control character in a string") }
            if byte != UInt8(ascii: "\\") {
                out.append(byte)
                offset += 1
                continue
            }
            offset += 1
            guard offset < bytes.count else { break }
            let escape = bytes[offset]
            offset += 1
            switch escape {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                UTF8.encode(try parseUnicodeEscape()) { out.append($0) }
            default:
                throw failure("invalid escape sequence in a string", at: offset - 2)
            }
        }
        throw failure("unterminated string", at: start - 1)
    }

    /// A string's bytes as a String: invalid UTF-8 is an error when strict, U+FFFD otherwise.
    private func string(from bytes: UnsafeBufferPointer<UInt8>, start: Int) throws(Failure) -> String {
        guard options.strict else { return String(decoding: bytes, as: UTF8.self) }
        guard let s = String(validating: bytes, as: UTF8.self) else { throw failure("invalid UTF-8 in a string", at: start) }
        return s
    }

    /// After `\u`: four hex digits, combining a surrogate pair into one scalar. An unpaired
    /// surrogate is an error when strict, U+FFFD otherwise (the escape after an unpaired high
    /// surrogate is then read on its own).
    private mutating func parseUnicodeEscape() throws(Failure) -> Unicode.Scalar {
        let escapeStart = offset - 2
        let first = try readHex4()
        if (0xD800...0xDBFF).contains(first) {
            if offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") {
                let afterFirst = offset
                offset += 2
                let second = try readHex4()
                if (0xDC00...0xDFFF).contains(second) {
                    let value = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    if let scalar = Unicode.Scalar(value) { return scalar }
                }
                if !options.strict { offset = afterFirst }
            }
            if !options.strict { return "\u{FFFD}" }
            throw failure("unpaired surrogate in a \\u escape", at: escapeStart)
        }
        guard let scalar = Unicode.Scalar(first) else {
            if !options.strict { return "\u{FFFD}" }
            throw failure("unpaired surrogate in a \\u escape", at: escapeStart)
        }
        return scalar
    }

    private mutating func readHex4() throws(Failure) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw failure("incomplete \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw failure("invalid hex digit in a \\u escape")
            }
            value = value << 4 | digit
            offset += 1
        }
        return value
    }
}
