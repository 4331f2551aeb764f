import Wire

/// Why a model's answer was not accepted: which message and why. Never quotes the whole
/// answer (only short fragments like a wrong role name, cut to a few dozen characters).
public struct ConversationError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        public var description: String { name }
        public static let notJSON = Kind(name: "not JSON")
        public static let wrongShape = Kind(name: "wrong shape")
        public static let tooFewMessages = Kind(name: "too few messages")
        public static let tooManyMessages = Kind(name: "too many messages")
        public static let wrongRole = Kind(name: "wrong role")
        public static let notAString = Kind(name: "not a string")
        public static let emptyContent = Kind(name: "empty content")
        public static let nonASCII = Kind(name: "non-ASCII content")
        public static let endsOnUser = Kind(name: "ends on a user turn")
    }

    public let kind: Kind
    /// The 0-based position in `messages` at fault, or nil when the whole answer is.
    public let messageIndex: Int?
    public let reason: String

    public init(_ kind: Kind, message index: Int? = nil, _ reason: String) {
        self.kind = kind
        self.messageIndex = index
        self.reason = reason
    }

    public var description: String {
        guard let messageIndex else { return reason }
        return "messages[\(messageIndex)]: \(reason)"
    }

    /// `text` cut to `limit` characters, for quoting a fragment safely.
    static func quote(_ text: String, limit: Int = 40) -> String {
        let cut = text.unicodeScalars.count > limit ? String(text.unicodeScalars.prefix(limit)) + "..." : text
        return JSONString.encode(cut)
    }
}
