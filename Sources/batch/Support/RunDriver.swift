import ArgumentParser
import BatchRunner
import Foundation
import Ledger
import Logging
import Provider
import Recipe

/// Runs a ledger to the end with progress on standard error, and maps how it ended to an exit code.
///
/// Exit codes (`BatchExitCode`): 0 every row done; 1 an error before or during the run (message
/// says what to fix); 3 the provider refused the run (bad key, no credits, unknown model); 4 the
/// --max-cost budget was reached; 5 the circuit breaker stopped the run; 6 the run finished but
/// some rows failed (`batch retry` reruns them); 7 the disk holding the ledger is full;
/// 130/143 interrupted by SIGINT/SIGTERM. In every case but 0 and 6, unfinished rows are pending
/// and `batch resume` continues.
enum RunDriver {
    /// - Parameters:
    ///   - pilot: `run --pilot K`: send K rows, print the projection, and stop there (exit 8)
    ///     unless `proceed` (`--yes`) or the projection is within `--max-cost`.
    ///   - connection: the client and transport to use (and leave open), when the caller made them.
    ///   - account: what the provider said of the account before the run (`AccountGate`); after
    ///     the pilot, a projection above what is left stops the run unless `ignoreCredits`.
    ///   - observer: `--metrics-listen`'s metrics, fed by every run this drives (the pilot, the
    ///     rest, a `--finish-online-after` hedge).
    static func drive(
        ledger: Ledger, recipe: Recipe, settings: RunSettings, pilot: Int? = nil, proceed: Bool = false,
        account: AccountStatus? = nil, ignoreCredits: Bool = false, connection: (ChatClient, CurlTransport)? = nil,
        observer: (any RunObserver)? = nil
    ) async throws {
        // The caller's connection when it has one (it asked the account on it), else a new one.
        let (client, transport) = try connection ?? RunSetup.client(settings: settings, recipe: recipe)
        defer { if connection == nil { transport.shutdown() } }
        if settings.mode == "batch" {
            if pilot != nil { throw ValidationError("--pilot is for online runs; --mode batch answers within hours, not seconds") }
            if settings.maxCost != nil {
                throw ValidationError("--max-cost is not held in --mode batch yet; leave it out, or use --mode online")
            }
            let api = BatchAPIClient(transport: transport, config: client.config, kind: settings.batchAPI.flatMap(BatchAPIKind.init(rawValue:)))
            let interactive = Terminal.isInteractive
            let record = try ledger.run()
            let run = BatchModeRun(
                ledger: ledger, recipe: recipe, api: api, settings: settings, runID: record.runID,
                hedgeAtMs: settings.finishOnlineAfterMs.map { record.createdAtMs + $0 }, observer: observer,
                onProgress: { line in if interactive { Terminal.status(line) } else { Terminal.error(line) } })
            let summary = try await TerminationSignals.routing(to: run.control) { try await run.run() }
            if interactive { Terminal.error("") }
            guard run.hedged, case .finished = summary.reason, summary.counts.pending > 0 else { return try finish(summary, ledger: ledger) }
            // The hedge: the rows the batches did not answer in time go online, in this process.
            Terminal.error("batch: --finish-online-after: \(summary.counts.pending) rows go online now")
            var online = settings
            online.mode = nil
            return try finish(try await runOnce(ledger: ledger, recipe: recipe, client: client, settings: online, pilot: nil, observer: observer), ledger: ledger)
        }
        if let pilot {
            let summary = try await runOnce(ledger: ledger, recipe: recipe, client: client, settings: settings, pilot: pilot, observer: observer)
            guard case .pilotFinished = summary.reason else { return try finish(summary, ledger: ledger) }
            let reader = try LedgerReader(path: ledger.path)
            let projection = try reader.snapshot { try PilotProjection.read(ledger: $0, settings: settings) }
            Terminal.error(projection?.text(concurrency: settings.concurrency) ?? "pilot: no row is done yet, so nothing can be projected")
            if let projection {
                try AccountGate.checkAfterPilot(
                    status: account, spentInPilot: projection.spent, restCost: projection.projectedCost - projection.spent,
                    ignoreCredits: ignoreCredits)
            }
            let withinBudget = projection.map { p in settings.maxCost.map { p.projectedCostP90 <= $0 } ?? false } ?? false
            if !(proceed || withinBudget) {
                Terminal.error("stopped after the pilot (exit code \(BatchExitCode.pilotStopped)). Continue with `\(Invocation.command) resume --ledger \(ledger.path)`, or pass --yes to go on without stopping"
                    + (settings.maxCost == nil ? "" : String(format: " (the p90 projection %.4f is above --max-cost %.4f)", projection?.projectedCostP90 ?? 0, settings.maxCost ?? 0)))
                throw ExitCode(BatchExitCode.pilotStopped)
            }
            Terminal.error(proceed ? "pilot done; going on (--yes)" : "pilot done; going on: the projection is within --max-cost")
        }
        try finish(try await runOnce(ledger: ledger, recipe: recipe, client: client, settings: settings, pilot: nil, observer: observer), ledger: ledger)
    }

    private static func runOnce(
        ledger: Ledger, recipe: Recipe, client: ChatClient, settings: RunSettings, pilot: Int?, observer: (any RunObserver)?
    ) async throws -> RunSummary {
        let interactive = Terminal.isInteractive
        let run = BatchRun(
            ledger: ledger, recipe: recipe, client: client, settings: settings, pilotRows: pilot,
            progressIntervalMs: interactive ? 500 : 10_000, observer: observer,
            onProgress: { progress in
                let line = ProgressLine.format(progress)
                if interactive { Terminal.status(line) } else { Terminal.error(line) }
            })
        let summary: RunSummary
        do {
            summary = try await TerminationSignals.routing(to: run.control) { try await run.run() }
        } catch let error as LedgerError where error.code == .diskFull {
            if interactive { Terminal.error("") }
            throw DiskFull.exit(error, ledger: ledger.path)
        }
        if interactive { Terminal.error("") }
        return summary
    }

    /// Prints how the run ended and maps it to an exit code.
    private static func finish(_ summary: RunSummary, ledger: Ledger) throws {
        Terminal.error(summaryText(summary, ledger: ledger.path))
        switch summary.reason {
        case .finished: if summary.counts.failed > 0 { throw ExitCode(BatchExitCode.rowsFailed) }
        case .interrupted(let signal): throw ExitCode(BatchExitCode.interrupted(signal))
        case .aborted: throw ExitCode(BatchExitCode.providerRefused)
        case .budgetReached: throw ExitCode(BatchExitCode.budgetReached)
        case .circuitOpen: throw ExitCode(BatchExitCode.circuitOpen)
        case .pilotFinished: throw ExitCode(BatchExitCode.pilotStopped)
        }
    }

    /// A budget to suggest after `budget` was reached: twice it, at least one credit more.
    static func raisedBudget(_ budget: Double) -> String {
        let raised = max(budget * 2, budget + 1)
        return raised == raised.rounded() ? String(Int(raised)) : String(format: "%.2f", raised)
    }

    static func summaryText(_ s: RunSummary, ledger: String) -> String {
        let c = s.counts
        let batch = Invocation.command
        let export = (ledger.hasSuffix(".db") ? String(ledger.dropLast(3)) : ledger) + ".jsonl"
        var lines = [String(
            format: "%ld rows: %ld done, %ld failed, %ld pending; %ld requests in %@; %ld+%ld tokens; cost %.4f",
            c.total, c.done, c.failed, c.pending + c.inFlight, s.requestsSent, DurationText.of(Double(s.elapsedMs) / 1_000),
            s.usage.promptTokens, s.usage.completionTokens, s.usage.cost)]
        switch s.reason {
        case .finished:
            lines.append(c.failed > 0
                ? "finished with \(c.failed) failed rows (exit code \(BatchExitCode.rowsFailed)): see `\(batch) status --ledger \(ledger)`, rerun them with `\(batch) retry --ledger \(ledger)`"
                : "finished: export with `\(batch) export --ledger \(ledger) --output \(export)`")
        case .interrupted(let signal):
            lines.append("stopped by signal \(signal); \(s.released) rows in flight went back to pending. Continue with `\(batch) resume --ledger \(ledger)`")
        case .aborted(let message):
            lines.append("stopped: \(message). Every row is resumable: fix that, then `\(batch) resume --ledger \(ledger)`")
        case .budgetReached(let cost, let budget):
            lines.append(String(format: "stopped: cost %.4f reached --max-cost %.4f. Raise it and resume, e.g. `%@ resume --ledger %@ --max-cost %@`", cost, budget, batch, ledger, raisedBudget(budget)))
        case .pilotFinished(let rows):
            lines.append("the pilot's \(rows) rows are done. Continue with `\(batch) resume --ledger \(ledger)`")
        case .circuitOpen(let kind, let count, let lastError):
            lines.append("stopped by the circuit breaker: the last \(count) attempts all failed with \(kind) (last: \(lastError)). Check the endpoint, then `\(batch) resume --ledger \(ledger)`")
        }
        return lines.joined(separator: "\n")
    }
}

enum ProgressLine {
    static func format(_ p: RunProgress) -> String {
        let c = p.counts
        let eta = p.etaSeconds.map { DurationText.of($0) } ?? "-"
        var line = String(
            format: "%ld/%ld done, %ld failed, %ld in flight | %.1f rows/s | ETA %@ | %ld+%ld tokens | cost %.4f",
            c.done, c.total, c.failed, c.inFlight, p.rowsPerSecond, eta, p.usage.promptTokens, p.usage.completionTokens, p.usage.cost)
        if let projected = p.projectedCost, c.pending + c.inFlight > 0 { line += String(format: " (projected %.4f)", projected) }
        if p.adaptive || p.windowReason != "start" { line += " | window \(p.window) (\(p.windowReason))" }
        if p.paused { line += " | rate limited: waiting" }
        return line
    }
}
