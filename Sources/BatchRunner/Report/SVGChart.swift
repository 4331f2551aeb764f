import Foundation

/// One series of a chart: a name for the legend, a colour, a value per bucket.
public struct ChartSeries: Sendable {
    public var name: String
    public var color: String
    public var values: [Double]

    public init(_ name: String, _ color: String, _ values: [Double]) {
        self.name = name
        self.color = color
        self.values = values
    }
}

/// Inline SVG charts for the report: no script, no font or style from outside the file.
enum SVGChart {
    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    struct Frame {
        var width = 760.0, height = 210.0
        var left = 64.0, right = 14.0, top = 12.0, bottom = 30.0
        var plotWidth: Double { width - left - right }
        var plotHeight: Double { height - top - bottom }
    }

    /// Lines (or stacked bars) over time buckets; `xLabel(i)` names the start of bucket i.
    static func timeChart(
        _ series: [ChartSeries], stacked: Bool, yUnit: String, xLabel: (Int) -> String, title: String,
        steps: Bool = false
    ) -> String {
        let frame = Frame()
        let n = max(series.map(\.values.count).max() ?? 0, 1)
        let tops: [Double] = stacked
            ? (0..<n).map { i in series.reduce(0) { $0 + ($1.values.indices.contains(i) ? $1.values[i] : 0) } }
            : series.flatMap(\.values)
        let yMax = niceCeiling(tops.max() ?? 0)
        var svg = open(frame, title: title)
        svg += yAxis(frame, max: yMax, unit: yUnit)
        svg += xAxis(frame, buckets: n, label: xLabel)
        let bw = frame.plotWidth / Double(n)
        func y(_ v: Double) -> Double { frame.top + frame.plotHeight * (1 - v / yMax) }
        if stacked {
            var base = [Double](repeating: 0, count: n)
            for s in series {
                for (i, v) in s.values.enumerated() where v > 0 {
                    let x = frame.left + Double(i) * bw
                    svg += rect(x + bw * 0.08, y(base[i] + v), bw * 0.84, y(base[i]) - y(base[i] + v), s.color, "\(s.name): \(format(v))")
                    base[i] += v
                }
            }
        } else {
            for s in series where !s.values.isEmpty {
                var d = ""
                for (i, v) in s.values.enumerated() {
                    let x = fmt(frame.left + (Double(i) + 0.5) * bw), yv = fmt(y(v))
                    if i == 0 { d = "M\(x),\(yv)" } else if steps { d += " H\(x) V\(yv)" } else { d += " L\(x),\(yv)" }
                }
                svg += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.8\"><title>\(escape(s.name))</title></path>"
            }
        }
        svg += "</svg>"
        return svg + legend(series)
    }

    /// Vertical bars with a label under each (a histogram).
    static func bars(labels: [String], values: [Double], color: String, yUnit: String, title: String) -> String {
        let frame = Frame()
        let n = max(values.count, 1)
        let yMax = niceCeiling(values.max() ?? 0)
        var svg = open(frame, title: title)
        svg += yAxis(frame, max: yMax, unit: yUnit)
        let bw = frame.plotWidth / Double(n)
        let every = max(1, Int((Double(n) / 12).rounded(.up)))
        for (i, v) in values.enumerated() {
            let x = frame.left + Double(i) * bw
            let h = frame.plotHeight * v / yMax
            if v > 0 { svg += rect(x + bw * 0.08, frame.top + frame.plotHeight - h, bw * 0.84, h, color, "\(labels[i]): \(format(v))") }
            if i % every == 0 {
                svg += "<text x=\"\(fmt(x + bw / 2))\" y=\"\(fmt(frame.height - 12))\" text-anchor=\"middle\" class=\"tick\">\(escape(labels[i]))</text>"
            }
        }
        svg += "<line x1=\"\(fmt(frame.left))\" y1=\"\(fmt(frame.top + frame.plotHeight))\" x2=\"\(fmt(frame.width - frame.right))\" y2=\"\(fmt(frame.top + frame.plotHeight))\" class=\"axis\"/>"
        return svg + "</svg>"
    }

    /// Two shares per category, side by side in horizontal bars (planned against done).
    static func pairedShares(labels: [String], first: [Double], second: [Double], names: (String, String), title: String) -> String {
        let rowHeight = 22.0, labelWidth = 300.0, width = 760.0
        let height = Double(labels.count) * rowHeight + 28
        let maxShare = max(first.max() ?? 0, second.max() ?? 0, 0.0001)
        let plot = width - labelWidth - 70
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" role=\"img\" aria-label=\"\(escape(title))\">"
        for (i, label) in labels.enumerated() {
            let y = Double(i) * rowHeight + 4
            let shown = label.count > 46 ? String(label.prefix(45)) + "…" : label
            svg += "<text x=\"\(fmt(labelWidth - 8))\" y=\"\(fmt(y + 14))\" text-anchor=\"end\" class=\"label\">\(escape(shown))<title>\(escape(label))</title></text>"
            let w1 = plot * first[i] / maxShare, w2 = plot * second[i] / maxShare
            svg += rect(labelWidth, y + 2, w1, 8, "#9e9e9e", "\(names.0): \(percent(first[i]))")
            svg += rect(labelWidth, y + 10, w2, 8, "#1f77b4", "\(names.1): \(percent(second[i]))")
            svg += "<text x=\"\(fmt(labelWidth + max(w1, w2) + 6))\" y=\"\(fmt(y + 16))\" class=\"tick\">\(percent(second[i]))</text>"
        }
        svg += "</svg>"
        return svg + legend([ChartSeries(names.0, "#9e9e9e", []), ChartSeries(names.1, "#1f77b4", [])])
    }

    // MARK: pieces

    private static func open(_ frame: Frame, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(fmt(frame.width)) \(fmt(frame.height))\" width=\"\(fmt(frame.width))\" height=\"\(fmt(frame.height))\" role=\"img\" aria-label=\"\(escape(title))\">"
    }

    private static func yAxis(_ frame: Frame, max: Double, unit: String) -> String {
        var svg = ""
        for k in 0...4 {
            let v = max * Double(k) / 4
            let y = frame.top + frame.plotHeight * (1 - Double(k) / 4)
            svg += "<line x1=\"\(fmt(frame.left))\" y1=\"\(fmt(y))\" x2=\"\(fmt(frame.width - frame.right))\" y2=\"\(fmt(y))\" class=\"grid\"/>"
            svg += "<text x=\"\(fmt(frame.left - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\" class=\"tick\">\(format(v))</text>"
        }
        svg += "<text x=\"12\" y=\"\(fmt(frame.top + frame.plotHeight / 2))\" transform=\"rotate(-90 12 \(fmt(frame.top + frame.plotHeight / 2)))\" text-anchor=\"middle\" class=\"tick\">\(escape(unit))</text>"
        return svg
    }

    private static func xAxis(_ frame: Frame, buckets n: Int, label: (Int) -> String) -> String {
        var svg = "<line x1=\"\(fmt(frame.left))\" y1=\"\(fmt(frame.top + frame.plotHeight))\" x2=\"\(fmt(frame.width - frame.right))\" y2=\"\(fmt(frame.top + frame.plotHeight))\" class=\"axis\"/>"
        let every = max(1, Int((Double(n) / 8).rounded(.up)))
        for i in stride(from: 0, through: n, by: every) {
            let x = frame.left + frame.plotWidth * Double(i) / Double(n)
            svg += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(frame.top + frame.plotHeight))\" x2=\"\(fmt(x))\" y2=\"\(fmt(frame.top + frame.plotHeight + 4))\" class=\"axis\"/>"
            svg += "<text x=\"\(fmt(x))\" y=\"\(fmt(frame.height - 10))\" text-anchor=\"middle\" class=\"tick\">\(escape(label(i)))</text>"
        }
        return svg
    }

    private static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ color: String, _ tip: String) -> String {
        "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(max(w, 0)))\" height=\"\(fmt(max(h, 0)))\" fill=\"\(color)\"><title>\(escape(tip))</title></rect>"
    }

    static func legend(_ series: [ChartSeries]) -> String {
        guard series.count > 1 else { return "" }
        return "<div class=\"legend\">" + series.map {
            "<span><i style=\"background:\($0.color)\"></i>\(escape($0.name))</span>"
        }.joined() + "</div>"
    }

    /// The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value` (1 for 0).
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let power = pow(10, floor(log10(value)))
        for m in [1.0, 2, 2.5, 5, 10] where m * power >= value * (1 - 1e-12) { return m * power }
        return 10 * power
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    /// A number for a tick or tooltip: thousands as k, small values with decimals.
    static func format(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 10_000 { return String(format: "%.0fk", v / 1_000) }
        if abs(v) >= 100 || v == v.rounded() { return String(format: "%.0f", v) }
        if abs(v) >= 1 { return String(format: "%.1f", v) }
        return String(format: "%.3g", v)
    }

    static func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }

    /// Text for HTML and SVG: &, <, >, " escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
