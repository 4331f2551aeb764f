/// An export (or a report, which reads ledgers and writes its file the same way) that cannot go
/// ahead: ledgers that do not belong together, outputs that clash, a quality check that does not
/// exist, or a file that cannot be written. The message says what to do; nothing was replaced.
public struct ExportError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
