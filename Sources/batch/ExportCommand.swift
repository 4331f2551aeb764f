import ArgumentParser
import BatchRunner

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write done rows as JSONL in index order, byte for byte as the seed writes them.",
        discussion: """
        Each line is a JSON array of {"role", "content"} messages, the format nanochat's CustomJSON task loads. Several ledgers (the shards of one run) merge into one file in global index order; ledgers of different runs are refused. A regular file is written under a temporary name and renamed into place (output and metadata together), and re-running gives the same bytes; a pipe, a device or - (standard output) is written through as rows are read. An export never writes over a ledger or its -wal, -shm or .lock files, however the path is spelled.
        """
    )

    @Option(help: ArgumentHelp("A ledger; repeat for the shards of one run.", valueName: "path")) var ledger: [String]
    @Option(help: ArgumentHelp("The JSONL file to write.", valueName: "file")) var output: String
    @Option(help: ArgumentHelp("Also write one metadata object per line (index, topic, persona, dynamic, model, tokens, cost), aligned with the output.", valueName: "file"))
    var metadata: String?
    @Option(help: "messages (one array per line) or seed-metadata ({\"messages\", \"metadata\"} per line, as the seed's --save-metadata).")
    var format: String = "messages"
    @Flag(help: "Fail (exit 2), writing nothing, when any planned index is not done.") var requireComplete = false
    @Option(help: ArgumentHelp(
        "Leave out rows failing these quality checks (comma-separated): exact-duplicates, near-duplicates, shape-mismatch, non-ascii, first-message-style; `batch report` shows how many fail each. Duplicates keep the lowest index of each group. The rows left out go to --rejects with their reasons.",
        valueName: "checks"))
    var drop: String?
    @Option(help: ArgumentHelp("With --drop: where the rows left out go, one {\"index\", \"reasons\", \"messages\"} object per line (default: the output's name with .rejects.jsonl; required when the output is a pipe or -).", valueName: "file"))
    var rejects: String?
    @Option(help: ArgumentHelp("With --drop near-duplicates: the similarity (0-1) from which a row counts as a near-duplicate.", valueName: "0-1"))
    var nearDuplicateThreshold = 0.8

    func validate() throws {
        if ledger.isEmpty { throw ValidationError("give at least one --ledger") }
        if ExportFormat(rawValue: format) == nil { throw ValidationError("--format is messages or seed-metadata") }
        if metadata == output { throw ValidationError("--metadata must be a different file from --output") }
        if let drop { _ = try parseDrop(drop) }
        if drop == nil && rejects != nil { throw ValidationError("--rejects is where --drop puts the rows it leaves out; give --drop CHECKS too") }
        guard nearDuplicateThreshold > 0 && nearDuplicateThreshold <= 1 else {
            throw ValidationError("--near-duplicate-threshold is a similarity above 0 and at most 1 (0.8 by default)")
        }
        if drop != nil, rejects == nil, Exporter.writesThrough(output) {
            throw ValidationError("--drop with --output \(output): give --rejects FILE for the rows left out")
        }
    }

    private func parseDrop(_ text: String) throws -> [QualityCheck] {
        do { return try QualityCheck.parseList(text) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let checks = try drop.map(parseDrop) ?? []
        let rejectsPath = drop == nil ? nil : (rejects ?? output + ".rejects.jsonl")
        let report = try Exporter.export(
            ledgers: ledger, output: output, metadata: metadata, format: ExportFormat(rawValue: format)!,
            requireComplete: requireComplete, drop: Set(checks), rejects: rejectsPath,
            nearDuplicateThreshold: nearDuplicateThreshold)
        if report.written {
            Terminal.error("batch: wrote \(report.rows) rows to \(output)\(metadata.map { " and metadata to \($0)" } ?? "")")
            if let rejectsPath {
                let by = checks.map { "\(report.droppedBy[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
                Terminal.error("batch: left out \(report.dropped) rows (\(by)); they are in \(rejectsPath) with their reasons")
            }
        }
        if report.unfinished > 0 {
            let sample = report.unfinishedSample.map(String.init).joined(separator: ", ")
            Terminal.error("batch: \(report.unfinished) planned indices are not done (first: \(sample)); see `batch status`")
        }
        if !report.missingShards.isEmpty {
            Terminal.error("batch: no ledger given for shards \(report.missingShards.map(String.init).joined(separator: ", ")); their indices are missing")
        }
        if requireComplete && !report.isComplete {
            Terminal.error("batch: --require-complete: the run is not complete, so nothing was written")
            throw ExitCode(BatchExitCode.exportIncomplete)
        }
    }
}
