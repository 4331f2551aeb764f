/// An error from a ledger operation. The message says what was being done and what to do about
/// it; it never holds row contents or secrets.
public struct LedgerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, for callers that branch on it. New codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The file exists but is not a SQLite database, or not one that batch wrote.
        public static let notALedger = Code("not_a_ledger")
        /// The file is shorter than its own header says: truncated by a copy or a full disk.
        public static let damaged = Code("damaged")
        /// The ledger was written by a newer batch whose schema this binary does not know.
        public static let newerSchema = Code("newer_schema")
        /// Another process holds the ledger for writing.
        public static let locked = Code("locked")
        /// No ledger at the path.
        public static let notFound = Code("not_found")
        /// A ledger (or another file) is already at the path.
        public static let alreadyExists = Code("already_exists")
        /// The file or its folder cannot be read or written.
        public static let io = Code("io")
        /// The disk holding the ledger is full. The transaction was rolled back: the ledger is intact.
        public static let diskFull = Code("disk_full")
        /// A change to the plan that the ledger refuses (for example extending a run to no more rows than it plans).
        public static let invalidPlan = Code("invalid_plan")
        /// A state transition that the ledger's rules forbid (for example completing a row that is not in flight).
        public static let invalidTransition = Code("invalid_transition")
        /// Any other SQLite failure.
        public static let sqlite = Code("sqlite")
    }

    public let code: Code
    public let message: String
    /// The ledger the error is about, when the message names one (`notFound`, `alreadyExists`):
    /// a caller can then add its own advice, such as which command to run next. The library's
    /// messages name no command of the `batch` tool.
    public let path: String?

    public init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    public var description: String { message }
}
