import Testing
@testable import Provider

/// The connection ramp's rules, event by event: no clock, no sockets.
@Suite("Connection ramp")
struct ConnectionRampTests {
    @Test("HTTP/1.1: at first only `burst` requests go to libcurl; each connection that comes up lets two more go")
    func slowStartHTTP1() {
        var ramp = ConnectionRamp(maxConnections: 1024, streamsPerConnection: 100, burst: 16)
        #expect(ramp.capacity == 16)
        for _ in 0..<16 { ramp.socketOpened(); ramp.connectStarted() }
        // 16 handshakes under way fill the window: nothing more until one finishes.
        #expect(ramp.capacity == 16)
        ramp.connectSucceeded()
        ramp.requestAttached()
        ramp.requestDetached(httpMajorVersion: 1)
        // One established connection, 15 connecting, window 17: 1 + 15 + 2.
        #expect(ramp.window == 17)
        #expect(ramp.capacity == 18)
        #expect(ramp.multiplexed == false)
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

    @Test("HTTP/2: requests sharing a connection reveal multiplexing, and each established connection then carries its streams")
    func multiplexing() {
        var ramp = ConnectionRamp(maxConnections: 1024, streamsPerConnection: 100, burst: 16)
        ramp.socketOpened(); ramp.connectStarted()
        // The 16 admitted requests wait for the one connection (CURLOPT_PIPEWAIT).
        #expect(ramp.capacity == 16)
        ramp.connectSucceeded()
        ramp.requestAttached()
        #expect(ramp.multiplexed == nil)
        ramp.requestAttached()
        #expect(ramp.multiplexed == true, "two requests on one connection")
        // 1 established x 100 streams + 0 connecting + 4 new connections (a few suffice when each carries its streams).
        #expect(ramp.capacity == 100 + ConnectionRamp.multiplexedConnects)
        ramp.requestDetached(httpMajorVersion: 2)
        #expect(ramp.multiplexed == true)
    }

    @Test("a connection still connecting carries only the request that opened it")
    func connectingCarriesOne() {
        var ramp = ConnectionRamp(maxConnections: 1024, streamsPerConnection: 100, burst: 4)
        ramp.socketOpened(); ramp.connectStarted(); ramp.connectSucceeded()
        ramp.requestAttached(); ramp.requestAttached()
        ramp.socketOpened(); ramp.connectStarted()
        // 1 established x 100 + 1 connecting + (4 - 1 connecting) new.
        #expect(ramp.capacity == 100 + ConnectionRamp.multiplexedConnects)
    }

    @Test("never more connections than the cap, counting the ones connecting")
    func connectionCap() {
        var ramp = ConnectionRamp(maxConnections: 4, streamsPerConnection: 100, burst: 16)
        #expect(ramp.capacity == 4)
        for _ in 0..<4 { ramp.socketOpened(); ramp.connectStarted() }
        #expect(ramp.capacity == 4)
        for _ in 0..<4 { ramp.connectSucceeded() }
        ramp.requestDetached(httpMajorVersion: 1)
        #expect(ramp.capacity == 4)
        ramp.socketClosed()
        #expect(ramp.capacity == 4, "a closed connection frees room for a new one")
        #expect(ramp.open == 3)
    }

    @Test("burst 0 turns the ramp off: everything goes to libcurl at once")
    func noRamp() {
        let ramp = ConnectionRamp(maxConnections: 1024, streamsPerConnection: 100, burst: 0)
        #expect(ramp.capacity == 1024)
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
