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
