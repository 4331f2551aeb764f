extension JSONValue {
    /// How a value is written.
    public enum Style: Sendable {
        /// Python's `json.dumps` defaults: separators `", "` and `": "`, strings escaped `.ascii`.
        case python
        /// No spaces (`,` and `:`), strings escaped `.utf8`: bodies for HTTP APIs.
        case compact
    }

    /// This value as text, members in their order. Floats use the shortest round-trip form, as
    /// Python's `repr(float)` does (`1.0`, `1e-05`); an infinity (only a tolerant parse of a
    /// number beyond Double's range makes one) is written `null`, as JSON has no infinities.
    public func encoded(_ style: Style = .python) -> [UInt8] {
        var out: [UInt8] = []
        append(to: &out, style)
        return out
    }

    /// `encoded()` as a String.
    public var jsonText: String { String(decoding: encoded(), as: UTF8.self) }

    /// Appends `encoded(style)`'s bytes to `out`.
    public func append(to out: inout [UInt8], _ style: Style = .python) {
        let escaping: JSONString.Escaping = style == .python ? .ascii : .utf8
        switch self {
        case .null: JSONString.appendASCII("null", to: &out)
        case .bool(let b): if b { JSONString.appendASCII("true", to: &out) } else { JSONString.appendASCII("false", to: &out) }
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d):
            if d.isFinite { out.append(contentsOf: Self.pythonRepr(d).utf8) } else { JSONString.appendASCII("null", to: &out) }
        case .string(let s): JSONString.append(s, escaping, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { appendSeparator(",", style, to: &out) }
                element.append(to: &out, style)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { appendSeparator(",", style, to: &out) }
                JSONString.append(key, escaping, to: &out)
                appendSeparator(":", style, to: &out)
                value.append(to: &out, style)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private func appendSeparator(_ separator: Unicode.Scalar, _ style: Style, to out: inout [UInt8]) {
        out.append(UInt8(ascii: separator))
        if style == .python { out.append(UInt8(ascii: " ")) }
    }

    /// Python's `repr(float)` for a finite double. Swift's `description` already prints the
    /// shortest round-trip digits with the same switch to exponent form (below 1e-4, from 1e16);
    /// only the exponent's sign and width need care, and Swift agrees there too ("1e-05", "1e+16").
    static func pythonRepr(_ value: Double) -> String {
        value.description
    }
}
