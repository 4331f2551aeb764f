import Foundation
import Testing
import TestSupport
@testable import Ledger

@Suite("Ledger files: creation, locking, schema versions and bad input")
struct LedgerFileTests {
    let dir: TemporaryDirectory
    init() throws { dir = try TemporaryDirectory("ledger-file") }

    func bytesAndModified(_ path: String) throws -> (Data, Date) {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (try Data(contentsOf: URL(fileURLWithPath: path)), attributes[.modificationDate] as! Date)
    }

    @discardableResult
    func expectError(_ code: LedgerError.Code, containing parts: [String], _ body: () throws -> Void) -> LedgerError? {
        do {
            try body()
            Issue.record("expected a \(code) error")
        } catch let error as LedgerError {
            #expect(error.code == code, "\(error.message)")
            for part in parts { #expect(error.message.contains(part), "\(error.message) should mention \(part)") }
            return error
        } catch {
            Issue.record("unexpected error \(error)")
        }
        return nil
    }

    @Test("a ledger and its WAL files are readable by the owner only")
    func ownerOnly() throws {
        let path = dir.path("perm.db")
        let ledger = try Ledger.create(at: path, run: LedgerFixtures.run(rows: 3), indices: 0..<3, nowMs: 0)
        _ = try ledger.claim(limit: 1, nowMs: 1, owner: "w")
        for file in [path, path + "-wal", path + "-shm", path + ".lock"] {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as! Int
            #expect(mode & 0o777 == 0o600, "\(file) has mode \(String(mode, radix: 8))")
        }
    }

    @Test("the ledger is in WAL mode with the chosen synchronous setting")
    func walAndDurability() throws {
        let path = dir.path("wal.db")
        _ = try Ledger.create(at: path, run: LedgerFixtures.run(rows: 1), indices: [0], durability: .full, nowMs: 0)
        let db = try Connection(path: path, flags: 1)
        let mode = try db.prepare("PRAGMA journal_mode")
        try mode.step(doing: "t")
        #expect(mode.text(0) == "wal")
    }

    @Test("creating over an existing file is refused and the file is kept")
    func createRefusesExisting() throws {
        let path = dir.path("exists.db")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
        let error = expectError(.alreadyExists, containing: [path, "choose another path"]) {
            _ = try Ledger.create(at: path, run: LedgerFixtures.run(rows: 1), indices: [0], nowMs: 0)
        }
        // The library names no command; the CLI adds `batch resume` from the path (LedgerHintTests).
        #expect(error?.path == path)
        #expect(error.map { !$0.message.contains("batch resume") } == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted() == ["exists.db", "exists.db.lock"])
    }

    @Test("a second writer is refused with the holder's pid while readers still work")
    func secondWriterRefused() throws {
        let path = dir.path("locked.db")
        let writer = try Ledger.create(at: path, run: LedgerFixtures.run(rows: 4), indices: 0..<4, nowMs: 0)
        expectError(.locked, containing: ["another process (pid \(getpid()))", path]) {
            _ = try Ledger(openForWriting: path)
        }
        _ = try writer.claim(limit: 2, nowMs: 1, owner: "w")
        let reader = try LedgerReader(path: path)
        #expect(try reader.counts() == StateCounts(pending: 2, inFlight: 2))
        try writer.complete(0, result: LedgerFixtures.result(0), attempt: LedgerFixtures.attempt(1), nowMs: 2)
        #expect(try reader.counts() == StateCounts(pending: 2, inFlight: 1, done: 1))
    }

    @Test("the lock is released when the writer goes away")
    func lockReleased() throws {
        let path = dir.path("relock.db")
        do { _ = try Ledger.create(at: path, run: LedgerFixtures.run(rows: 1), indices: [0], nowMs: 0) }
        _ = try Ledger(openForWriting: path)
    }

    @Test("a ledger created at schema version 1 upgrades in place without losing rows")
    func upgradeFromVersionOne() throws {
        let path = dir.path("v1.db")
        try Ledger.create(at: path, run: LedgerFixtures.run(rows: 5), indices: 0..<5, schemaVersion: 1, nowMs: 0)
        do {
            let old = try Connection(path: path, flags: 2 /* SQLITE_OPEN_READWRITE */)
            #expect(try Migrator.version(of: old) == 1)
            try old.execute("""
                UPDATE items SET state = 'done', attempts = 1 WHERE idx IN (1, 3);
                INSERT INTO results (idx, line, finished_at_ms) VALUES (1, '[1]', 5), (3, '[3]', 6);
                UPDATE items SET state = 'failed', attempts = 2, last_error = 'boom' WHERE idx = 4;
                """, doing: "filling a version-1 ledger")
        }
        let ledger = try Ledger(openForWriting: path)
        let db = try Connection(path: path, flags: 1)
        #expect(try Migrator.version(of: db) == Migrator.latestVersion)
        #expect(Migrator.latestVersion >= 2)
        #expect(try ledger.counts() == StateCounts(pending: 2, done: 2, failed: 1))
        var lines: [String] = []
        try ledger.forEachDone { lines.append($0.result.line) }
        #expect(lines == ["[1]", "[3]"])
        #expect(try ledger.failedRows().first?.lastError == "boom")
        _ = try ledger.claim(limit: 1, nowMs: 1, owner: "w")
        try ledger.complete(0, result: RowResult(line: "[0]", finishReason: "stop"), attempt: LedgerFixtures.attempt(1), nowMs: 2)
        var reasons: [String?] = []
        try ledger.forEachDone { reasons.append($0.result.finishReason) }
        #expect(reasons == ["stop", nil, nil])
    }

    @Test("a reader (status, export) of a version-4 ledger, not yet upgraded, reads its usage with no cache columns")
    func readerOfVersionFour() throws {
        let path = dir.path("v4.db")
        try Ledger.create(at: path, run: LedgerFixtures.run(rows: 2), indices: 0..<2, schemaVersion: 4, nowMs: 0)
        do {
            let old = try Connection(path: path, flags: 2 /* SQLITE_OPEN_READWRITE */)
            try old.execute("UPDATE usage_totals SET attempts = 3, prompt_tokens = 30, cost = 0.5", doing: "filling a version-4 ledger")
        }
        let reader = try LedgerReader(path: path)
        #expect(try reader.usage() == UsageTotals(attempts: 3, promptTokens: 30, cost: 0.5))
        let db = try Connection(path: path, flags: 1)
        #expect(try Migrator.version(of: db) == 4, "reading must not upgrade the file")
    }

    @Test("migrations are numbered 1, 2, 3... with no gaps")
    func migrationsContiguous() {
        #expect(EmbeddedMigrations.all.map(\.version) == Array(1...EmbeddedMigrations.all.count))
    }

    @Test("the embedded migrations are exactly the SQL files in migrations/")
    func embeddedMatchFiles() throws {
        let folder = Fixtures.repositoryRoot.appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.map { String($0.dropLast(4)) } == EmbeddedMigrations.all.map(\.name))
        for (file, migration) in zip(files, EmbeddedMigrations.all) {
            #expect(try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8) == migration.sql)
        }
    }

    @Test("a ledger newer than this binary is refused, naming both versions, and left unchanged")
    func newerSchemaRefused() throws {
        let path = dir.path("future.db")
        do { _ = try Ledger.create(at: path, run: LedgerFixtures.run(rows: 1), indices: [0], nowMs: 0) }
        do {
            let db = try Connection(path: path, flags: 2)
            try db.execute("PRAGMA user_version = 99", doing: "t")
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)", doing: "t")
        }
        let before = try bytesAndModified(path)
        expectError(.newerSchema, containing: ["99", "up to \(Migrator.latestVersion)", "upgrade batch"]) {
            _ = try Ledger(openForWriting: path)
        }
        expectError(.newerSchema, containing: ["99"]) { _ = try LedgerReader(path: path) }
        let after = try bytesAndModified(path)
        #expect(before.0 == after.0)
        #expect(before.1 == after.1)
    }

    static let badFiles: [(name: String, contents: [UInt8], code: LedgerError.Code, mentions: String)] = [
        ("text.db", Array("this is a text file, not a database\n".utf8), .notALedger, "not a SQLite database"),
        ("empty.db", [], .notALedger, "is empty"),
        ("short.db", Array("SQLite format 3".utf8) + [0, 16, 0], .damaged, "truncated"),
    ]

    @Test("a file that is not a ledger is refused and left unchanged", arguments: 0..<3)
    func badFileRefused(_ case_: Int) throws {
        let bad = Self.badFiles[case_]
        let path = dir.path(bad.name)
        try Data(bad.contents).write(to: URL(fileURLWithPath: path))
        let before = try bytesAndModified(path)
        expectError(bad.code, containing: [path, bad.mentions]) { _ = try Ledger(openForWriting: path) }
        expectError(bad.code, containing: [path]) { _ = try LedgerReader(path: path) }
        let after = try bytesAndModified(path)
        #expect(before.0 == after.0 && before.1 == after.1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == [bad.name])
    }

    @Test("a ledger cut short by a bad copy is reported as truncated and left unchanged")
    func truncatedLedger() throws {
        let path = dir.path("big.db")
        do {
            let ledger = try Ledger.create(at: path, run: LedgerFixtures.run(rows: 20_000), indices: 0..<20_000, nowMs: 0)
            _ = ledger
        }
        let full = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir.path("cut.db")
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: cut))
        let before = try bytesAndModified(cut)
        expectError(.damaged, containing: [cut, "truncated"]) { _ = try Ledger(openForWriting: cut) }
        #expect(try bytesAndModified(cut).0 == before.0)
    }

    @Test("a SQLite database from another program is not taken for a ledger")
    func foreignDatabase() throws {
        let path = dir.path("other.db")
        do {
            let db = try Connection(path: path, flags: 2 | 4 /* READWRITE | CREATE */)
            try db.execute("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('hi')", doing: "t")
        }
        let before = try bytesAndModified(path)
        expectError(.notALedger, containing: ["not a batch ledger"]) { _ = try Ledger(openForWriting: path) }
        #expect(try bytesAndModified(path).0 == before.0)
    }

    @Test("a missing ledger is a notFound error naming the path, and no command")
    func missingLedger() {
        let path = dir.path("nope.db")
        let error = expectError(.notFound, containing: [path]) { _ = try LedgerReader(path: path) }
        #expect(error?.path == path)
        #expect(error.map { !$0.message.contains("batch run") } == true)
    }

    @Test("a read-only folder gives a clear error and leaves nothing behind")
    func readOnlyFolder() throws {
        let folder = dir.url.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let existing = folder.appendingPathComponent("existing.db").path
        do { _ = try Ledger.create(at: existing, run: LedgerFixtures.run(rows: 2), indices: 0..<2, nowMs: 0) }
        try FileManager.default.removeItem(atPath: existing + ".lock")
        let readOnly = try ReadOnlyFolder(folder)
        defer { readOnly.restore() }
        let before = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        expectError(.io, containing: ["writable"]) {
            _ = try Ledger.create(at: folder.appendingPathComponent("new.db").path, run: LedgerFixtures.run(rows: 1), indices: [0], nowMs: 0)
        }
        expectError(.io, containing: ["writable"]) { _ = try Ledger(openForWriting: existing) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == before)
        #expect(try LedgerReader(path: existing).counts() == StateCounts(pending: 2))
    }
}

/// Makes a folder read-only for this process: `chmod 555` for an ordinary user, a read-only bind
/// mount for root (whom file modes do not stop).
struct ReadOnlyFolder {
    let url: URL
    let mounted: Bool

    init(_ url: URL) throws {
        self.url = url
        if geteuid() == 0 {
            try ReadOnlyFolder.sh("mount --bind '\(url.path)' '\(url.path)' && mount -o remount,ro,bind '\(url.path)'")
            mounted = true
        } else {
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: url.path)
            mounted = false
        }
    }

    func restore() {
        if mounted { try? ReadOnlyFolder.sh("umount '\(url.path)'") }
        else { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path) }
    }

    static func sh(_ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LedgerError(.io, "could not make a read-only folder for the test: \(command)")
        }
    }
}
