import ArgumentParser
import Ledger
import Testing
import TestSupport
@testable import batch

/// The Ledger library names no command in its errors; the CLI adds the hint users see.
@Suite("Ledger errors get the CLI's command hints")
struct LedgerHintTests {
    @Test("a missing ledger: start one with batch run")
    func notFound() {
        let hinted = LedgerHints.adding(to: LedgerError(.notFound, "no ledger at x.db", path: "x.db"))
        #expect("\(hinted)" == "no ledger at x.db; start one with `batch run --ledger x.db ...`")
        #expect((hinted as? LedgerError)?.code == .notFound)
    }

    @Test("an existing ledger: continue it with batch resume")
    func alreadyExists() {
        let hinted = LedgerHints.adding(to: LedgerError(.alreadyExists, "x.db already exists; choose another path", path: "x.db"))
        #expect("\(hinted)" == "x.db already exists; continue it with `batch resume --ledger x.db` or choose another path")
        #expect((hinted as? LedgerError)?.code == .alreadyExists)
    }

    @Test("the binary prints the hinted message of a missing ledger and exits 1")
    func binary() async throws {
        let dir = try TemporaryDirectory("ledger-hint")
        defer { dir.remove() }
        let path = dir.path("nope.db")
        let result = try await runBatch(["status", "--ledger", path])
        #expect(result.status == BatchExitCode.error, "\(result.output)")
        #expect(result.stderr.contains("Error: no ledger at \(path); start one with `batch run --ledger \(path) ...`"), "\(result.stderr)")
    }

    @Test("other errors, and errors without a path, are left as they are")
    func othersUnchanged() {
        let locked = LedgerError(.locked, "held by another process", path: "x.db")
        #expect(LedgerHints.adding(to: locked) as? LedgerError == locked)
        let race = LedgerError(.alreadyExists, "cannot create x.db: it appeared meanwhile")
        #expect(LedgerHints.adding(to: race) as? LedgerError == race)
        #expect("\(LedgerHints.adding(to: ValidationError("v")))" == "v")
    }
}
