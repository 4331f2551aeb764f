import Foundation

/// One line of a JSONL fixture as a dictionary (parsed with Foundation, independently of
/// the project's own parser).
public func jsonObject(_ line: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
    guard let dictionary = object as? [String: Any] else { throw FixtureError(message: "not an object: \(line.prefix(80))") }
    return dictionary
}

public struct FixtureError: Error {
    public let message: String
}

extension String {
    /// Byte-for-byte equality (Swift's `==` on String uses canonical equivalence).
    public func sameBytes(_ other: String) -> Bool { utf8.elementsEqual(other.utf8) }
}
