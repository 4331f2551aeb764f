extension JSONValue {
    /// This value as Python's `json.dumps` writes it (see `JSONLine` for the escaping rules).
    /// Floats use the shortest round-trip form, as Python's `repr(float)` does: `1.0`, `1e-05`.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        append(to: &out)
        return out
    }

    /// `encoded()` as a String.
    public var jsonText: String { String(decoding: encoded(), as: UTF8.self) }

    /// Appends `encoded()`'s bytes to `out`.
    public func append(to out: inout [UInt8]) {
        switch self {
        case .null: JSONLine.appendASCII("null", to: &out)
        case .bool(let b): if b { JSONLine.appendASCII("true", to: &out) } else { JSONLine.appendASCII("false", to: &out) }
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: Self.pythonRepr(d).utf8)
        case .string(let s): JSONLine.appendString(s, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { JSONLine.appendASCII(", ", to: &out) }
                element.append(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { JSONLine.appendASCII(", ", to: &out) }
                JSONLine.appendString(key, to: &out)
                JSONLine.appendASCII(": ", to: &out)
                value.append(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Python's `repr(float)` for a finite double. Swift's `description` already prints the
    /// shortest round-trip digits with the same switch to exponent form (below 1e-4, from 1e16);
    /// only the exponent's sign and width need care, and Swift agrees there too ("1e-05", "1e+16").
    static func pythonRepr(_ value: Double) -> String {
        value.description
    }
}
