import Foundation

/// The proxy a request goes through, decided the way libcurl and curl's users expect from the
/// environment: `https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy` (lower case only, as
/// libcurl reads it) for http, `all_proxy`/`ALL_PROXY` for both, and `no_proxy`/`NO_PROXY`
/// (comma-separated host names, domain suffixes, IP addresses, or `*`) to go direct.
///
/// The transport sets the result explicitly on every request, so what it reports (a proxy that
/// cannot be reached) is exactly what libcurl used.
enum ProxySetting {
    /// The proxy URL for `url`, or nil to connect directly.
    static func proxy(for url: String, environment: [String: String]) -> String? {
        guard let (scheme, host) = schemeAndHost(url) else { return nil }
        func value(_ names: String...) -> String? {
            for name in names { if let v = environment[name], !v.isEmpty { return v } }
            return nil
        }
        let proxy: String?
        switch scheme {
        case "https": proxy = value("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
        case "http": proxy = value("http_proxy", "all_proxy", "ALL_PROXY")
        default: proxy = nil
        }
        guard let proxy else { return nil }
        if let noProxy = value("no_proxy", "NO_PROXY"), bypasses(host: host, noProxy: noProxy) { return nil }
        return proxy
    }

    /// True when `noProxy` names `host`: `*`, the host itself, or a domain it is under
    /// (`example.com` and `.example.com` both match `api.example.com`). Case-insensitive;
    /// IPv6 literals compare without brackets.
    static func bypasses(host: String, noProxy: String) -> Bool {
        let host = host.lowercased()
        for raw in noProxy.split(separator: ",") {
            var entry = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if entry == "*" { return true }
            if entry.hasPrefix("[") && entry.hasSuffix("]") { entry = String(entry.dropFirst().dropLast()) }
            while entry.hasPrefix(".") { entry.removeFirst() }
            guard !entry.isEmpty else { continue }
            if host == entry || host.hasSuffix("." + entry) { return true }
        }
        return false
    }

    /// `https://[::1]:8443/v1` -> ("https", "::1").
    static func schemeAndHost(_ url: String) -> (String, String)? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = url[schemeEnd.upperBound...]
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        let host: Substring
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[rest.index(after: rest.startIndex)..<close]
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
        } else {
            host = rest
        }
        return (scheme, String(host))
    }
}
