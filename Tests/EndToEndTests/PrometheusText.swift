import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Reading what `--metrics-listen` serves: one scrape over real HTTP, and Prometheus' text
/// exposition format parsed strictly enough to catch a malformed line.
enum PrometheusText {
    struct Scrape {
        var status: Int
        var contentType: String?
        var body: String
    }

    /// `GET url`.
    static func scrape(_ url: String) async throws -> Scrape {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 10
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return Scrape(
            status: http?.statusCode ?? 0, contentType: http?.value(forHTTPHeaderField: "Content-Type"),
            body: String(decoding: data, as: UTF8.self))
    }

    struct FormatError: Error, CustomStringConvertible {
        let line: String
        var description: String { "not a line of Prometheus' text format: \(line)" }
    }

    /// `name{labels} value` (labels optional, a timestamp may follow).
    private static let samplePattern =
        #"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*,?)?\})? (\S+)(?: -?[0-9]+)?$"#

    /// The samples, keyed as written (`batch_rows{state="done"}`). Throws on any line that is not
    /// a sample, a `# HELP` or `# TYPE` comment, or blank; on a value that is not a number; and on
    /// a sample whose family has no `# TYPE`.
    static func samples(_ text: String) throws -> [String: Double] {
        let sampleLine = try Regex(samplePattern)
        var samples: [String: Double] = [:]
        let families = types(text)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
            guard let match = try sampleLine.wholeMatch(in: String(line)),
                  let name = match.output[1].substring, let valueText = match.output[3].substring,
                  let value = number(valueText) else { throw FormatError(line: String(line)) }
            let family = ["_bucket", "_sum", "_count"].first { name.hasSuffix($0) && families[String(name.dropLast($0.count))] == "histogram" }
                .map { String(name.dropLast($0.count)) } ?? String(name)
            guard families[family] != nil else { throw FormatError(line: "\(line) (no # TYPE for \(family))") }
            samples[String(name) + String(match.output[2].substring ?? "")] = value
        }
        return samples
    }

    /// `# TYPE name type` lines: name to type.
    static func types(_ text: String) -> [String: String] {
        var types: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
        }
        return types
    }

    private static func number(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }
}
