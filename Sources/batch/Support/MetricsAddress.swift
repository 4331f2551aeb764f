/// `--metrics-listen ADDR:PORT`: `127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:9464`, `localhost:0`.
/// An IPv6 address goes in brackets, as in a URL; port 0 asks the system for a free one.
struct MetricsAddress: Equatable, Sendable {
    /// The address to bind, without brackets.
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// nil when `text` is not ADDR:PORT with a port in 0...65535.
    init?(_ text: String) {
        let hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            // [v6]:port
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
            guard hostPart.contains(":") else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            // An unbracketed IPv6 address would be ambiguous (is ::1:9464 a port?).
            guard !hostPart.contains(":") else { return nil }
        }
        guard !hostPart.isEmpty, !hostPart.contains(where: { $0 == " " || $0 == "/" || $0 == "[" || $0 == "]" }),
              !portPart.isEmpty, portPart.allSatisfy(\.isASCII), portPart.allSatisfy(\.isNumber),
              let port = Int(portPart), (0...65_535).contains(port) else { return nil }
        self.init(host: String(hostPart), port: port)
    }

    /// How a URL names the host: IPv6 addresses in brackets.
    var urlHost: String { host.contains(":") ? "[\(host)]" : host }

    /// `http://ADDR:PORT/metrics` with `port` (the one bound, when 0 was asked for).
    func url(port: Int) -> String { "http://\(urlHost):\(port)/metrics" }
}
