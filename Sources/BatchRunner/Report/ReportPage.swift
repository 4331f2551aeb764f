import Foundation
import Ledger
import Recipe

/// The report's HTML: a summary, the run over time, and the data's quality. Every figure a
/// script may want to check carries `data-key` (the summary's keys are `status --json`'s).
struct ReportPage {
    let run: RunRecord
    let recipe: Recipe
    let status: StatusReport
    let timeline: RunTimeline?
    let quality: QualityFigures
    /// Exported lines of the duplicate examples' rows, by index.
    let exampleLines: [Int64: String]
    let generatedAtMs: Int64

    func render() -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>batch report: \(e(names))</title>
            <style>\(Self.css)</style></head><body>
            <header><h1>batch report</h1><p>\(e(names)) &middot; run \(e(run.runID)) &middot; model \(e(recipe.model)) &middot; recipe \(e(recipe.name)) (\(e(String(run.recipeSHA256.prefix(12)))))<br>written \(e(Self.utc(generatedAtMs)))</p></header>
            <nav><a href="#summary">Summary</a> <a href="#run">The run</a> <a href="#data">The data</a></nav>

            """
        html += summary()
        html += runSection()
        html += dataSection()
        html += "<footer>Written by <code>batch report</code> from the ledger alone: no request was sent. Times are UTC.</footer></body></html>\n"
        return html
    }

    private var names: String { status.ledgers.map { ($0.ledger as NSString).lastPathComponent }.joined(separator: ", ") }

    // MARK: summary

    private func summary() -> String {
        var cells: [(String, String, String)] = [
            ("planned rows", "total", "\(status.total)"),
            ("done", "done", "\(status.done)"),
            ("failed", "failed", "\(status.failed)"),
            ("pending", "pending", "\(status.pending)"),
            ("in flight", "in_flight", "\(status.inFlight)"),
            ("attempts", "attempts", "\(status.attempts)"),
            ("prompt tokens", "prompt_tokens", "\(status.promptTokens)"),
            ("completion tokens", "completion_tokens", "\(status.completionTokens)"),
            ("cached prompt tokens", "cached_prompt_tokens", "\(status.cachedPromptTokens)"),
            ("cost", "cost", String(format: "%.4f", status.cost)),
            ("saved by the prompt cache", "cache_savings", String(format: "%.4f", status.cacheSavings)),
        ]
        if status.batchSavings != 0 { cells.append(("saved by batches", "batch_savings", String(format: "%.4f", status.batchSavings))) }
        if let timeline {
            let seconds = Double(timeline.endMs - timeline.originMs) / 1_000
            cells.append(("first to last attempt", "span_seconds", String(format: "%.1f", seconds)))
            if let p = timeline.latency.percentile(0.5) { cells.append(("latency p50 (ms)", "latency_p50_ms", String(format: "%.0f", p))) }
            if let p = timeline.latency.percentile(0.9) { cells.append(("latency p90 (ms)", "latency_p90_ms", String(format: "%.0f", p))) }
            if let p = timeline.latency.percentile(0.99) { cells.append(("latency p99 (ms)", "latency_p99_ms", String(format: "%.0f", p))) }
        }
        var html = "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">"
        for (label, key, value) in cells {
            html += "<div class=\"card\"><span class=\"v\" data-key=\"\(key)\">\(value)</span><span class=\"k\">\(label)</span></div>"
        }
        html += "</div>"
        html += "<p class=\"verdicts\">" + verdicts().map { "<span class=\"\($0.0)\">\(e($0.1))</span>" }.joined(separator: " ") + "</p>"
        if status.ledgers.count > 1 {
            html += "<table><tr><th>shard</th><th>ledger</th><th>planned</th><th>done</th><th>failed</th><th>pending</th><th>in flight</th><th>cost</th></tr>"
            for s in status.ledgers {
                html += "<tr data-ledger=\"\(e(s.ledger))\"><td>\(e(s.shard ?? "-"))</td><td>\(e(s.ledger))</td><td>\(s.total)</td><td data-key=\"done\">\(s.done)</td><td>\(s.failed)</td><td>\(s.pending)</td><td>\(s.inFlight)</td><td>\(String(format: "%.4f", s.cost))</td></tr>"
            }
            html += "</table>"
        }
        return html + "</section>\n"
    }

    /// One-line findings, worst first: what a reader should look at.
    private func verdicts() -> [(String, String)] {
        var out: [(String, String)] = []
        if status.failed > 0 { out.append(("bad", "\(status.failed) rows failed: `batch retry` reruns them")) }
        for d in quality.dimensions {
            if let t = d.test, t.pValue < 0.01, let under = d.mostUnderRepresented {
                out.append(("bad", String(format: "done rows are biased by %@ (p = %.2g): %@ is %.1f%% of done rows against %.1f%% planned", d.name, t.pValue, under.value, under.doneShare * 100, under.plannedShare * 100)))
            }
        }
        let flagged = QualityCheck.allCases.compactMap { check in quality.failing[check].map { "\($0) \(check.rawValue)" } }
        if !flagged.isEmpty { out.append(("warn", "flagged rows: " + flagged.joined(separator: ", ") + " (`batch export --drop` leaves them out)")) }
        if status.done == 0 {
            out.append(("warn", "no row is done yet, so there is no data to judge"))
        } else if out.isEmpty {
            out.append(("good", "no failed rows, no sign of bias, no flagged rows"))
        }
        if status.pending + status.inFlight > 0 { out.append(("warn", "\(status.pending + status.inFlight) rows are not finished yet: `batch resume` goes on")) }
        return out
    }

    // MARK: the run

    private func runSection() -> String {
        var html = "<section id=\"run\"><h2>The run</h2>"
        guard let t = timeline else { return html + "<p>No attempt is recorded yet.</p></section>\n" }
        let minutes = Double(t.widthMs) / 60_000
        html += "<p>\(t.buckets.count) buckets of \(e(DurationText.of(Double(t.widthMs) / 1_000))) from \(e(Self.utc(t.originMs))); <span data-key=\"timeline_attempts\">\(t.attempts)</span> attempts, <span data-key=\"timeline_rows_done\">\(t.buckets.reduce(0) { $0 + $1.rowsDone })</span> rows done.</p>"
        let label = { (i: Int) in DurationText.of(Double(Int64(i) * t.widthMs) / 1_000) }

        var rate: [ChartSeries]
        if t.rowsDoneByLedger.count > 1 {
            rate = t.rowsDoneByLedger.enumerated().map { n, rows in
                ChartSeries("shard \(status.ledgers[n].shard ?? "\(n)")", SVGChart.palette[n % SVGChart.palette.count], rows.map { Double($0) / minutes })
            }
        } else {
            rate = [ChartSeries("rows done", "#2ca02c", t.buckets.map { Double($0.rowsDone) / minutes })]
        }
        html += figure("Rows done per minute", SVGChart.timeChart(rate, stacked: t.rowsDoneByLedger.count > 1, yUnit: "rows/min", xLabel: label, title: "rows done per minute"))

        let outcomes = ["done", "retry", "failed", "abandoned", "orphaned"]
        let outcomeColors = ["done": "#2ca02c", "retry": "#ff9f1c", "failed": "#d62728", "abandoned": "#7f7f7f", "orphaned": "#9467bd"]
        let outcomeSeries = outcomes.compactMap { o -> ChartSeries? in
            let values = t.buckets.map { Double($0.outcomes[o] ?? 0) }
            return values.contains { $0 > 0 } ? ChartSeries(o, outcomeColors[o]!, values) : nil
        }
        html += figure("Requests by outcome (per bucket)", SVGChart.timeChart(outcomeSeries, stacked: true, yUnit: "requests", xLabel: label, title: "requests by outcome"))

        var windowValues: [Double] = []
        var changes = t.windowChanges[...]
        var current = 0.0
        for i in 0..<t.buckets.count {
            let end = t.originMs + Int64(i + 1) * t.widthMs
            while let c = changes.first, c.atMs < end {
                current = Double(c.size)
                changes = changes.dropFirst()
            }
            windowValues.append(current)
        }
        var flight = [ChartSeries("requests in flight", "#1f77b4", t.inFlight.map(Double.init))]
        if !t.windowChanges.isEmpty { flight.append(ChartSeries("concurrency window", "#ff7f0e", windowValues)) }
        html += figure("Requests in flight and the concurrency window", SVGChart.timeChart(flight, stacked: false, yUnit: "requests", xLabel: label, title: "in flight and window", steps: true))
        let reasons = Dictionary(grouping: t.windowChanges, by: \.reason).mapValues(\.count)
        if !reasons.isEmpty {
            html += "<p class=\"note\">Window changes: " + reasons.sorted { $0.key < $1.key }.map { "\(e($0.key)) \($0.value)" }.joined(separator: ", ") + "</p>"
        }

        let limited = t.buckets.map { Double($0.rateLimited) }
        let retryAfter = t.buckets.reduce(0) { $0 + $1.retryAfterSeconds }
        html += figure("Rate limits: 429 answers per bucket", limited.contains { $0 > 0 }
            ? SVGChart.timeChart([ChartSeries("429 answers", "#d62728", limited)], stacked: true, yUnit: "429s", xLabel: label, title: "429 answers")
                + "<p class=\"note\"><span data-key=\"rate_limited\">\(Int(limited.reduce(0, +)))</span> answers were 429; their Retry-After asked for \(String(format: "%.0f", retryAfter)) s of waiting in all.</p>"
            : "<p class=\"note\">No 429 answer: <span data-key=\"rate_limited\">0</span>.</p>")

        let p = [(0.5, "p50", "#2ca02c"), (0.9, "p90", "#ff7f0e"), (0.99, "p99", "#d62728")]
        let latencySeries = p.map { q, name, color in ChartSeries(name, color, t.buckets.map { ($0.latency.percentile(q) ?? 0) / 1_000 }) }
        html += figure("Latency percentiles over time", SVGChart.timeChart(latencySeries, stacked: false, yUnit: "seconds", xLabel: label, title: "latency percentiles"))
        html += figure("Latency histogram (all answered attempts)", histogram(t.latency, scale: 1_000, unit: "s"))

        let kinds = status.errors.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
        if kinds.isEmpty {
            html += figure("Errors by kind over time", "<p class=\"note\">No attempt ended with an error.</p>")
        } else {
            let top = kinds.prefix(8).map(\.key)
            let series = top.enumerated().map { n, kind in ChartSeries(kind, SVGChart.palette[(n + 3) % SVGChart.palette.count], t.buckets.map { Double($0.errors[kind] ?? 0) }) }
            html += figure("Errors by kind over time", SVGChart.timeChart(series, stacked: true, yUnit: "errors", xLabel: label, title: "errors by kind")
                + "<table class=\"small\"><tr><th>error kind</th><th>attempts</th></tr>" + kinds.map { "<tr><td>\(e($0.key))</td><td data-error=\"\(e($0.key))\">\($0.value)</td></tr>" }.joined() + "</table>")
        }

        var cumulative = 0.0
        let costSeries = ChartSeries("cost so far", "#9467bd", t.buckets.map { cumulative += $0.cost; return cumulative })
        html += figure("Cost over time (cumulative)", SVGChart.timeChart([costSeries], stacked: false, yUnit: "cost", xLabel: label, title: "cost"))
        let tokenSeries = [
            ChartSeries("prompt tokens (not cached)", "#1f77b4", t.buckets.map { Double($0.promptTokens - $0.cachedTokens) }),
            ChartSeries("prompt tokens read from the cache", "#17becf", t.buckets.map { Double($0.cachedTokens) }),
            ChartSeries("completion tokens", "#ff7f0e", t.buckets.map { Double($0.completionTokens) }),
        ]
        html += figure("Tokens per bucket", SVGChart.timeChart(tokenSeries, stacked: true, yUnit: "tokens", xLabel: label, title: "tokens"))
        if status.promptTokens > 0 {
            html += "<p class=\"note\">Cache hits: <span data-key=\"cache_share\">\(SVGChart.percent(Double(status.cachedPromptTokens) / Double(status.promptTokens)))</span> of prompt tokens were read from the provider's prompt cache.</p>"
        }
        return html + "</section>\n"
    }

    // MARK: the data

    private func dataSection() -> String {
        let q = quality
        var html = "<section id=\"data\"><h2>The data</h2>"
        html += "<p>Measured on the <span data-key=\"quality_rows\">\(q.doneRows)</span> done rows against what the recipe asked for each of them (its draw from <code>random.Random(index)</code>).\(q.unreadable > 0 ? " \(q.unreadable) done rows are not a readable conversation." : "")</p>"
        html += "<table><tr><th>check</th><th>rows failing</th><th>share</th><th>what it means</th></tr>"
        let meaning: [QualityCheck: String] = [
            .exactDuplicates: "the same conversation as an earlier row",
            .nearDuplicates: String(format: "word-shingle similarity of at least %.2f with an earlier row (MinHash)", q.nearDuplicateThreshold),
            .shapeMismatch: "another number of messages than the dynamic asks for (\"short 2-turn\": 2)",
            .nonASCII: "a character outside ASCII (the prompt asks for plain ASCII)",
            .firstMessageStyle: "a first message longer than twice the drawn examples' plus two words",
        ]
        for check in QualityCheck.allCases {
            let n = q.failing[check] ?? 0
            html += "<tr><td><code>\(check.rawValue)</code></td><td data-key=\"failing_\(check.rawValue)\">\(n)</td><td>\(share(n, q.doneRows))</td><td>\(e(meaning[check] ?? ""))</td></tr>"
        }
        html += "</table><p class=\"note\"><code>batch export --drop CHECK,...</code> leaves such rows out and writes them, with reasons, beside the export.</p>"

        html += "<h3>Did done rows keep the sampled mix?</h3><p>Done against planned rows per value (chi-square test of independence: a small p means rows were lost unevenly, so the dataset is biased toward what survived).</p>"
        for d in q.dimensions {
            let verdict: String
            if let t = d.test {
                let biased = t.pValue < 0.01
                let under = d.mostUnderRepresented.map { String(format: "; most under-represented: %@ (%.1f%% of done rows, %.1f%% planned)", $0.value, $0.doneShare * 100, $0.plannedShare * 100) } ?? ""
                verdict = String(format: "chi-square %.2f, %d degrees of freedom, p = %.3g: ", t.statistic, t.degreesOfFreedom, t.pValue)
                    + (biased ? "biased" + under : "no sign of bias")
                html += "<h4>\(e(d.name))</h4><p class=\"\(biased ? "bad" : "good")\" data-dimension=\"\(e(d.name))\" data-p=\"\(t.pValue)\">\(e(verdict))</p>"
            } else {
                html += "<h4>\(e(d.name))</h4><p class=\"note\">Not tested (fewer than two values planned, or nothing done).</p>"
            }
            let totalDone = Double(max(d.done.reduce(0, +), 1)), totalPlanned = Double(max(d.planned.reduce(0, +), 1))
            var order = Array(d.values.indices)
            if d.values.count > 14 {
                // Many values (topics): the 14 furthest from their planned share.
                order.sort { abs(Double(d.done[$0]) / totalDone - Double(d.planned[$0]) / totalPlanned) > abs(Double(d.done[$1]) / totalDone - Double(d.planned[$1]) / totalPlanned) }
                order = Array(order.prefix(14))
                html += "<p class=\"note\">The 14 of \(d.values.count) values furthest from their planned share:</p>"
            }
            html += SVGChart.pairedShares(
                labels: order.map { d.values[$0] }, first: order.map { Double(d.planned[$0]) / totalPlanned },
                second: order.map { Double(d.done[$0]) / totalDone }, names: ("planned", "done"), title: d.name)
        }

        html += "<h3>Shape: messages per conversation, by dynamic</h3><table><tr><th>dynamic</th><th>asks for</th><th>rows</th><th>with that many messages</th><th>messages: rows</th></tr>"
        for s in q.shapes {
            let counts = s.messageCounts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            html += "<tr><td>\(e(s.dynamic))</td><td>\(s.expected.map(String.init) ?? "-")</td><td>\(s.rows)</td><td>\(s.matching.map { "\($0) (\(share($0, s.rows)))" } ?? "-")</td><td>\(e(counts))</td></tr>"
        }
        html += "</table>"

        html += "<h3>Lengths</h3>"
        html += figure("User characters per conversation", histogram(q.userCharacters, scale: 1, unit: "characters"))
        html += figure("Assistant characters per conversation", histogram(q.assistantCharacters, scale: 1, unit: "characters"))

        html += "<h3>Style</h3><ul>"
        html += "<li>Non-ASCII: <span data-key=\"non_ascii_rows\">\(q.nonASCIIRows)</span> rows (\(share(q.nonASCIIRows, q.doneRows))) have a character outside ASCII.</li>"
        html += "<li>First messages in the style asked: <span data-key=\"first_message_in_style\">\(q.firstMessageInStyle)</span> of \(q.firstMessageChecked) (\(share(q.firstMessageInStyle, q.firstMessageChecked))).</li></ul>"

        html += String(format: "<h3>Duplicates</h3><p><span data-key=\"exact_duplicates\">%ld</span> exact duplicates and <span data-key=\"near_duplicates\">%ld</span> near-duplicates (estimated Jaccard similarity of 3-word shingles at least %.2f, MinHash with 64 hashes and LSH; <code>batch report --near-duplicate-threshold</code> sets it). The earliest row of each group is kept.</p>", q.exactDuplicates, q.nearDuplicates, q.nearDuplicateThreshold)
        if !q.duplicateExamples.isEmpty {
            html += "<table class=\"small\"><tr><th>row</th><th>repeats row</th><th>similarity</th><th>row's start</th><th>earlier row's start</th></tr>"
            for x in Self.shownDuplicates(q.duplicateExamples) {
                html += "<tr><td>\(x.index)</td><td>\(x.of)</td><td>\(String(format: "%.2f", x.similarity))</td><td>\(e(snippet(x.index)))</td><td>\(e(snippet(x.of)))</td></tr>"
            }
            html += "</table>"
        }
        return html + "</section>\n"
    }

    // MARK: helpers

    /// The duplicate examples the page shows: up to four exact and four near ones.
    static func shownDuplicates(_ all: [DuplicateExample]) -> [DuplicateExample] {
        Array(all.filter { $0.similarity == 1 }.prefix(4) + all.filter { $0.similarity < 1 }.prefix(4))
    }

    private func snippet(_ index: Int64) -> String {
        guard let line = exampleLines[index], let facts = ConversationFacts(line: line) else { return "" }
        let text = facts.messages.map { "\($0.role): \($0.content)" }.joined(separator: " / ")
        return text.count > 140 ? String(text.prefix(139)) + "…" : text
    }

    private func histogram(_ h: Histogram, scale: Double, unit: String) -> String {
        guard h.count > 0 else { return "<p class=\"note\">No values.</p>" }
        // Merge the fine bins into about 30 for drawing.
        let first = h.bins.firstIndex { $0 > 0 } ?? 0, last = h.bins.lastIndex { $0 > 0 } ?? 0
        let group = max(1, (last - first + 1 + 29) / 30)
        var labels: [String] = [], values: [Double] = []
        for start in stride(from: first, through: last, by: group) {
            labels.append(SVGChart.format(Histogram.lowerEdge(of: start) / scale))
            values.append(Double(h.bins[start..<min(start + group, h.bins.count)].reduce(0, +)))
        }
        let stats = [0.5, 0.9, 0.99].compactMap { q in h.percentile(q).map { String(format: "p%.0f %@", q * 100, SVGChart.format($0 / scale)) } }
        return SVGChart.bars(labels: labels, values: values, color: "#1f77b4", yUnit: "count", title: unit)
            + "<p class=\"note\">\(h.count) values; \(stats.joined(separator: ", ")) \(e(unit)); mean \(SVGChart.format((h.mean ?? 0) / scale)); bars start at the value under them.</p>"
    }

    private func figure(_ title: String, _ body: String) -> String {
        "<figure><figcaption>\(e(title))</figcaption>\(body)</figure>"
    }

    private func share(_ n: Int, _ of: Int) -> String { of > 0 ? SVGChart.percent(Double(n) / Double(of)) : "-" }
    private func e(_ text: String) -> String { SVGChart.escape(text) }

    static func utc(_ ms: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1_000))
    }

    static let css = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;max-width:820px;margin:24px auto;padding:0 16px}
        h1{font-size:24px;margin:0}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:32px}h3{margin-top:24px}h4{margin:16px 0 4px}
        header p{color:#555;margin:4px 0 12px}nav a{margin-right:12px}
        .cards{display:flex;flex-wrap:wrap;gap:8px}.card{border:1px solid #ddd;border-radius:6px;padding:6px 10px;min-width:120px}
        .card .v{display:block;font-size:18px;font-weight:600}.card .k{color:#666;font-size:12px}
        table{border-collapse:collapse;margin:8px 0;width:100%}td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
        table.small{font-size:12px}figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}
        svg{max-width:100%;height:auto;display:block}svg text{font:11px system-ui,sans-serif;fill:#444}
        .grid{stroke:#eee}.axis{stroke:#999}
        .legend span{margin-right:14px;font-size:12px;white-space:nowrap}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
        .note{color:#555;font-size:12px}.good{color:#1b5e20}.bad{color:#b71c1c;font-weight:600}.warn{color:#8a5300}
        .verdicts span{display:block}footer{margin:32px 0;color:#777;font-size:12px}code{background:#f4f4f4;padding:0 3px}
        """
}
