/// A setup problem the user can fix: the message says what to do.
public struct RunSetupError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
