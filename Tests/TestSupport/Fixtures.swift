import Foundation

/// Files under `Tests/Fixtures` (copied from `../shared/fixtures`, so tests run without it).
public enum Fixtures {
    public static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // TestSupport
        .deletingLastPathComponent()   // Tests
        .appendingPathComponent("Fixtures", isDirectory: true)

    /// The repository's root folder (where Package.swift, recipes/ and migrations/ live).
    public static let repositoryRoot: URL = directory
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    public static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    public static func lines(_ name: String) throws -> [String] {
        try String(contentsOf: url(name), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true)
            .map(String.init)
    }
}
