import Foundation
import Ledger
import Recipe

/// What the ledger's `run.config` column holds: the settings and what the recipe resolved to.
/// Never a secret.
public struct StoredRunConfig: Codable, Sendable, Equatable {
    public var settings: RunSettings
    public var model: String
    public var recipeName: String

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func decode(_ text: String, ledger path: String) throws -> StoredRunConfig {
        do {
            return try JSONDecoder().decode(StoredRunConfig.self, from: Data(text.utf8))
        } catch {
            throw RunSetupError("the run settings stored in \(path) cannot be read (\(error)); the ledger may be damaged")
        }
    }
}

/// Parses `K/N` (0 <= K < N).
public func parseShard(_ text: String) throws -> Shard {
    let parts = text.split(separator: "/")
    guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 0, k < n else {
        throw RunSetupError("--shard must be K/N with 0 <= K < N (for example 0/4), not \(text)")
    }
    return Shard(index: k, count: n)
}
