import Foundation
import Ledger
import Recipe

/// `batch report`: one self-contained HTML file (inline SVG and CSS, nothing fetched) about a
/// run's ledgers: how the run went, and how good its data is against what the recipe asked for.
public enum RunReport {
    public struct Written: Sendable {
        public var status: StatusReport
        public var quality: QualityFigures
        public var bytes: Int
    }

    /// Reads the ledgers (one run's; shards together) without their writer's lock, and writes
    /// the report to `output` the way an export writes (a regular file replaced atomically, a
    /// pipe or `-` streamed; never over a ledger).
    public static func write(
        ledgers paths: [String], output: String, nearDuplicateThreshold: Double = 0.8, nowMs: Int64
    ) throws -> Written {
        guard !paths.isEmpty else { throw ExportError("give at least one --ledger") }
        let readers = try paths.map { try LedgerReader(path: $0) }
        _ = try Exporter.checkSameRun(readers)
        let run = try readers[0].run()
        let recipe = try RunSetup.recipe(of: run, ledgerPath: paths[0])
        var family = LedgerFamily()
        for path in paths { family.add(ledger: path) }
        let destination = try ExportDestination.resolve(output, flag: "--output", ledgers: family)

        let status = try StatusReport.read(ledgers: paths, nowMs: nowMs)
        let timeline = try RunTimeline.read(readers)
        let quality = try QualityAnalysis.analyse(readers: readers, recipe: recipe, nearDuplicateThreshold: nearDuplicateThreshold)
        var examples: [Int64: String] = [:]
        for example in ReportPage.shownDuplicates(quality.duplicateExamples) {
            for index in [example.index, example.of] where examples[index] == nil {
                examples[index] = try readers.lazy.compactMap { try $0.doneLine(of: index) }.first
            }
        }
        let page = ReportPage(
            run: run, recipe: recipe, status: status, timeline: timeline, quality: quality,
            exampleLines: examples, generatedAtMs: nowMs)
        let html = Array(page.render().utf8)
        let file = try ExportFile(destination)
        try file.write(html)
        try ExportFile.commit([file])
        return Written(status: status, quality: quality, bytes: html.count)
    }
}
