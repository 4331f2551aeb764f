import Foundation
import Testing
import TestSupport

/// Issue #11, item 1: an export never writes onto a ledger or its files, however the path is
/// spelled; pipes and standard output are written through; regular files are replaced
/// atomically, output and metadata together; a failed export changes nothing.
@Suite("export never loses a ledger or a file it should not touch")
struct ExportSafetyTests {
    /// A finished 12-row ledger (`kx.db`) and a second one with failed rows (`ky.db`), in `dir`.
    static func ledgers(in dir: TemporaryDirectory) async throws -> (complete: String, incomplete: String) {
        let sim = try await SimulatorProcess([])
        let complete = dir.path("kx.db")
        let ok = try await runBatch(["run", "--ledger", complete, "--recipe", RunSupport.recipePath, "--num", "12",
                                     "--base-url", sim.baseURL] + RunSupport.fastRetries)
        #expect(ok.status == 0, "\(ok.output)")
        await sim.stop()
        let failing = try await SimulatorProcess(["--fail-bad-conversation", "0.5", "--seed", "4"])
        let incomplete = dir.path("ky.db")
        _ = try await runBatch(["run", "--ledger", incomplete, "--recipe", RunSupport.recipePath, "--num", "12", "--max-attempts", "1",
                                "--base-url", failing.baseURL] + RunSupport.fastRetries)
        await failing.stop()
        return (complete, incomplete)
    }

    static func sha(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test("--output or --metadata naming the ledger or its -wal/-shm/.lock, by any spelling, is refused and the ledger survives")
    func neverOntoALedger() async throws {
        let dir = try TemporaryDirectory("export-ledger")
        defer { dir.remove() }
        let (ledger, _) = try await Self.ledgers(in: dir)
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir.path("sub"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: dir.path("link.jsonl"), withDestinationPath: ledger)
        try fm.linkItem(atPath: ledger, toPath: dir.path("hard.jsonl"))
        let before = Self.sha(ledger)
        let spellings = [ledger, dir.path("sub/../kx.db"), dir.path("link.jsonl"), dir.path("hard.jsonl"),
                         ledger + "-wal", ledger + "-shm", ledger + ".lock", dir.path("sub/../kx.db-wal")]
        for spelling in spellings {
            for flag in ["--output", "--metadata"] {
                let other = dir.path("other.jsonl")
                let arguments = flag == "--output"
                    ? ["export", "--ledger", ledger, "--output", spelling]
                    : ["export", "--ledger", ledger, "--output", other, "--metadata", spelling]
                let result = try await runBatch(arguments)
                #expect(result.status == 1, "\(flag) \(spelling): \(result.output)")
                #expect(result.stderr.contains("never writes over a ledger"), "\(result.stderr)")
                #expect(!fm.fileExists(atPath: other), "nothing is written when a destination is refused")
            }
        }
        #expect(Self.sha(ledger) == before)
        #expect(((try? fm.destinationOfSymbolicLink(atPath: dir.path("link.jsonl"))) ?? "") == ledger)
        let status = try await RunSupport.status([ledger])
        #expect(RunSupport.int(status, "done") == 12)
    }

    @Test("a FIFO is written through (it stays a FIFO and its reader gets every row), and so is - (standard output)")
    func pipesWrittenThrough() async throws {
        let dir = try TemporaryDirectory("export-fifo")
        defer { dir.remove() }
        let (ledger, _) = try await Self.ledgers(in: dir)
        let fifo = dir.path("rows.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/cat")
        reader.arguments = [fifo]
        let pipe = Pipe()
        reader.standardOutput = pipe
        try reader.run()
        let export = try await runBatch(["export", "--ledger", ledger, "--output", fifo])
        #expect(export.status == 0, "\(export.output)")
        var info = stat()
        let stillFIFO = lstat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO
        #expect(stillFIFO, "the FIFO is still a FIFO")
        if !stillFIFO { reader.terminate() }  // replaced: no writer will ever open it
        let received = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        reader.waitUntilExit()
        #expect(received.split(separator: "\n").count == 12)

        let stdout = try await runBatch(["export", "--ledger", ledger, "--output", "-"])
        #expect(stdout.status == 0)
        #expect(stdout.stdout.split(separator: "\n").count == 12)
        #expect(stdout.stdout == received)
        let devStdout = try await runBatch(["export", "--ledger", ledger, "--output", "/dev/stdout"])
        #expect(devStdout.stdout == received)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/dev/stdout") == "/proc/self/fd/1")
    }

    @Test("a symbolic link to a file is written through: the link stays and its target gets the rows")
    func symlinkWrittenThrough() async throws {
        let dir = try TemporaryDirectory("export-symlink")
        defer { dir.remove() }
        let (ledger, _) = try await Self.ledgers(in: dir)
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: dir.path("real.jsonl")))
        try FileManager.default.createSymbolicLink(atPath: dir.path("link.jsonl"), withDestinationPath: "real.jsonl")
        let export = try await runBatch(["export", "--ledger", ledger, "--output", dir.path("link.jsonl")])
        #expect(export.status == 0, "\(export.output)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.path("link.jsonl")) == "real.jsonl")
        #expect(try String(contentsOfFile: dir.path("real.jsonl"), encoding: .utf8).split(separator: "\n").count == 12)
    }

    @Test("--require-complete on an incomplete run exits 2 and writes nothing; a failing --metadata leaves --output as it was")
    func failuresWriteNothing() async throws {
        let dir = try TemporaryDirectory("export-fail")
        defer { dir.remove() }
        let (complete, incomplete) = try await Self.ledgers(in: dir)
        let output = dir.path("out.jsonl"), metadata = dir.path("out.meta.jsonl")
        try Data("previous\n".utf8).write(to: URL(fileURLWithPath: output))
        let strict = try await runBatch(["export", "--ledger", incomplete, "--output", output, "--metadata", metadata, "--require-complete"])
        #expect(strict.status == 2, "\(strict.output)")
        #expect(strict.stderr.contains("nothing was written"))
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "previous\n")
        #expect(!FileManager.default.fileExists(atPath: metadata))

        let badMetadata = try await runBatch(["export", "--ledger", complete, "--output", output, "--metadata", dir.path("missing/meta.jsonl")])
        #expect(badMetadata.status == 1)
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "previous\n")

        let both = try await runBatch(["export", "--ledger", complete, "--output", output, "--metadata", metadata])
        #expect(both.status == 0)
        #expect(try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").count == 12)
        #expect(try String(contentsOfFile: metadata, encoding: .utf8).split(separator: "\n").count == 12)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).filter { $0.contains("partial") || $0.contains("batch-export") } == [])
    }

    @Test("files a killed export left behind are removed by the next export")
    func leftoversCleaned() async throws {
        let dir = try TemporaryDirectory("export-leftovers")
        defer { dir.remove() }
        let (ledger, _) = try await Self.ledgers(in: dir)
        // A pid that is certainly gone: a process that has exited.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let pid = gone.processIdentifier
        let leftovers = [".out.jsonl.batch-export-\(pid).partial", ".out.jsonl.batch-export-\(pid).old", "out.jsonl.partial-\(pid)"]
        for name in leftovers { try Data(repeating: 7, count: 1_000).write(to: URL(fileURLWithPath: dir.path(name))) }
        // A running process's temporary file is not touched.
        let live = ".out.jsonl.batch-export-\(getpid() == 1 ? 2 : 1).partial"
        try Data().write(to: URL(fileURLWithPath: dir.path(live)))
        let export = try await runBatch(["export", "--ledger", ledger, "--output", dir.path("out.jsonl")])
        #expect(export.status == 0, "\(export.output)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.url.path)
        for name in leftovers { #expect(!names.contains(name), "\(name) is still there") }
        #expect(names.contains(live))
    }
}
