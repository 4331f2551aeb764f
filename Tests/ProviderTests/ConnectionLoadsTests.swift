import Foundation
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

    @Test("a connected socket is known by its two ports; a socket that never connected by none")
    func socketKey() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let unconnected = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener); close(client); close(unconnected) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        #expect(bound && listen(listener, 1) == 0)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) }
        }
        #expect(connected == 0)
        var local = sockaddr_in()
        var localLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(client, $0, &localLength) }
        }
        let key = try #require(ConnectionLoads.Key(connectedSocket: client))
        #expect(key.remotePort == Int(UInt16(bigEndian: address.sin_port)))
        #expect(key.localPort == Int(UInt16(bigEndian: local.sin_port)))
        #expect(ConnectionLoads.Key(connectedSocket: unconnected) == nil)
    }
}
