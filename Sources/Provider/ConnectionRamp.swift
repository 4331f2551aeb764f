/// How many requests the transport hands libcurl at once, and which of them need a new
/// connection, so that new connections open at a bounded, growing pace: never 1,024 TCP and TLS
/// handshakes in one burst, which a provider or a corporate proxy sees as a storm (and which, on
/// a busy machine, time out and look like an outage).
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
/// Once that is known, a request that finds no room on an established connection is admitted
/// as ``Admission/newConnection`` and counted as a handshake at once (libcurl opens its socket
/// only later, in the next pass), so that one pass admits no more new connections than the
/// window allows. New connections open only while the requests in the transport need them: each
/// one still connecting will carry its streams. (What the pace costs over a WAN round trip:
/// BENCHMARKS.md, session 10, `ops/bench/wan-ramp.sh`.)
///
/// Pure value: no I/O, no clock; the event loop feeds it events and asks ``admit(inside:queued:)``.
struct ConnectionRamp: Equatable {
    /// How a request admitted to libcurl gets its connection.
    enum Admission: Equatable {
        /// A slot on an established connection (or, while it is not known yet whether
        /// connections multiplex, the first connection, which it waits for).
        case existing
        /// One that needs a new connection (no established one has room): reserved in the ramp
        /// until libcurl opens its socket.
        case newConnection
    }

    let maxConnections: Int
    let streamsPerConnection: Int
    let maxWindow: Int
    /// Connections (sockets) open, connecting ones included.
    private(set) var open = 0
    /// Connections whose TCP/TLS handshake is under way.
    private(set) var connecting = 0
    /// Requests admitted for a new connection whose socket libcurl has not opened yet.
    private(set) var reserved = 0
    /// Requests attached to a connection (sent or being sent) and not yet finished.
    private(set) var attached = 0
    /// Handshakes allowed at once.
    private(set) var window: Int
    /// Handshakes allowed at once when connections multiplex: each brings its streams (16 by
    /// default), so 16 at once bring 256 slots.
    static let multiplexedConnects = 16
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

    /// Whether one more request may go to libcurl now, and how; nil: it waits in the transport.
    /// - Parameters:
    ///   - inside: requests libcurl has now (attached, connecting, or waiting for a connection).
    ///   - queued: requests waiting in the transport, this one included.
    func admit(inside: Int, queued: Int) -> Admission? {
        let handshakes = connecting + reserved
        guard let multiplexes = multiplexed else {
            // Not known yet: every established connection carries one request, each connecting
            // one the request that opened it, and the window allows new ones. Over HTTPS the
            // requests beyond the first wait for the first connection (CURLOPT_PIPEWAIT) and
            // reveal whether it multiplexes.
            let established = max(0, open - connecting)
            let newConnects = max(0, min(window - handshakes, maxConnections - open - reserved))
            return inside < established + handshakes + newConnects ? .existing : nil
        }
        let slots = multiplexes ? streamsPerConnection : 1
        let established = max(0, open - connecting)
        // Requests opening a connection hold that connection, not a slot on an established one.
        let (room, overflow) = established.multipliedReportingOverflow(by: slots)
        if overflow || inside - handshakes < room { return .existing }
        let connectLimit = multiplexes ? min(window, Self.multiplexedConnects) : window
        guard handshakes < connectLimit, open + reserved < maxConnections else { return nil }
        // Connections open or on their way will carry `slots` each: a new one only if the
        // requests in the transport need more.
        let (future, futureOverflow) = (open + reserved).multipliedReportingOverflow(by: slots)
        return futureOverflow || future >= inside + queued ? nil : .newConnection
    }

    /// A request was admitted with ``Admission/newConnection``: it counts as a handshake from now.
    mutating func connectionReserved() { reserved += 1 }

    /// A reserved connection's socket opened, or its request left before it did.
    mutating func reservationEnded() { reserved = max(0, reserved - 1) }

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
