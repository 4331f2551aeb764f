import Testing
@testable import Provider

/// Requests per connection, connection by connection: no sockets.
@Suite("Connection loads")
struct ConnectionLoadsTests {
    let a = ConnectionLoads.Key(localPort: 50_000, remotePort: 443)
    let b = ConnectionLoads.Key(localPort: 50_001, remotePort: 443)

    @Test("each connection's count and peak follow its requests")
    func countsAndPeaks() {
        var loads = ConnectionLoads()
        let first = [loads.attach(a), loads.attach(a), loads.attach(a)]
        _ = loads.attach(b)
        #expect(loads.current(a) == 3 && loads.current(b) == 1)
        for ticket in first { loads.leave(ticket) }
        #expect(loads.current(a) == 0)
        #expect(loads.busiestPeak == 3, "the peak stays after the requests finish")
        loads.closed(a)
        #expect(loads.count == 1)
        #expect(loads.busiestPeak == 1)
    }

    @Test("a request still counted on a closed connection never changes a new one with the same ports")
    func reusedPorts() {
        var loads = ConnectionLoads()
        let stale = loads.attach(a)
        loads.closed(a)
        let fresh = loads.attach(a)
        #expect(stale != fresh)
        loads.leave(stale)
        #expect(loads.current(a) == 1)
        loads.leave(fresh)
        #expect(loads.current(a) == 0)
    }

    @Test("a connection a request left to be sent again elsewhere no longer counts for the peak")
    func resentClosesConnection() {
        var loads = ConnectionLoads()
        let tickets = (0..<8).map { _ in loads.attach(a) }
        _ = loads.attach(b)
        #expect(loads.busiestPeak == 8)
        loads.leave(tickets[0], resent: true)
        #expect(loads.busiestPeak == 1)
    }
}
