import Foundation
import Recipe
import Wire

/// A check a done row can fail; `export --drop` leaves out rows that fail the chosen ones.
public enum QualityCheck: String, Sendable, CaseIterable, Codable {
    /// The conversation equals an earlier row's (the lowest index of each group is kept).
    case exactDuplicates = "exact-duplicates"
    /// Estimated Jaccard similarity of word shingles at or above the threshold with an earlier row.
    case nearDuplicates = "near-duplicates"
    /// The dynamic names a length ("short 2-turn") and the conversation has another number of messages.
    case shapeMismatch = "shape-mismatch"
    /// Some message has a character outside ASCII (the seed's prompt asks for plain ASCII).
    case nonASCII = "non-ascii"
    /// The first user message is not short like the first-message examples drawn for the row.
    case firstMessageStyle = "first-message-style"

    /// `near-duplicates,shape-mismatch` -> the checks; throws naming what is not one.
    public static func parseList(_ text: String) throws -> [QualityCheck] {
        try text.split(separator: ",").map { part in
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let check = QualityCheck(rawValue: name) else {
                throw ExportError("--drop: \(name) is not a check; the checks are \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return check
        }
    }
}

/// What one exported line holds, read once for every check.
public struct ConversationFacts: Sendable {
    public var messages: [ChatMessage]
    public var userCharacters = 0
    public var assistantCharacters = 0
    public var nonASCII = false

    /// Parses an exported line (`[{"role": ..., "content": ...}, ...]`); nil when it is not one.
    public init?(line: String) {
        guard case .array(let items)? = try? JSONParser.parse(line) else { return nil }
        messages = []
        messages.reserveCapacity(items.count)
        for item in items {
            guard let role = item["role"]?.stringValue, let content = item["content"]?.stringValue else { return nil }
            messages.append(ChatMessage(role: role, content: content))
            let ascii = !content.utf8.contains(where: { $0 >= 0x80 })
            let count = ascii ? content.utf8.count : content.unicodeScalars.count
            if role == "user" { userCharacters += count } else { assistantCharacters += count }
            if !ascii { nonASCII = true }
        }
    }

    public var firstUserMessage: String? { messages.first { $0.role == "user" }?.content }

    /// Every message's content, newline-separated (what near-duplicates are judged on).
    public var text: String { messages.map(\.content).joined(separator: "\n") }
}

/// The rules behind the checks, each a pure function of the row and its draw.
public enum RowRules {
    /// The number of messages a dynamic asks for ("short 2-turn": 2), nil when it names none.
    public static func expectedMessages(dynamic: String) -> Int? { DynamicShape.messages(in: dynamic) }

    /// Whether the first user message is in the style of the examples drawn for its row: no
    /// longer than twice the longest example's words plus two. The examples are greetings and
    /// one-line openers ("hi", "yo nanochat, what's new"); a paragraph is not in their style.
    /// `examples` is the draw's `- example` lines.
    public static func firstMessageInStyle(_ message: String, examples: String) -> Bool {
        let longest = examples.split(separator: "\n").map { words(in: $0.dropFirst(2)) }.max() ?? 0
        return words(in: Substring(message)) <= 2 * longest + 2
    }

    static func words(in text: Substring) -> Int {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).count
    }
}
