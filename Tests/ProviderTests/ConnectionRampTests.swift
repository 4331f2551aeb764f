import Testing
@testable import Provider

/// The connection ramp's rules, event by event: no clock, no sockets.
@Suite("Connection ramp")
struct ConnectionRampTests {
    /// Admits requests one by one, as the event loop does, until the ramp says wait: how many
    /// went, and how many of them with a connection of their own (reserved as they go).
    static func admitAll(_ ramp: inout ConnectionRamp, inside: Int = 0, queued: Int) -> (admitted: Int, newConnections: Int) {
        var admitted = 0, fresh = 0
        while admitted < queued, let admission = ramp.admit(inside: inside + admitted, queued: queued - admitted) {
            admitted += 1
            if admission == .newConnection {
                fresh += 1
                ramp.connectionReserved()
            }
        }
        return (admitted, fresh)
    }

    /// `count` reserved connections whose sockets opened (handshakes under way).
    static func open(_ count: Int, _ ramp: inout ConnectionRamp, reserved: Bool = false) {
        for _ in 0..<count {
            if reserved { ramp.reservationEnded() }
            ramp.socketOpened(); ramp.connectStarted()
        }
    }

    @Test("HTTP/1.1: at first only `burst` requests go to libcurl; each connection that comes up lets two more go, each for a new connection")
    func slowStartHTTP1() {
        var ramp = ConnectionRamp(maxConnections: 1024, streamsPerConnection: 100, burst: 16)
        #expect(Self.admitAll(&ramp, queued: 400) == (16, 0))
        Self.open(16, &ramp)
        // 16 handshakes under way fill the window: nothing more until one finishes.
        #expect(ramp.admit(inside: 16, queued: 384) == nil)
        ramp.connectSucceeded()
        ramp.requestAttached()
        ramp.requestDetached(httpMajorVersion: 1)
        #expect(ramp.window == 17)
        #expect(ramp.multiplexed == false)
        // 15 inside (connecting); the established connection is idle: one request for it, then
        // two new connections (window 17 - 15 connecting).
        #expect(ramp.admit(inside: 15, queued: 385) == .existing)
        #expect(Self.admitAll(&ramp, inside: 16, queued: 384) == (2, 2))
        #expect(ramp.reserved == 2)
    }

    @Test("the window doubles per round of handshakes and stops at its maximum")
    func windowGrowth() {
        var ramp = ConnectionRamp(maxConnections: 4096, streamsPerConnection: 100, burst: 16, maxWindow: 64)
        var rounds = 0
        while ramp.window < 64 {
            let start = ramp.window
            for _ in 0..<start { ramp.socketOpened(); ramp.connectStarted() }
            for _ in 0..<start { ramp.connectSucceeded() }
            #expect(ramp.window == min(64, 2 * start))
            rounds += 1
        }
        #expect(rounds == 2)
        for _ in 0..<100 { ramp.socketOpened(); ramp.connectStarted(); ramp.connectSucceeded() }
        #expect(ramp.window == 64)
    }

    @Test("a connect timeout halves the window; other failures do not")
    func timeoutHalves() {
        var ramp = ConnectionRamp(maxConnections: 1024, streamsPerConnection: 100, burst: 16)
        for _ in 0..<3 { ramp.socketOpened(); ramp.connectStarted() }
        ramp.connectFailed(timedOut: true)
        #expect(ramp.window == 8)
        ramp.connectFailed(timedOut: false)
        #expect(ramp.window == 8)
        ramp.connectFailed(timedOut: true)
        #expect(ramp.window == 4)
        #expect(ramp.connecting == 0)
        for _ in 0..<10 { ramp.connectFailed(timedOut: true) }
        #expect(ramp.window == 1, "never below one handshake at a time")
    }

    @Test("HTTP/2: requests sharing a connection reveal multiplexing; then each established connection carries its streams, and the rest open new connections, several at once")
    func multiplexing() {
        var ramp = ConnectionRamp(maxConnections: 1024, streamsPerConnection: 16, burst: 16)
        // Before anything is known the 16 admitted requests wait for the one connection (CURLOPT_PIPEWAIT).
        #expect(Self.admitAll(&ramp, queued: 1024) == (16, 0))
        ramp.socketOpened(); ramp.connectStarted()
        ramp.connectSucceeded()
        ramp.requestAttached()
        #expect(ramp.multiplexed == nil)
        ramp.requestAttached()
        #expect(ramp.multiplexed == true, "two requests on one connection")
        // 16 inside fill the established connection's streams; 1,008 wait. The next 16 (the
        // handshakes allowed at once) each open a connection of their own.
        #expect(ConnectionRamp.multiplexedConnects == 16)
        #expect(Self.admitAll(&ramp, inside: 16, queued: 1008) == (16, 16))
        #expect(ramp.reserved == 16)
        Self.open(16, &ramp, reserved: true)
        #expect(ramp.reserved == 0 && ramp.connecting == 16)
        #expect(ramp.admit(inside: 32, queued: 992) == nil, "16 handshakes under way")
        // One comes up: its request is on it, 15 more streams take requests that reuse it, and
        // one more handshake may start.
        ramp.connectSucceeded()
        ramp.requestAttached()
        #expect(Self.admitAll(&ramp, inside: 32, queued: 992) == (16, 1))
    }

    @Test("HTTP/2: no connection beyond what the requests need, counting the streams of those still connecting")
    func demandBound() {
        var ramp = ConnectionRamp(maxConnections: 1024, streamsPerConnection: 16, burst: 16)
        ramp.socketOpened(); ramp.connectStarted(); ramp.connectSucceeded()
        ramp.requestAttached(); ramp.requestAttached()
        // 16 on the first connection, 24 more: two connections more, not sixteen.
        #expect(Self.admitAll(&ramp, inside: 16, queued: 24) == (2, 2))
        Self.open(2, &ramp, reserved: true)
        #expect(ramp.admit(inside: 18, queued: 22) == nil, "3 connections carry 48 >= 40")
        // More requests arrive: room for one more connection's worth.
        #expect(ramp.admit(inside: 18, queued: 40) == .newConnection)
    }

    static let first = ConnectionLoads.Key(localPort: 40_001, remotePort: 443)
    static let second = ConnectionLoads.Key(localPort: 40_002, remotePort: 443)

    /// Two established connections carrying `perConnection` requests each (HTTP/2 known).
    static func twoConnections(carrying perConnection: Int) -> (ConnectionRamp, [ConnectionLoads.Ticket]) {
        var ramp = ConnectionRamp(maxConnections: 1024, streamsPerConnection: 16, burst: 16)
        var tickets: [ConnectionLoads.Ticket] = []
        for key in [first, second] {
            ramp.socketOpened(); ramp.connectStarted(); ramp.connectSucceeded()
            for _ in 0..<perConnection {
                ramp.requestAttached()
                tickets.append(ramp.loads.attach(key))
            }
        }
        return (ramp, tickets)
    }

    @Test("HTTP/2: a connection libcurl wants unasked shows the server's stream limit; from then on each connection carries that many")
    func learnedStreamLimit() {
        // The server allows 4 streams: 8 requests on 2 connections, and libcurl wants a third.
        var (ramp, _) = Self.twoConnections(carrying: 4)
        #expect(ramp.multiplexed == true)
        #expect(ramp.streamsPerConnection == 16)
        let mayOpen = ramp.connectionWanted()
        #expect(mayOpen, "the window has room: the connection may open")
        #expect(ramp.streamsPerConnection == 4)
        #expect(ramp.maxStreamsPerConnection == 16)
        ramp.socketOpened(); ramp.connectStarted()
        // 9 inside (8 attached, 1 connecting): no room on the established two. With 12 waiting,
        // 21 requests need 6 connections of 4 streams: 3 more (at 16 streams, none).
        #expect(ramp.admit(inside: 9, queued: 12) == .newConnection)
        #expect(Self.admitAll(&ramp, inside: 9, queued: 12) == (3, 3))
    }

    @Test("HTTP/2: a connection draining after GOAWAY carries fewer streams, but its peak keeps the limit")
    func drainingKeepsLimit() {
        var (ramp, tickets) = Self.twoConnections(carrying: 16)
        // The first connection drains: 15 of its requests finish; libcurl wants a new one.
        for ticket in tickets.prefix(15) { ramp.loads.leave(ticket); ramp.requestDetached(httpMajorVersion: 2) }
        let mayOpen = ramp.connectionWanted()
        #expect(mayOpen)
        #expect(ramp.streamsPerConnection == 16)
    }

    @Test("HTTP/2: a connection that carried more streams than the server allows (sent before its SETTINGS, then refused) does not hide the limit")
    func overcommittedConnectionIgnored() {
        var (ramp, tickets) = Self.twoConnections(carrying: 4)
        let extra = (0..<12).map { _ in ramp.loads.attach(Self.first) }
        #expect(ramp.loads.busiestPeak == 16)
        // The server refused 12 of the first connection's 16 streams: libcurl sends them again.
        for ticket in extra { ramp.loads.leave(ticket, resent: true) }
        let mayOpen = ramp.connectionWanted()
        #expect(mayOpen)
        #expect(ramp.streamsPerConnection == 4)
        #expect(tickets.count == 8)
    }

    @Test("not learned before multiplexing is known: HTTP/1.1 connections carry one request each")
    func noLimitOverHTTP1() {
        var ramp = ConnectionRamp(maxConnections: 64, streamsPerConnection: 16, burst: 4)
        ramp.socketOpened(); ramp.connectStarted(); ramp.connectSucceeded()
        ramp.requestAttached()
        _ = ramp.loads.attach(Self.first)
        let mayOpen = ramp.connectionWanted()
        #expect(mayOpen)
        #expect(ramp.streamsPerConnection == 16)
    }

    @Test("a refused connection means the room the ramp counted is not there: no request goes to an established connection until one finishes or a connect ends")
    func refusalStopsExistingAdmissions() {
        var (ramp, _) = Self.twoConnections(carrying: 4)
        for _ in 0..<16 { ramp.socketOpened(); ramp.connectStarted() }
        // 16 handshakes under way fill the window: the connection libcurl wants is refused.
        let mayOpen = ramp.connectionWanted()
        #expect(!mayOpen)
        #expect(ramp.roomDoubted)
        #expect(ramp.admit(inside: 24, queued: 10) == nil)
        ramp.requestDetached(httpMajorVersion: 2)
        #expect(!ramp.roomDoubted)
        #expect(ramp.admit(inside: 23, queued: 10) == .existing)
        _ = ramp.connectionWanted()
        #expect(ramp.roomDoubted)
        ramp.connectSucceeded()
        #expect(!ramp.roomDoubted)
        ramp.socketOpened(); ramp.connectStarted()
        _ = ramp.connectionWanted()
        #expect(ramp.roomDoubted)
        ramp.connectFailed(timedOut: false)
        #expect(!ramp.roomDoubted, "a failed connect frees a handshake: the next connection libcurl wants may open")
    }

    @Test("a refusal never leaves requests waiting when nothing is on an established connection")
    func doubtWithNothingInside() {
        var (ramp, _) = Self.twoConnections(carrying: 4)
        for _ in 0..<16 { ramp.socketOpened(); ramp.connectStarted() }
        _ = ramp.connectionWanted()
        #expect(ramp.roomDoubted)
        // 16 requests inside libcurl, all opening connections: the two established ones are idle.
        #expect(ramp.admit(inside: 16, queued: 4) == .existing)
        #expect(ramp.admit(inside: 20, queued: 4) == nil, "with requests on them, the doubt holds")
    }

    @Test("a connection libcurl wants unasked opens only while the handshakes under way leave room")
    func unaskedWithinWindow() {
        var ramp = ConnectionRamp(maxConnections: 1024, streamsPerConnection: 16, burst: 2)
        ramp.connectionReserved()
        let mayOpen4 = ramp.connectionWanted()
        #expect(mayOpen4)
        ramp.socketOpened(); ramp.connectStarted()
        let mayOpen5 = ramp.connectionWanted()
        #expect(!mayOpen5, "one reserved and one connecting fill a window of 2")
        ramp.reservationEnded()
        let mayOpen6 = ramp.connectionWanted()
        #expect(mayOpen6)
    }

    @Test("never more connections than the cap, counting the ones connecting and reserved")
    func connectionCap() {
        var ramp = ConnectionRamp(maxConnections: 4, streamsPerConnection: 100, burst: 16)
        #expect(Self.admitAll(&ramp, queued: 100) == (4, 0))
        Self.open(4, &ramp)
        #expect(ramp.admit(inside: 4, queued: 96) == nil)
        for _ in 0..<4 { ramp.connectSucceeded() }
        ramp.requestDetached(httpMajorVersion: 1)
        // HTTP/1.1 known: one request per connection, no new connection past the cap.
        #expect(Self.admitAll(&ramp, inside: 3, queued: 96) == (1, 0))
        ramp.socketClosed()
        #expect(ramp.open == 3)
        #expect(ramp.admit(inside: 3, queued: 96) == .newConnection, "a closed connection frees room for a new one")
        ramp.connectionReserved()
        #expect(ramp.admit(inside: 4, queued: 95) == nil)
    }

    @Test("burst 0 turns the ramp off: everything goes to libcurl at once")
    func noRamp() {
        var ramp = ConnectionRamp(maxConnections: 1024, streamsPerConnection: 100, burst: 0)
        #expect(Self.admitAll(&ramp, queued: 2000) == (1024, 0))
    }
}

@Suite("Proxy from the environment")
struct ProxySettingTests {
    @Test("https uses https_proxy, then HTTPS_PROXY, then all_proxy; http only the lower-case http_proxy")
    func choice() {
        #expect(ProxySetting.proxy(for: "https://api.example.com/v1", environment: ["HTTPS_PROXY": "http://p:1"]) == "http://p:1")
        #expect(ProxySetting.proxy(for: "https://api.example.com/v1", environment: ["https_proxy": "http://a:1", "HTTPS_PROXY": "http://b:1"]) == "http://a:1")
        #expect(ProxySetting.proxy(for: "https://api.example.com/v1", environment: ["ALL_PROXY": "http://all:1"]) == "http://all:1")
        #expect(ProxySetting.proxy(for: "http://api.example.com/v1", environment: ["HTTP_PROXY": "http://p:1"]) == nil)
        #expect(ProxySetting.proxy(for: "http://api.example.com/v1", environment: ["http_proxy": "http://p:1"]) == "http://p:1")
        #expect(ProxySetting.proxy(for: "https://api.example.com/v1", environment: ["http_proxy": "http://p:1"]) == nil)
        #expect(ProxySetting.proxy(for: "https://api.example.com/v1", environment: [:]) == nil)
    }

    @Test("NO_PROXY: hosts, domain suffixes with or without a dot, IPv6 literals, and *")
    func bypass() {
        let proxy = ["HTTPS_PROXY": "http://p:1"]
        func via(_ url: String, _ noProxy: String) -> String? {
            ProxySetting.proxy(for: url, environment: proxy.merging(["NO_PROXY": noProxy]) { $1 })
        }
        #expect(via("https://api.example.com/v1", "example.com") == nil)
        #expect(via("https://api.example.com/v1", ".example.com") == nil)
        #expect(via("https://api.example.com/v1", "other.com, localhost") == "http://p:1")
        #expect(via("https://notexample.com/v1", "example.com") == "http://p:1")
        #expect(via("https://127.0.0.1:8443/v1", "localhost,127.0.0.1") == nil)
        #expect(via("https://[::1]:8443/v1", "[::1]") == nil)
        #expect(via("https://[::1]:8443/v1", "::1") == nil)
        #expect(via("https://user:pw@API.Example.com:443/v1", "example.com") == nil)
        #expect(via("https://anything/v1", "*") == nil)
    }
}
