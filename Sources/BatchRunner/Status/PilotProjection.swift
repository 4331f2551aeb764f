import Foundation
import Ledger

/// What a pilot's done rows say about the whole run (`run --pilot K`): cost per row, tokens,
/// latency, and the total cost and time projected for every planned row at the run's
/// concurrency and rate limits.
public struct PilotProjection: Sendable, Equatable {
    public var rowsDone: Int
    public var rowsTotal: Int
    public var spent: Double
    public var costPerRowMean: Double
    public var costPerRowP90: Double
    public var promptTokensPerRow: Double
    public var completionTokensPerRow: Double
    public var latencyP50Ms: Int
    public var latencyMeanMs: Double
    /// Spent so far plus the rows left at the mean cost per row.
    public var projectedCost: Double
    /// The same at the 90th percentile cost per row (a high estimate).
    public var projectedCostP90: Double
    /// Rows per second the rest is expected to go at: `concurrency / mean latency` (Little's
    /// law), capped by `--rpm` when set.
    public var projectedRowsPerSecond: Double
    public var projectedSeconds: Double

    /// From the ledger's done rows; nil when none is done.
    public static func read(ledger: LedgerReader, settings: RunSettings) throws -> PilotProjection? {
        let metrics = try ledger.resultMetrics()
        guard !metrics.isEmpty else { return nil }
        let counts = try ledger.counts()
        let usage = try ledger.usage()
        let costs = metrics.map { $0.cost ?? 0 }.sorted()
        let latencies = metrics.compactMap(\.latencyMs).sorted()
        let n = Double(metrics.count)
        let mean = costs.reduce(0, +) / n
        let p90 = costs[min(costs.count - 1, Int((n * 0.9).rounded(.up)) - 1)]
        let latencyMean = latencies.isEmpty ? 0 : Double(latencies.reduce(0, +)) / Double(latencies.count)
        let left = Double(counts.pending + counts.inFlight)
        var rate = latencyMean > 0 ? Double(settings.concurrency) / (latencyMean / 1_000) : .infinity
        if let rpm = settings.requestsPerMinute { rate = min(rate, rpm / 60) }
        return PilotProjection(
            rowsDone: counts.done, rowsTotal: counts.total, spent: usage.cost,
            costPerRowMean: mean, costPerRowP90: p90,
            promptTokensPerRow: Double(metrics.compactMap(\.promptTokens).reduce(0, +)) / n,
            completionTokensPerRow: Double(metrics.compactMap(\.completionTokens).reduce(0, +)) / n,
            latencyP50Ms: latencies.isEmpty ? 0 : latencies[latencies.count / 2], latencyMeanMs: latencyMean,
            projectedCost: usage.cost + left * mean, projectedCostP90: usage.cost + left * p90,
            projectedRowsPerSecond: rate.isFinite ? rate : 0,
            projectedSeconds: rate.isFinite && rate > 0 ? left / rate : 0)
    }

    /// A few lines for people. The `projected cost` line is also what scripts may read.
    public func text(concurrency: Int) -> String {
        [
            String(format: "pilot: %ld of %ld rows done; cost per row %.6f (mean), %.6f (p90); tokens per row %.0f prompt + %.0f completion; latency %ld ms (p50)",
                   rowsDone, rowsTotal, costPerRowMean, costPerRowP90, promptTokensPerRow, completionTokensPerRow, latencyP50Ms),
            String(format: "projected cost %.4f for all %ld rows (%.4f at the p90 cost per row); about %@ more at %.0f rows/s (%ld in flight)",
                   projectedCost, rowsTotal, projectedCostP90, DurationText.of(projectedSeconds), projectedRowsPerSecond, concurrency),
        ].joined(separator: "\n")
    }
}
