import Foundation
import Ledger
import Recipe
import Wire

/// The shape of each exported line.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// `[{"role": ..., "content": ...}, ...]`: what the seed writes and nanochat's CustomJSON loads.
    case messages
    /// `{"messages": [...], "metadata": {"topic", "persona", "dynamic"}}`: the seed's `--save-metadata` shape.
    case seedMetadata = "seed-metadata"
}

/// What an export wrote, and what it could not.
public struct ExportReport: Sendable {
    public var rows = 0
    /// Planned indices not done in the given ledgers (pending, in flight or failed).
    public var unfinished = 0
    /// Some of them, lowest first.
    public var unfinishedSample: [Int64] = []
    /// Shards of the run for which no ledger was given.
    public var missingShards: [Int] = []
    public var plannedRows: Int64 = 0
    /// False when nothing was written (`requireComplete` and the run is not complete).
    public var written = false
    /// Rows left out by `drop`, and how many failed each dropped check.
    public var dropped = 0
    public var droppedBy: [QualityCheck: Int] = [:]

    /// Every planned index is done and every shard's ledger was given.
    public var isComplete: Bool { unfinished == 0 && missingShards.isEmpty }
}

/// Writes done rows of one or more ledgers of the same run, in global index order, each index
/// once, byte for byte as the seed's `json.dumps` would; optionally a metadata file aligned line
/// by line.
///
/// Where each file goes is decided before anything is written (see `ExportDestination`): a
/// regular file is replaced atomically, the output and the metadata together or neither; a pipe,
/// a device or `-` (standard output) is written through as rows are read. A ledger, or any of its
/// files, is never a destination. With `requireComplete`, an incomplete run writes nothing.
///
/// With `drop`, rows failing any of those quality checks (`QualityScanner`, judged as they are
/// read) are left out and written to `rejects`, one
/// `{"index", "reasons", "messages"}` object per line, committed with the output.
public enum Exporter {
    public static func export(
        ledgers paths: [String], output: String, metadata: String?, format: ExportFormat, requireComplete: Bool = false,
        drop: Set<QualityCheck> = [], rejects: String? = nil, nearDuplicateThreshold: Double = 0.8
    ) throws -> ExportReport {
        guard !paths.isEmpty else { throw ExportError("give at least one --ledger") }
        let readers = try paths.map { try LedgerReader(path: $0) }
        var report = try checkSameRun(readers)
        if requireComplete && !report.isComplete { return report }

        var family = LedgerFamily()
        for path in paths { family.add(ledger: path) }
        let outputDestination = try ExportDestination.resolve(output, flag: "--output", ledgers: family)
        let metadataDestination = try metadata.map { try ExportDestination.resolve($0, flag: "--metadata", ledgers: family) }
        if let metadataDestination, metadataDestination.sameTarget(as: outputDestination) {
            throw ExportError("--metadata \(metadataDestination.path) and --output \(output) are the same file; give two different files")
        }
        var scanner: QualityScanner?
        var rejectsDestination: ExportDestination?
        if !drop.isEmpty {
            guard let rejects else { throw ExportError("--drop needs a file for the rejected rows: give --rejects FILE") }
            let destination = try ExportDestination.resolve(rejects, flag: "--rejects", ledgers: family)
            if destination.sameTarget(as: outputDestination) || metadataDestination.map(destination.sameTarget) == true {
                throw ExportError("--rejects \(rejects) is the same file as --output or --metadata; give another file")
            }
            rejectsDestination = destination
            let recipe = try RunSetup.recipe(of: try readers[0].run(), ledgerPath: paths[0])
            scanner = QualityScanner(recipe: recipe, nearDuplicateThreshold: nearDuplicateThreshold)
        }
        let out = try ExportFile(outputDestination)
        let meta = try metadataDestination.map { try ExportFile($0) }
        let rejected = try rejectsDestination.map { try ExportFile($0) }
        var rows = try DoneRowMerge(readers)
        var line: [UInt8] = []
        line.reserveCapacity(16 << 10)
        while let row = try rows.next() {
            line.removeAll(keepingCapacity: true)
            if let rejected, let checks = scanner?.scan(row).filter(drop.contains), !checks.isEmpty {
                report.dropped += 1
                for check in checks { report.droppedBy[check, default: 0] += 1 }
                line.append(contentsOf: #"{"index": \#(row.index), "reasons": ["#.utf8)
                for (n, check) in checks.enumerated() {
                    if n > 0 { line.append(contentsOf: ", ".utf8) }
                    JSONString.append(check.rawValue, to: &line)
                }
                line.append(contentsOf: #"], "messages": "#.utf8)
                line.append(contentsOf: row.result.line.utf8)
                line.append(contentsOf: "}\n".utf8)
                try rejected.write(line)
                continue
            }
            switch format {
            case .messages:
                line.append(contentsOf: row.result.line.utf8)
            case .seedMetadata:
                line.append(contentsOf: #"{"messages": "#.utf8)
                line.append(contentsOf: row.result.line.utf8)
                line.append(contentsOf: #", "metadata": {"topic": "#.utf8)
                appendOptional(row.result.topic, to: &line)
                line.append(contentsOf: #", "persona": "#.utf8)
                appendOptional(row.result.persona, to: &line)
                line.append(contentsOf: #", "dynamic": "#.utf8)
                appendOptional(row.result.dynamic, to: &line)
                line.append(contentsOf: "}}".utf8)
            }
            line.append(UInt8(ascii: "\n"))
            try out.write(line)
            if let meta { try meta.write(metadataLine(row)) }
            report.rows += 1
        }
        try ExportFile.commit([rejected, meta, out].compactMap { $0 })
        report.written = true
        return report
    }

    /// Refuses ledgers of different runs; counts what is unfinished and which shards are missing.
    /// True when an export to `path` is written through (a standard stream, a pipe, a device):
    /// a file that goes beside the output, such as the rejects, needs a path of its own.
    public static func writesThrough(_ path: String) -> Bool { ExportDestination.isStream(path) }

    static func checkSameRun(_ readers: [LedgerReader]) throws -> ExportReport {
        var report = ExportReport()
        let first = try readers[0].run()
        report.plannedRows = first.plannedRows
        var shardsSeen: [Int: String] = [:]
        for reader in readers {
            let run = try reader.run()
            if run.recipeSHA256 != first.recipeSHA256 || run.plannedRows != first.plannedRows {
                throw ExportError("""
                    \(reader.path) is from a different run than \(readers[0].path) \
                    (\(run.plannedRows) rows with recipe \(run.recipeSHA256.prefix(12)) against \
                    \(first.plannedRows) rows with recipe \(first.recipeSHA256.prefix(12))); export each run on its own
                    """)
            }
            if (run.shard == nil) != (first.shard == nil) || run.shard.map({ $0.count }) != first.shard.map({ $0.count }) {
                throw ExportError("\(reader.path) is sharded as \(run.shard?.description ?? "unsharded") but \(readers[0].path) as \(first.shard?.description ?? "unsharded"); these ledgers do not belong together")
            }
            if let shard = run.shard {
                if let other = shardsSeen[shard.index] {
                    throw ExportError("\(reader.path) and \(other) are both shard \(shard); give each shard's ledger once")
                }
                shardsSeen[shard.index] = reader.path
            }
            let counts = try reader.counts()
            report.unfinished += counts.total - counts.done
            if report.unfinishedSample.count < 20 {
                report.unfinishedSample += try reader.unfinishedIndices(limit: 20)
            }
        }
        report.unfinishedSample = Array(report.unfinishedSample.sorted().prefix(20))
        if let count = first.shard?.count {
            report.missingShards = (0..<count).filter { shardsSeen[$0] == nil }
        }
        return report
    }

    private static func appendOptional(_ text: String?, to out: inout [UInt8]) {
        if let text { JSONString.append(text, to: &out) } else { out.append(contentsOf: "null".utf8) }
    }

    /// `{"index": ..., "topic": ..., ...}`: one line per exported row, in the same order.
    static func metadataLine(_ row: DoneRow) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"index": \#(row.index), "topic": "#.utf8)
        appendOptional(row.result.topic, to: &out)
        out.append(contentsOf: #", "persona": "#.utf8)
        appendOptional(row.result.persona, to: &out)
        out.append(contentsOf: #", "dynamic": "#.utf8)
        appendOptional(row.result.dynamic, to: &out)
        out.append(contentsOf: #", "model": "#.utf8)
        appendOptional(row.result.model, to: &out)
        out.append(contentsOf: #", "generation_id": "#.utf8)
        appendOptional(row.result.generationID, to: &out)
        out.append(contentsOf: #", "prompt_tokens": \#(row.promptTokens.map(String.init) ?? "null")"#.utf8)
        out.append(contentsOf: #", "completion_tokens": \#(row.completionTokens.map(String.init) ?? "null")"#.utf8)
        out.append(contentsOf: #", "cost": \#(row.cost.map { "\($0)" } ?? "null")}"#.utf8)
        out.append(UInt8(ascii: "\n"))
        return out
    }
}
