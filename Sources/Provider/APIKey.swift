import Foundation

/// An API key. Its descriptions are redacted, so interpolating or dumping it leaks nothing;
/// only ``ChatClient`` reads ``value``, to build the `Authorization` header.
public struct APIKey: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself. Never log, store or print it.
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "APIKey(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// Why no API key could be found; the message says how to provide one.
public struct APIKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let envName: String
    public let message: String

    public var description: String { message }
}

/// Finds the API key the way the seed script does: the environment first, then a `.env` file.
public enum APIKeyResolver {
    public static let defaultEnvName = "OPENROUTER_API_KEY"

    /// - Parameters:
    ///   - envName: the variable that holds the key (`--api-key-env`).
    ///   - environment: the process environment (injected for tests); it wins over `.env`.
    ///   - dotEnvDirectory: where the search for `.env` starts (the working directory); the
    ///     nearest `.env` in it or a folder above it is read, as python-dotenv's `find_dotenv`.
    public static func resolve(envName: String, environment: [String: String], dotEnvDirectory: String) throws -> APIKey {
        if let value = environment[envName]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
            return try checked(value, envName: envName, source: "the environment variable \(envName)")
        }
        let found = DotEnv.find(from: dotEnvDirectory)
        if let path = found, let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self)
            if let value = DotEnv.parse(text)[envName], !value.isEmpty {
                return try checked(value, envName: envName, source: "\(envName) in \(path)")
            }
        }
        let looked = found.map { "in \($0)" } ?? "in a .env file in \(dotEnvDirectory) or any folder above it"
        throw APIKeyError(envName: envName, message: """
            no API key: \(envName) is not set in the environment or \(looked). \
            Set it with `export \(envName)=...`, or put the line `\(envName)=...` in .env in the \
            working directory or a folder above it. To try batch without a key, run `batch demo`, or point --base-url \
            at a local `batch simulate` server.
            """)
    }
}

extension APIKeyResolver {
    /// The key goes into an HTTP header line: a CR or LF in it would end that line and start
    /// another header of the key-holder's choosing (and any control character breaks the
    /// request). Such a key is refused, without showing it.
    static func checked(_ value: String, envName: String, source: String) throws -> APIKey {
        guard let bad = value.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            return APIKey(value)
        }
        let what = bad == "\r" || bad == "\n" ? "a line break" : "a control character (U+\(String(bad.value, radix: 16, uppercase: true)))"
        throw APIKeyError(envName: envName, message: """
            the API key in \(source) contains \(what), which would corrupt the request's headers; \
            a key is one line of printable characters. Set it again, for example \
            `export \(envName)="$(printf %s "$KEY" | tr -d '\\r\\n')"`, or fix the line in .env.
            """)
    }
}
