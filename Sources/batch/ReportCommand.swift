import ArgumentParser
import BatchRunner
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one HTML file about a run: its progress over time, what it cost, and the quality of its data.",
        discussion: """
        Everything comes from the ledgers; no request is sent, and a running run is not disturbed (the ledgers are read without the writer's lock). The file is self-contained (inline SVG and CSS, no script, nothing fetched), so a copy opens anywhere.

        The run: rows done per minute (per shard with several ledgers), requests by outcome, requests in flight and the concurrency window, 429s, latency percentiles and histogram, errors by kind, tokens, cost and prompt-cache hits over time.

        The data, against what the recipe asked for each row: whether done rows kept the sampled mix of topic categories, topics, personas and dynamics (chi-square test; rows lost on one topic bias the dataset), messages per conversation for each dynamic that names a length, content lengths, non-ASCII characters, first messages in the style of the examples, exact and near-duplicates (MinHash over word shingles). `batch export --drop` leaves out rows failing a check.

        Example:
          batch report --ledger runs/identity.db --output report.html
        """
    )

    @Option(help: ArgumentHelp("A ledger; repeat for the shards of one run.", valueName: "path")) var ledger: [String]
    @Option(help: ArgumentHelp("The HTML file to write (default: the first ledger's name with .report.html).", valueName: "file"))
    var output: String?
    @Option(help: ArgumentHelp("Rows at least this similar to an earlier row (estimated Jaccard similarity of 3-word shingles, 0-1) count as near-duplicates.", valueName: "0-1"))
    var nearDuplicateThreshold = 0.8

    func validate() throws {
        if ledger.isEmpty { throw ValidationError("give at least one --ledger") }
        guard nearDuplicateThreshold > 0 && nearDuplicateThreshold <= 1 else {
            throw ValidationError("--near-duplicate-threshold is a similarity above 0 and at most 1 (0.8 by default)")
        }
    }

    func run() throws {
        let start = SystemRunClock().nowMs()
        let path = output ?? Self.defaultOutput(for: ledger[0])
        let written = try RunReport.write(
            ledgers: ledger, output: path, nearDuplicateThreshold: nearDuplicateThreshold, nowMs: start)
        let q = written.quality
        let flagged = QualityCheck.allCases.compactMap { check in q.failing[check].map { "\($0) \(check.rawValue)" } }
        Terminal.error(String(
            format: "batch: wrote %@ (%.0f KB) in %.1f s: %ld done of %ld rows; %@",
            path, Double(written.bytes) / 1_024, Double(SystemRunClock().nowMs() - start) / 1_000, written.status.done,
            written.status.total, flagged.isEmpty ? "no row flagged" : "flagged " + flagged.joined(separator: ", ")))
    }

    /// `runs/identity.db` -> `runs/identity.report.html`.
    static func defaultOutput(for ledger: String) -> String {
        let name = (ledger as NSString).lastPathComponent
        let stem = name.hasSuffix(".db") ? String(name.dropLast(3)) : name
        let folder = (ledger as NSString).deletingLastPathComponent
        return folder.isEmpty ? "\(stem).report.html" : "\(folder)/\(stem).report.html"
    }
}
