/// How many requests the transport hands libcurl at once, so that new connections open at a
/// bounded, growing pace: never 1,024 TCP and TLS handshakes in one burst, which a provider or a
/// corporate proxy sees as a storm (and which, on a busy machine, time out and look like an
/// outage).
///
/// It is TCP slow start applied to handshakes. At most `window` connections may be connecting
/// at once; `window` starts at `burst`, grows by one for every connection that comes up (so it
/// doubles per round of handshakes) up to `maxWindow`, and halves when a connect times out.
/// Requests beyond what the open connections can carry plus the connects the window allows wait
/// in the transport, not in libcurl.
///
/// A connection carries one request at a time over HTTP/1.1, up to `streamsPerConnection` over
/// HTTP/2. Which one a server speaks is learned from what libcurl does: more requests attached
/// than connections open means they share connections (multiplexing).
///
/// Pure value: no I/O, no clock; the event loop feeds it events and asks `capacity`.
struct ConnectionRamp: Equatable {
    let maxConnections: Int
    let streamsPerConnection: Int
    let maxWindow: Int
    /// Connections (sockets) open, connecting ones included.
    private(set) var open = 0
    /// Connections whose TCP/TLS handshake is under way.
    private(set) var connecting = 0
    /// Requests attached to a connection (sent or being sent) and not yet finished.
    private(set) var attached = 0
    /// Handshakes allowed at once.
    private(set) var window: Int
    /// Handshakes allowed at once when connections multiplex.
    static let multiplexedConnects = 4
    /// True once requests were seen sharing connections (HTTP/2), false once a finished request
    /// reported HTTP/1.x; nil until then.
    private(set) var multiplexed: Bool?

    /// - Parameters:
    ///   - burst: handshakes allowed at once at the start; 0 or less: no ramp (everything at once).
    init(maxConnections: Int, streamsPerConnection: Int, burst: Int, maxWindow: Int = 64) {
        self.maxConnections = max(1, maxConnections)
        self.streamsPerConnection = max(1, streamsPerConnection)
        self.maxWindow = burst <= 0 ? Int.max / 4 : max(burst, maxWindow)
        self.window = burst <= 0 ? Int.max / 4 : burst
    }

    /// How many requests may be inside libcurl now (attached, waiting for a connection, or
    /// connecting): every established connection's slots, one request for each connection
    /// still connecting (the one that opened it), and one for each new connection the window
    /// still allows. A connection carries more than one request only once it is up and known
    /// to multiplex, so libcurl is never handed a crowd that it would spread over new connections;
    /// and once connections multiplex, at most `multiplexedConnects` open at a time (each brings
    /// its streams, 16 by default, so a few at a time suffice).
    var capacity: Int {
        let slots = multiplexed == true ? streamsPerConnection : 1
        let established = max(0, open - connecting)
        let connectLimit = multiplexed == true ? min(window, Self.multiplexedConnects) : window
        let newConnects = max(0, min(connectLimit - connecting, maxConnections - open))
        let (product, overflow) = established.multipliedReportingOverflow(by: slots)
        return overflow ? Int.max / 4 : product + connecting + newConnects
    }

    /// A socket was opened for a new connection.
    mutating func socketOpened() { open += 1 }

    /// A socket was closed (connection ended, or the losing attempt of a dual-stack connect).
    mutating func socketClosed() { open = max(0, open - 1) }

    /// A request began a new connection (its first socket opened).
    mutating func connectStarted() { connecting += 1 }

    /// A request's new connection is up (TCP and TLS done): one more handshake may start, and
    /// the window grows.
    mutating func connectSucceeded() {
        connecting = max(0, connecting - 1)
        window = min(maxWindow, window + 1)
    }

    /// A request's new connection failed. A timeout halves the window: handshakes are not
    /// getting through in time, so fewer go at once.
    mutating func connectFailed(timedOut: Bool) {
        connecting = max(0, connecting - 1)
        if timedOut { window = max(1, window / 2) }
    }

    /// A request is on a connection, about to be sent.
    mutating func requestAttached() {
        attached += 1
        if attached > open, open > 0 { multiplexed = true }
    }

    /// An attached request finished (any outcome). `httpMajorVersion` is what it spoke, 0 when unknown.
    mutating func requestDetached(httpMajorVersion: Int) {
        attached = max(0, attached - 1)
        if httpMajorVersion >= 2 { multiplexed = true } else if httpMajorVersion == 1 { multiplexed = false }
    }
}
