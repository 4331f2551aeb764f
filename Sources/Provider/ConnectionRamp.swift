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
/// libcurl still picks the connection for each request, and may want one the ramp did not admit
/// a request for: when the server allows fewer streams than assumed, or when it sends a request
/// again after a refused stream. Such a connection opens only while the window has room;
/// otherwise the event loop refuses its socket and the request waits in the transport
/// (``connectionWanted()``), so the window bounds the handshakes at once whatever libcurl does.
/// And the server's stream limit is learned there, from the busiest connection (``loads``).
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
    /// Streams per connection asked of libcurl (CURLMOPT_MAX_CONCURRENT_STREAMS).
    let maxStreamsPerConnection: Int
    /// Streams per connection the server is taken to allow: `maxStreamsPerConnection` until a
    /// connection libcurl wants unasked shows fewer (``connectionWanted()``).
    private(set) var streamsPerConnection: Int
    let maxWindow: Int
    /// Connections (sockets) open, connecting ones included.
    private(set) var open = 0
    /// Connections whose TCP/TLS handshake is under way.
    private(set) var connecting = 0
    /// Requests admitted for a new connection whose socket libcurl has not opened yet.
    private(set) var reserved = 0
    /// Requests attached to a connection (sent or being sent) and not yet finished.
    private(set) var attached = 0
    /// The same, connection by connection (when libcurl said which).
    var loads = ConnectionLoads()
    /// Handshakes allowed at once.
    private(set) var window: Int
    /// libcurl found no room where the ramp counted some and was refused a connection: no
    /// request goes to an established connection until a request finishes or a connect ends
    /// (otherwise each would be refused in turn, round after round of the loop).
    private(set) var roomDoubted = false
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
        self.maxStreamsPerConnection = max(1, streamsPerConnection)
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
        // A refusal casts doubt on the room counted, unless no request is on an established
        // connection at all (then every one of them is idle).
        let doubted = roomDoubted && inside > handshakes
        if !doubted, overflow || inside - handshakes < room { return .existing }
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

    /// libcurl wants a connection the ramp did not admit a request for: it found no room on the
    /// established ones, or it sends a request again elsewhere (refused stream, dead connection).
    /// Over HTTP/2 every connection that takes requests was full, so the server allows no more
    /// streams than the busiest connection has carried: learned here (from the peak, not the
    /// count now, which is lower on a connection draining after GOAWAY). Returns whether the
    /// connection may open: only while the handshakes under way leave room (otherwise the
    /// request waits in the transport), so that libcurl never opens more at once than the ramp
    /// allows.
    mutating func connectionWanted() -> Bool {
        let peak = loads.busiestPeak
        if multiplexed == true, peak > 0 { streamsPerConnection = min(streamsPerConnection, peak) }
        guard connecting + reserved < connectLimit else {
            roomDoubted = true
            return false
        }
        return true
    }

    /// Handshakes allowed at once now.
    private var connectLimit: Int { multiplexed == true ? min(window, Self.multiplexedConnects) : window }

    /// A request attached to a connection left it without finishing: libcurl sends it again on
    /// another (the server refused its stream, or the reused connection was dead).
    mutating func requestLeftConnection() { attached = max(0, attached - 1) }

    /// A socket was closed (connection ended, or the losing attempt of a dual-stack connect).
    mutating func socketClosed() { open = max(0, open - 1) }

    /// A request began a new connection (its first socket opened).
    mutating func connectStarted() { connecting += 1 }

    /// A request's new connection is up (TCP and TLS done): one more handshake may start, and
    /// the window grows.
    mutating func connectSucceeded() {
        connecting = max(0, connecting - 1)
        window = min(maxWindow, window + 1)
        roomDoubted = false
    }

    /// A request's new connection failed. A timeout halves the window: handshakes are not
    /// getting through in time, so fewer go at once.
    mutating func connectFailed(timedOut: Bool) {
        connecting = max(0, connecting - 1)
        roomDoubted = false
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
        roomDoubted = false
        if httpMajorVersion >= 2 { multiplexed = true } else if httpMajorVersion == 1 { multiplexed = false }
    }
}
