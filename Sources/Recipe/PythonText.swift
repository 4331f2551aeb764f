/// Text handling that matches what CPython does to the seed's strings, so prompts stay byte-identical.
enum PythonText {
    /// Whether `scalar` is whitespace for Python's `str.isspace()` / `str.strip()`.
    ///
    /// Python's set differs from Swift's `Character.isWhitespace`: it includes the
    /// information separators U+001C...U+001F and excludes U+180E and U+200B.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A,
             0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python's `str.strip()` with no arguments.
    static func strip(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isWhitespace($0) }),
              let last = scalars.lastIndex(where: { !isWhitespace($0) })
        else { return "" }
        return String(scalars[first...last])
    }

    /// What Python's text-mode `open(path, encoding="utf-8").read()` returns for these bytes:
    /// universal newlines turn `\r\n` and a lone `\r` into `\n`. A byte-order mark is kept,
    /// as the `utf-8` codec keeps it. Returns nil when the bytes are not valid UTF-8.
    static func readText(_ bytes: [UInt8]) -> String? {
        guard let raw = String(validating: bytes, as: UTF8.self) else { return nil }
        guard bytes.contains(0x0D) else { return raw }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x0D {
                out.append(0x0A)
                if i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
            } else {
                out.append(byte)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
