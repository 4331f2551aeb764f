import Foundation

/// A `.env` file, as python-dotenv reads it: `KEY=VALUE` lines, an optional `export ` prefix,
/// single or double quotes, `#` comments (whole lines, or after an unquoted value).
public enum DotEnv {
    /// The nearest `.env` file in `directory` or a folder above it, as python-dotenv's
    /// `find_dotenv` finds it: the first regular file named `.env` on the way up to `/`.
    public static func find(from directory: String) -> String? {
        var folder = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let candidate = folder.appendingPathComponent(".env").path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
    }

    public static func parse(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") || line.hasPrefix("export\t") {
                line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, !key.contains(" ") else { continue }
            result[key] = value(String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces))
        }
        return result
    }

    private static func value(_ raw: String) -> String {
        guard let quote = raw.first, quote == "\"" || quote == "'" else {
            // Unquoted: a comment starts at " #".
            if let hash = raw.range(of: " #") ?? raw.range(of: "\t#") {
                return raw[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            return raw
        }
        var output = ""
        var escaped = false
        for character in raw.dropFirst() {
            if escaped {
                switch character {
                case "n" where quote == "\"": output.append("\n")
                case "t" where quote == "\"": output.append("\t")
                default: output.append(character)
                }
                escaped = false
            } else if character == "\\" && quote == "\"" {
                escaped = true
            } else if character == quote {
                return output
            } else {
                output.append(character)
            }
        }
        return output  // no closing quote: take the rest
    }
}
