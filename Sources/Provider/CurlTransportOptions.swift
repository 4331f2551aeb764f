/// How a ``CurlTransport`` connects: TLS trust, HTTP version, and how many connections it opens
/// and how fast. Transport-wide: every request of the process shares one connection pool, one
/// TLS session cache and one certificate store.
public struct CurlTransportOptions: Sendable, Equatable {
    /// Which HTTP version to speak over TLS. Plain `http://` is always HTTP/1.1.
    public enum HTTPVersion: String, Sendable, Equatable, CaseIterable {
        /// HTTP/2 when the server offers it in the TLS handshake (ALPN), else HTTP/1.1.
        case automatic
        /// HTTP/1.1 only (`--http1.1`), for proxies and gateways that break HTTP/2.
        case http1_1 = "http1.1"
    }

    /// The most connections open at once, to all hosts together.
    public var maxConnections: Int
    /// The most HTTP/2 streams this client puts on one connection (a server's own, lower limit
    /// wins). Past it, a new connection opens, up to `maxConnections`.
    ///
    /// Few, on purpose: on every socket event libcurl 7.88 runs each transfer on that connection
    /// (`multi_socket` expires them all), so the work per answer grows with the streams sharing
    /// it. 16 opens 64 connections for 1,024 in flight (BENCHMARKS.md, "the real wire").
    public var maxConcurrentStreams: Int
    /// A response body larger than this fails the request.
    public var maxResponseBytes: Int
    /// A PEM file of the certificate authorities to trust instead of the system's
    /// (`--ca-cert`, `SSL_CERT_FILE`, `CURL_CA_BUNDLE`). nil: the system bundle.
    public var caFile: String?
    public var httpVersion: HTTPVersion
    /// New connections (TCP and TLS handshakes) started per second at most, after the first
    /// `connectBurst`; the rate doubles each second while connects succeed, and halves after a
    /// connect timeout. 0: no limit.
    public var connectRate: Int
    /// Connections that may start at once before `connectRate` applies.
    public var connectBurst: Int

    public init(
        maxConnections: Int = 1024, maxConcurrentStreams: Int = 16, maxResponseBytes: Int = 64 << 20,
        caFile: String? = nil, httpVersion: HTTPVersion = .automatic, connectRate: Int = 0, connectBurst: Int = 16
    ) {
        self.maxConnections = maxConnections
        self.maxConcurrentStreams = maxConcurrentStreams
        self.maxResponseBytes = maxResponseBytes
        self.caFile = caFile
        self.httpVersion = httpVersion
        self.connectRate = connectRate
        self.connectBurst = connectBurst
    }
}
