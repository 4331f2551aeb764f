import Foundation
import Ledger
import Provider
import Recipe

/// Creating and reopening run ledgers, and building the provider client for them.
public enum RunSetup {
    /// Creates the ledger of a new run. Refuses an existing file: the same run is continued with
    /// `batch resume`; a different one never overwrites it.
    public static func create(
        ledgerPath: String, recipe: Recipe, num: Int64, shard: Shard?, settings: RunSettings,
        durability: Durability, nowMs: Int64
    ) throws -> Ledger {
        if FileManager.default.fileExists(atPath: ledgerPath) {
            if let reader = try? LedgerReader(path: ledgerPath), let existing = try? reader.run() {
                if existing.recipeSHA256 == recipe.snapshot.recipeSHA256 && existing.plannedRows == num && existing.shard == shard {
                    throw RunSetupError("\(ledgerPath) already holds this run; continue it with `batch resume --ledger \(ledgerPath)`")
                }
                throw RunSetupError("""
                    \(ledgerPath) holds a different run (\(existing.plannedRows) rows, recipe \(existing.recipeSHA256.prefix(12)), \
                    shard \(existing.shard?.description ?? "none")); choose another --ledger, or resume that run with `batch resume`
                    """)
            }
            throw RunSetupError("\(ledgerPath) already exists and is not a batch ledger; choose another --ledger")
        }
        let snapshot = String(decoding: try JSONEncoder().encode(recipe.snapshot), as: UTF8.self)
        let config = StoredRunConfig(settings: settings, model: recipe.model, recipeName: recipe.name)
        let record = RunRecord(
            runID: UUID().uuidString.lowercased(), createdAtMs: nowMs, plannedRows: num, shard: shard,
            recipeSHA256: recipe.snapshot.recipeSHA256, recipeSnapshot: snapshot, config: config.json())
        return try Ledger.create(at: ledgerPath, run: record, indices: shardIndices(num: num, shard: shard),
                                 durability: durability, nowMs: nowMs)
    }

    /// An existing run: its ledger open for writing, the recipe rebuilt from the stored snapshot
    /// (not from files on disk, which may have changed), and its stored settings.
    public static func open(ledgerPath: String, durability: Durability) throws -> (Ledger, Recipe, StoredRunConfig, RunRecord) {
        let ledger = try Ledger(openForWriting: ledgerPath, durability: durability)
        let run = try ledger.run()
        let recipe = try recipe(of: run, ledgerPath: ledgerPath)
        let config = try StoredRunConfig.decode(run.config, ledger: ledgerPath)
        return (ledger, recipe, config, run)
    }

    /// An existing run to continue (`resume`, `retry`, `extend`, `cancel-batches`): the ledger
    /// at `ledgerPattern` (`{shard}` replaced by `shard`'s index), refused when it holds another
    /// shard than `shard`; its stored settings with the array's rows brought up to date (`batch
    /// extend` may have raised the plan since) and `overrides` applied.
    public static func reopen(
        ledgerPattern: String, shard: Shard?, durability: Durability, overrides: RunSettingsOverrides?
    ) throws -> (Ledger, Recipe, RunSettings) {
        let path = try ShardRules.ledgerPath(ledgerPattern, shard: shard)
        let (handle, recipe, stored, run) = try open(ledgerPath: path, durability: durability)
        try ShardRules.check(ledgerPath: path, holds: run.shard, expected: shard)
        return (handle, recipe, settings(stored: stored.settings, plannedRows: run.plannedRows, overrides: overrides))
    }

    /// The settings a continued run goes on with: the stored ones, the whole array's rows (for
    /// each shard's share of its limits) set to what the ledger now plans, then `overrides`.
    public static func settings(stored: RunSettings, plannedRows: Int64, overrides: RunSettingsOverrides?) -> RunSettings {
        var settings = stored
        settings.array?.num = plannedRows
        overrides?.apply(to: &settings)
        return settings
    }

    /// The recipe a run was planned with, rebuilt from the snapshot its ledger stores.
    public static func recipe(of run: RunRecord, ledgerPath: String) throws -> Recipe {
        let snapshot: RecipeSnapshot
        do {
            snapshot = try JSONDecoder().decode(RecipeSnapshot.self, from: Data(run.recipeSnapshot.utf8))
        } catch {
            throw RunSetupError("the recipe snapshot stored in \(ledgerPath) cannot be read; the ledger may be damaged")
        }
        return try Recipe(snapshot: snapshot)
    }

    /// A chat client for `settings` over a new libcurl transport. The API key comes from the
    /// environment variable `settings.apiKeyEnv` or a `.env` file; a local (loopback) endpoint
    /// such as `batch simulate` may go without one.
    public static func client(
        settings: RunSettings, recipe: Recipe, environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) throws -> (ChatClient, CurlTransport) {
        let key = try apiKey(settings: settings, environment: environment, workingDirectory: workingDirectory)
        let transport = try CurlTransport(options: transportOptions(settings: settings, environment: environment))
        let config = ProviderConfig(
            baseURL: settings.baseURL, apiKey: key, apiKeyEnvName: settings.apiKeyEnv, headers: recipe.headers,
            connectTimeout: .milliseconds(settings.connectTimeoutMs), requestDeadline: .milliseconds(settings.requestDeadlineMs),
            maxRetryAfter: .milliseconds(settings.maxRetryAfterMs))
        return (ChatClient(transport: transport, config: config), transport)
    }

    /// How the transport connects for `settings`: the CA file from `--ca-cert`, else
    /// `SSL_CERT_FILE` or `CURL_CA_BUNDLE`; HTTP/1.1 only with `--http1.1`. Throws when the CA
    /// file named cannot be read, before anything is sent.
    public static func transportOptions(
        settings: RunSettings, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> CurlTransportOptions {
        let named: (String, String)? = settings.caCert.map { ("--ca-cert", $0) }
            ?? environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : ("SSL_CERT_FILE", $0) }
            ?? environment["CURL_CA_BUNDLE"].flatMap { $0.isEmpty ? nil : ("CURL_CA_BUNDLE", $0) }
        if let (source, path) = named {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  FileManager.default.isReadableFile(atPath: path) else {
                throw RunSetupError("\(source) names \(path), which is not a readable file; give the PEM file of the certificate authorities to trust")
            }
        }
        return CurlTransportOptions(
            maxConnections: max(16, settings.concurrency),
            caFile: named?.1,
            httpVersion: settings.httpVersion == CurlTransportOptions.HTTPVersion.http1_1.rawValue ? .http1_1 : .automatic)
    }

    /// The API key for `settings`: from the variable `settings.apiKeyEnv` or a `.env` file; nil
    /// for a loopback endpoint without one. Throws (saying how to set it) when a real endpoint has none.
    public static func apiKey(
        settings: RunSettings, environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) throws -> APIKey? {
        do {
            return try APIKeyResolver.resolve(envName: settings.apiKeyEnv, environment: environment, dotEnvDirectory: workingDirectory)
        } catch {
            guard isLoopback(settings.baseURL) else { throw error }
            return nil
        }
    }

    /// True for http(s) URLs whose host is on this machine (127.0.0.0/8, localhost, [::1]).
    public static func isLoopback(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host?.lowercased() else { return false }
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
