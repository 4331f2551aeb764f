/// Applies the embedded `migrations/NNNN_name.sql` files in order, each in its own transaction,
/// recording the version reached in `PRAGMA user_version`.
enum Migrator {
    static var latestVersion: Int { EmbeddedMigrations.all.last?.version ?? 0 }

    static func version(of connection: Connection) throws(LedgerError) -> Int {
        let statement = try connection.prepare("PRAGMA user_version")
        try statement.step(doing: "reading the schema version")
        return statement.int(0)
    }

    /// Refuses a ledger written by a newer batch before anything is changed.
    static func checkKnown(_ version: Int, path: String) throws(LedgerError) {
        if version > latestVersion {
            throw LedgerError(
                .newerSchema,
                "\(path) has schema version \(version), but this batch knows versions up to \(latestVersion); upgrade batch to open it"
            )
        }
    }

    /// Brings the schema to `target` (default: the latest), returning the versions applied.
    @discardableResult
    static func migrate(_ connection: Connection, to target: Int = latestVersion) throws(LedgerError) -> [Int] {
        let current = try version(of: connection)
        try checkKnown(current, path: connection.path)
        var applied: [Int] = []
        for migration in EmbeddedMigrations.all where migration.version > current && migration.version <= target {
            try connection.transaction(doing: "applying migration \(migration.name)") { () throws(LedgerError) in
                try connection.execute(migration.sql, doing: "applying migration \(migration.name)")
                try connection.execute("PRAGMA user_version = \(migration.version)", doing: "recording migration \(migration.name)")
            }
            applied.append(migration.version)
        }
        return applied
    }
}
