/// A setup problem the user can fix: the message says what to do.
public struct RunSetupError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// The flags given do not fit together or with the ledger (a `{shard}` placeholder without a
    /// shard, another shard's ledger): the CLI reports it as a usage error.
    public let isUsage: Bool

    public init(_ message: String, usage: Bool = false) {
        self.message = message
        self.isUsage = usage
    }

    public var description: String { message }
}
