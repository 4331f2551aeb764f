import Foundation
import Ledger

/// The state of one ledger, read without the writer's lock (works while a run writes it).
public struct LedgerStatus: Codable, Sendable {
    public var ledger: String
    public var shard: String?
    public var plannedRows: Int64
    public var total: Int
    public var pending: Int
    public var inFlight: Int
    public var done: Int
    public var failed: Int
    public var attempts: Int
    public var promptTokens: Int
    public var completionTokens: Int
    public var cost: Double
    /// Prompt tokens the provider served from its prompt cache, and what that saved (same unit as `cost`).
    public var cachedPromptTokens: Int
    public var cacheSavings: Double
    public var errors: [String: Int]
    /// `--mode batch`: provider batches open (submitted, not yet collected) and the rows they hold
    /// (counted in `in_flight` too).
    public var batchesOpen: Int
    public var rowsInBatches: Int
    /// The open batches: provider id (nil until its create answered), status, rows.
    public var batches: [OpenBatch]
    /// What the answers of collected batches would have cost online, less what they cost.
    public var batchSavings: Double
    /// Rows finished per second over the last minute (over the run's own time if it is younger).
    public var rowsPerSecond: Double
    public var etaSeconds: Double?
    public var model: String?
    /// The concurrency window's latest recorded size and why it moved (nil before any record).
    public var window: Int?
    public var windowReason: String?
    /// What the whole run will have cost once every row is finished (same unit as `cost`): the
    /// cost so far plus the rows left at the run's own cost per done row. nil before any row is done.
    public var projectedCost: Double?
    /// Seconds until every row is finished at the run's own rate (rows finished over the time
    /// from its first attempt to its last), not only the last minute's. nil before any row finished.
    public var projectedSeconds: Double?

    enum CodingKeys: String, CodingKey {
        case ledger, shard, total, pending, done, failed, attempts, cost, errors, model, window
        case windowReason = "window_reason", projectedCost = "projected_cost", projectedSeconds = "projected_seconds"
        case plannedRows = "planned_rows", inFlight = "in_flight", promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens", rowsPerSecond = "rows_per_second", etaSeconds = "eta_seconds"
        case cachedPromptTokens = "cached_prompt_tokens", cacheSavings = "cache_savings"
        case batchesOpen = "batches_open", rowsInBatches = "rows_in_batches", batches, batchSavings = "batch_savings"
    }
}

/// A provider batch not yet collected, as `status` shows it.
public struct OpenBatch: Codable, Sendable, Equatable {
    public var batchID: String?
    public var status: String
    public var rows: Int

    enum CodingKeys: String, CodingKey {
        case batchID = "batch_id", status, rows
    }
}

/// Several ledgers (the shards of one run) summed, with each one's own state.
public struct StatusReport: Codable, Sendable {
    public var total: Int
    public var pending: Int
    public var inFlight: Int
    public var done: Int
    public var failed: Int
    public var attempts: Int
    public var promptTokens: Int
    public var completionTokens: Int
    public var cost: Double
    public var cachedPromptTokens: Int
    public var cacheSavings: Double
    public var errors: [String: Int]
    public var batchesOpen: Int
    public var rowsInBatches: Int
    public var batchSavings: Double
    public var rowsPerSecond: Double
    public var etaSeconds: Double?
    /// Summed over the ledgers (each at its own cost per row); nil while any ledger has none.
    public var projectedCost: Double?
    /// The longest of the ledgers' (shards run side by side); nil while any ledger has none.
    public var projectedSeconds: Double?
    public var ledgers: [LedgerStatus]

    enum CodingKeys: String, CodingKey {
        case total, pending, done, failed, attempts, cost, errors, ledgers
        case inFlight = "in_flight", promptTokens = "prompt_tokens", completionTokens = "completion_tokens"
        case rowsPerSecond = "rows_per_second", etaSeconds = "eta_seconds"
        case projectedCost = "projected_cost", projectedSeconds = "projected_seconds"
        case cachedPromptTokens = "cached_prompt_tokens", cacheSavings = "cache_savings"
        case batchesOpen = "batches_open", rowsInBatches = "rows_in_batches", batchSavings = "batch_savings"
    }

    public static func read(ledgers paths: [String], nowMs: Int64) throws -> StatusReport {
        let each = try paths.map { try readOne($0, nowMs: nowMs) }
        var report = StatusReport(
            total: 0, pending: 0, inFlight: 0, done: 0, failed: 0, attempts: 0, promptTokens: 0, completionTokens: 0,
            cost: 0, cachedPromptTokens: 0, cacheSavings: 0, errors: [:], batchesOpen: 0, rowsInBatches: 0, batchSavings: 0, rowsPerSecond: 0, etaSeconds: nil, projectedCost: nil, projectedSeconds: nil, ledgers: each)
        for s in each {
            report.total += s.total
            report.pending += s.pending
            report.inFlight += s.inFlight
            report.done += s.done
            report.failed += s.failed
            report.attempts += s.attempts
            report.promptTokens += s.promptTokens
            report.completionTokens += s.completionTokens
            report.cost += s.cost
            report.cachedPromptTokens += s.cachedPromptTokens
            report.cacheSavings += s.cacheSavings
            report.batchesOpen += s.batchesOpen
            report.rowsInBatches += s.rowsInBatches
            report.batchSavings += s.batchSavings
            report.rowsPerSecond += s.rowsPerSecond
            report.errors.merge(s.errors, uniquingKeysWith: +)
        }
        let remaining = Double(report.pending + report.inFlight)
        report.etaSeconds = report.rowsPerSecond > 0 ? remaining / report.rowsPerSecond : nil
        let costs = each.map(\.projectedCost), times = each.map(\.projectedSeconds)
        report.projectedCost = costs.contains(nil) ? nil : costs.reduce(0) { $0 + ($1 ?? 0) }
        report.projectedSeconds = times.contains(nil) ? nil : times.compactMap { $0 }.max()
        return report
    }

    static func readOne(_ path: String, nowMs: Int64) throws -> LedgerStatus {
        let reader = try LedgerReader(path: path)
        return try reader.snapshot { reader in
            let run = try reader.run()
            let counts = try reader.counts()
            let usage = try reader.usage()
            let windowStart = nowMs - 60_000
            let recent = try reader.finishedSince(windowStart)
            // Over the last minute, or over the run's own time while it is younger than that:
            // 40 rows in its first 15 s is 2.7 rows/s, not 40 / 60.
            let since = max(windowStart, try reader.activityStart(endedSince: windowStart) ?? windowStart)
            let rate = Double(recent) / (Double(max(nowMs - since, 1_000)) / 1_000)
            let model = (try? StoredRunConfig.decode(run.config, ledger: path))?.model
            let window = reader.latestWindow()
            let submissions = try reader.openSubmissions()
            let batchCosts = try reader.batchCosts()
            let left = Double(counts.pending + counts.inFlight)
            let projectedCost = counts.done > 0 ? usage.cost + left * usage.cost / Double(counts.done) : nil
            var projectedSeconds: Double?
            if let span = try reader.attemptSpan(), counts.done + counts.failed > 0, span.lastEndMs > span.firstStartMs {
                let runRate = Double(counts.done + counts.failed) / (Double(span.lastEndMs - span.firstStartMs) / 1_000)
                projectedSeconds = left / runRate
            }
            return LedgerStatus(
                ledger: path, shard: run.shard?.description, plannedRows: run.plannedRows, total: counts.total,
                pending: counts.pending, inFlight: counts.inFlight, done: counts.done, failed: counts.failed,
                attempts: usage.attempts, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens,
                cost: usage.cost, cachedPromptTokens: usage.cachedTokens, cacheSavings: usage.cacheDiscount, errors: Dictionary(uniqueKeysWithValues: try reader.errorsByKind().map { ($0.kind, $0.count) }),
                batchesOpen: submissions.count, rowsInBatches: submissions.map(\.rows).reduce(0, +),
                batches: submissions.map { OpenBatch(batchID: $0.batchID, status: $0.status, rows: $0.rows) },
                batchSavings: batchCosts.onlineCost - batchCosts.cost,
                rowsPerSecond: rate, etaSeconds: rate > 0 ? Double(counts.pending + counts.inFlight) / rate : nil, model: model,
                window: window?.size, windowReason: window?.reason,
                projectedCost: projectedCost, projectedSeconds: projectedSeconds)
        }
    }

    static func describe(windowReason reason: String) -> String {
        switch reason {
        case "start": "nothing yet (the starting window)"
        case "growth": "growth (answers came back without queueing)"
        case "latency": "latency (the server queued requests)"
        case "429": "rate limits (429)"
        case "timeout": "timeouts"
        case "overload": "overload answers (503)"
        default: reason
        }
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// A few lines for people.
    public func text() -> String {
        var lines: [String] = []
        func pct(_ n: Int) -> String { total > 0 ? String(format: "%.1f%%", Double(n) * 100 / Double(total)) : "-" }
        lines.append("rows      \(total): \(done) done (\(pct(done))), \(failed) failed, \(pending) pending, \(inFlight) in flight")
        lines.append("attempts  \(attempts); tokens \(promptTokens) prompt + \(completionTokens) completion; cost \(String(format: "%.4f", cost))")
        if cachedPromptTokens > 0, promptTokens > 0 {
            lines.append(String(
                format: "cache     %.1f%% of prompt tokens read from the provider's prompt cache; saved %.4f",
                Double(cachedPromptTokens) * 100 / Double(promptTokens), cacheSavings))
        }
        if batchesOpen > 0 {
            let open = ledgers.flatMap(\.batches)
            let named = open.prefix(4).map { "\($0.batchID ?? "(being created)") \($0.status) (\($0.rows) rows)" }.joined(separator: ", ")
            lines.append("batches   \(batchesOpen) provider batches open, holding \(rowsInBatches) rows (`batch resume` collects them): "
                         + named + (open.count > 4 ? ", ..." : ""))
        }
        if batchSavings != 0 {
            lines.append(String(format: "saved     %.4f against the online price, on the answers of provider batches", batchSavings))
        }
        let eta = etaSeconds.map { DurationText.of($0) } ?? "-"
        lines.append(String(format: "rate      %.1f rows/s over the last minute; ETA %@", rowsPerSecond, eta))
        if let projectedCost, pending + inFlight > 0 {
            let finish = projectedSeconds.map { " and finish in \(DurationText.of($0))" } ?? ""
            lines.append(String(format: "projected %.4f for all %ld rows at the run's own cost per row", projectedCost, total) + finish + " at its own rate")
        }
        for s in ledgers {
            guard let size = s.window, let reason = s.windowReason else { continue }
            let which = ledgers.count > 1 ? " (shard \(s.shard ?? "-"))" : ""
            lines.append("window    \(size) requests in flight at most\(which), last moved by: \(Self.describe(windowReason: reason))")
        }
        if !errors.isEmpty {
            let top = errors.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            lines.append("errors    " + top.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if ledgers.count > 1 {
            for s in ledgers {
                lines.append("  shard \(s.shard ?? "-") \(s.ledger): \(s.done)/\(s.total) done, \(s.failed) failed, \(s.pending) pending, \(s.inFlight) in flight")
            }
        }
        if failed > 0 {
            let where_ = ledgers.filter { $0.failed > 0 }.map { "batch retry --ledger \($0.ledger)" }
            lines.append("retry failed rows with: " + where_.joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}
