/// A recipe that cannot be used. The description names the file, the field and what is wrong,
/// e.g. `recipes/mine/recipe.json: personas: the list is empty; add at least one persona`.
public struct RecipeError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of problem this is, for callers and tests that branch on it.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private let name: String
        public var description: String { name }
        public static let unreadableFile = Kind(name: "unreadable file")
        public static let invalidJSON = Kind(name: "invalid JSON")
        public static let missingField = Kind(name: "missing field")
        public static let unknownField = Kind(name: "unknown field")
        public static let wrongType = Kind(name: "wrong type")
        public static let emptyList = Kind(name: "empty list")
        public static let invalidValue = Kind(name: "invalid value")
        public static let missingPlaceholder = Kind(name: "missing placeholder")
        public static let unknownPlaceholder = Kind(name: "unknown placeholder")
        public static let invalidTemplate = Kind(name: "invalid template")
        public static let snapshotMismatch = Kind(name: "snapshot mismatch")
    }

    public let kind: Kind
    /// The file the problem is in or was named from (usually the recipe file).
    public let file: String
    /// The field, as a path like `topics.identity[2]`; nil when the whole file is at fault.
    public let field: String?
    /// What is wrong and, where it helps, what to do.
    public let problem: String

    public init(_ kind: Kind, file: String, field: String?, _ problem: String) {
        self.kind = kind
        self.file = file
        self.field = field
        self.problem = problem
    }

    public var description: String {
        if let field { return "\(file): \(field): \(problem)" }
        return "\(file): \(problem)"
    }
}
