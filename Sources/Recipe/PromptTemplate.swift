import Wire

/// A prompt template with Python `str.format` semantics, limited to five named placeholders.
///
/// `{{` and `}}` are literal braces; `{name}` must be one of `Placeholder`'s names. Format
/// specs and conversions (`{topic:>10}`, `{topic!r}`) are rejected rather than half-supported.
/// Substituted values are inserted as they are and never re-read as template text, as in Python.
struct PromptTemplate: Sendable {
    enum Placeholder: String, CaseIterable, Sendable {
        case knowledge, topic, persona, dynamic
        case firstMessageExamples = "first_message_examples"
    }

    enum Piece: Sendable {
        case text([UInt8])
        case placeholder(Placeholder)
    }

    /// Why a template does not parse, for the recipe loader to wrap in a `RecipeError`.
    struct Failure: Error {
        let reason: String
    }

    private(set) var pieces: [Piece]

    /// The placeholders that occur at least once.
    var placeholders: Set<Placeholder> {
        Set(pieces.compactMap { if case .placeholder(let p) = $0 { return p } else { return nil } })
    }

    init(parsing template: String) throws(Failure) {
        let bytes = Array(template.utf8)
        var pieces: [Piece] = []
        var literal: [UInt8] = []
        var i = 0
        func lineNumber(_ offset: Int) -> Int { 1 + bytes[..<offset].lazy.filter { $0 == 0x0A }.count }
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "}") {
                guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "}") else {
                    throw Failure(reason: "single '}' on line \(lineNumber(i)) of the template; write '}}' for a literal brace")
                }
                literal.append(byte)
                i += 2
                continue
            }
            guard byte == UInt8(ascii: "{") else {
                literal.append(byte)
                i += 1
                continue
            }
            if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "{") {
                literal.append(byte)
                i += 2
                continue
            }
            guard let close = bytes[(i + 1)...].firstIndex(where: { $0 == UInt8(ascii: "}") || $0 == UInt8(ascii: "{") }),
                  bytes[close] == UInt8(ascii: "}")
            else {
                throw Failure(reason: "single '{' on line \(lineNumber(i)) of the template is never closed; write '{{' for a literal brace")
            }
            let name = String(decoding: bytes[(i + 1)..<close], as: UTF8.self)
            guard let placeholder = Placeholder(rawValue: name) else {
                let known = Placeholder.allCases.map { "{\($0.rawValue)}" }.joined(separator: ", ")
                let shown = name.count > 40 ? String(name.prefix(40)) + "..." : name
                if name.contains(":") || name.contains("!") {
                    throw Failure(reason: "placeholder {\(shown)} on line \(lineNumber(i)) uses a format spec or conversion, which is not supported; use the bare name (one of \(known))")
                }
                throw Failure(reason: "unknown placeholder {\(shown)} on line \(lineNumber(i)); known placeholders are \(known), and '{{' '}}' write literal braces")
            }
            if !literal.isEmpty { pieces.append(.text(literal)); literal = [] }
            pieces.append(.placeholder(placeholder))
            i = close + 1
        }
        if !literal.isEmpty { pieces.append(.text(literal)) }
        self.pieces = pieces
    }

    /// Replaces every `placeholder` by `value`'s text once and for all (used for the knowledge
    /// base, which is the same for every index), merging adjacent text pieces.
    func fixing(_ placeholder: Placeholder, to value: String) -> PromptTemplate {
        var copy = self
        var merged: [Piece] = []
        for piece in pieces {
            var text: [UInt8]
            switch piece {
            case .placeholder(let p) where p == placeholder: text = Array(value.utf8)
            case .text(let t): text = t
            case .placeholder: merged.append(piece); continue
            }
            if case .text(let previous)? = merged.last {
                text = previous + text
                merged.removeLast()
            }
            merged.append(.text(text))
        }
        copy.pieces = merged
        return copy
    }

    /// The same template with every text piece JSON-escaped (Python's `json.dumps` without the
    /// quotes). Escaping works scalar by scalar and pieces end on scalar boundaries, so escaping
    /// the pieces and the values separately gives the bytes of escaping the rendered prompt.
    func jsonEscaped() -> (pieces: [Piece], textBytes: Int) {
        var textBytes = 0
        let escaped = pieces.map { piece -> Piece in
            guard case .text(let text) = piece else { return piece }
            var out: [UInt8] = []
            out.reserveCapacity(text.count + text.count / 8)
            JSONString.appendContent(String(decoding: text, as: UTF8.self), to: &out)
            textBytes += out.count
            return .text(out)
        }
        return (escaped, textBytes)
    }

    /// The prompt with each placeholder replaced by `value(placeholder)`.
    func render(_ value: (Placeholder) -> String) -> String {
        var out: [UInt8] = []
        var capacity = 0
        for piece in pieces { if case .text(let t) = piece { capacity += t.count } }
        out.reserveCapacity(capacity + 1024)
        for piece in pieces {
            switch piece {
            case .text(let t): out.append(contentsOf: t)
            case .placeholder(let p): out.append(contentsOf: value(p).utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
