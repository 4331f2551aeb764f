import CSQLite

/// Direct SQL on a ledger file, read-only: the number a test checks a command's output against,
/// counted without going through the code under test.
public enum SQLiteProbe {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The first column of every row of `sql`, as integers (NULL as 0).
    public static func integers(_ path: String, _ sql: String) throws -> [Int64] {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            defer { sqlite3_close(db) }
            throw Failure(description: "cannot open \(path): \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_close(db) }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            throw Failure(description: "\(sql): \(String(cString: sqlite3_errmsg(db)))")
        }
        defer { sqlite3_finalize(statement) }
        var values: [Int64] = []
        while sqlite3_step(statement) == SQLITE_ROW { values.append(sqlite3_column_int64(statement, 0)) }
        return values
    }

    /// The one integer `sql` selects.
    public static func integer(_ path: String, _ sql: String) throws -> Int64 {
        guard let value = try integers(path, sql).first else { throw Failure(description: "\(sql) selected no row") }
        return value
    }
}
