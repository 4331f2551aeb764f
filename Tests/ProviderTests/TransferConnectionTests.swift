import Testing
@testable import Provider

/// One transfer's part in the connection ramp, callback by callback: no sockets, no clock.
struct TransferConnectionTests {
    enum Callback: Sendable {
        case reserve, socketOpened, attach
        case detach(httpMajorVersion: Int?, timedOut: Bool)
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let callbacks: [Callback]
        // The ramp afterwards:
        let open: Int
        let connecting: Int
        let attached: Int
        let window: Int
        let multiplexed: Bool?
        var reserved = 0
    }

    /// Ramps start with a window of 4.
    static let rows: [Row] = [
        Row(testDescription: "a socket opened for the request: a handshake under way",
            callbacks: [.socketOpened], open: 1, connecting: 1, attached: 0, window: 4, multiplexed: nil),
        Row(testDescription: "a second socket (dual-stack) is not a second handshake",
            callbacks: [.socketOpened, .socketOpened], open: 2, connecting: 1, attached: 0, window: 4, multiplexed: nil),
        Row(testDescription: "its connection came up: the handshake is over and the window grows",
            callbacks: [.socketOpened, .attach], open: 1, connecting: 0, attached: 1, window: 5, multiplexed: nil),
        Row(testDescription: "attached twice counts once",
            callbacks: [.socketOpened, .attach, .attach], open: 1, connecting: 0, attached: 1, window: 5, multiplexed: nil),
        Row(testDescription: "a reused connection: attached without a handshake",
            callbacks: [.attach], open: 0, connecting: 0, attached: 1, window: 4, multiplexed: nil),
        Row(testDescription: "finished over HTTP/1.1: detached, and the server does not multiplex",
            callbacks: [.socketOpened, .attach, .detach(httpMajorVersion: 1, timedOut: false)],
            open: 1, connecting: 0, attached: 0, window: 5, multiplexed: false),
        Row(testDescription: "finished over HTTP/2: the server multiplexes",
            callbacks: [.socketOpened, .attach, .detach(httpMajorVersion: 2, timedOut: false)],
            open: 1, connecting: 0, attached: 0, window: 5, multiplexed: true),
        Row(testDescription: "never inside libcurl (no version): not detached from the ramp",
            callbacks: [.attach, .detach(httpMajorVersion: nil, timedOut: false)],
            open: 0, connecting: 0, attached: 1, window: 4, multiplexed: nil),
        Row(testDescription: "a connect that timed out halves the window",
            callbacks: [.socketOpened, .detach(httpMajorVersion: 0, timedOut: true)],
            open: 1, connecting: 0, attached: 0, window: 2, multiplexed: nil),
        Row(testDescription: "a request that timed out on its connection is no failed connect: the window stays",
            callbacks: [.socketOpened, .attach, .detach(httpMajorVersion: 1, timedOut: true)],
            open: 1, connecting: 0, attached: 0, window: 5, multiplexed: false),
        Row(testDescription: "a connect that failed otherwise leaves the window",
            callbacks: [.socketOpened, .detach(httpMajorVersion: 0, timedOut: false)],
            open: 1, connecting: 0, attached: 0, window: 4, multiplexed: nil),
        Row(testDescription: "after a detach the next socket starts a new handshake",
            callbacks: [.socketOpened, .detach(httpMajorVersion: 0, timedOut: true), .socketOpened],
            open: 2, connecting: 1, attached: 0, window: 2, multiplexed: nil),
        Row(testDescription: "admitted for a new connection: reserved before libcurl opens the socket",
            callbacks: [.reserve], open: 0, connecting: 0, attached: 0, window: 4, multiplexed: nil, reserved: 1),
        Row(testDescription: "reserved twice counts once",
            callbacks: [.reserve, .reserve], open: 0, connecting: 0, attached: 0, window: 4, multiplexed: nil, reserved: 1),
        Row(testDescription: "the reserved connection's socket opened: the reservation becomes a handshake",
            callbacks: [.reserve, .socketOpened], open: 1, connecting: 1, attached: 0, window: 4, multiplexed: nil, reserved: 0),
        Row(testDescription: "left libcurl before its socket opened: the reservation ends, no failed connect",
            callbacks: [.reserve, .detach(httpMajorVersion: nil, timedOut: true)],
            open: 0, connecting: 0, attached: 0, window: 4, multiplexed: nil, reserved: 0),
        Row(testDescription: "put on an established connection after all: the reservation ends",
            callbacks: [.reserve, .attach], open: 0, connecting: 0, attached: 1, window: 4, multiplexed: nil, reserved: 0),
        Row(testDescription: "sent again on a new connection (refused stream, dead connection): it leaves the old one and connects",
            callbacks: [.socketOpened, .attach, .socketOpened], open: 2, connecting: 1, attached: 0, window: 5, multiplexed: nil),
        Row(testDescription: "sent again, then on the new connection: attached once, the new connect succeeded",
            callbacks: [.socketOpened, .attach, .socketOpened, .attach], open: 2, connecting: 0, attached: 1, window: 6, multiplexed: nil),
    ]

    @Test("the ramp's counts follow a transfer's callbacks", arguments: rows)
    func callbacks(_ row: Row) {
        var ramp = ConnectionRamp(maxConnections: 64, streamsPerConnection: 16, burst: 4)
        var connection = TransferConnection()
        for callback in row.callbacks {
            switch callback {
            case .reserve: connection.reserve(&ramp)
            case .socketOpened: connection.socketOpened(&ramp)
            case .attach: connection.attach(&ramp)
            case let .detach(version, timedOut): connection.detach(&ramp, httpMajorVersion: version, timedOut: timedOut)
            }
        }
        #expect(ramp.open == row.open)
        #expect(ramp.connecting == row.connecting)
        #expect(ramp.attached == row.attached)
        #expect(ramp.window == row.window)
        #expect(ramp.multiplexed == row.multiplexed)
        #expect(ramp.reserved == row.reserved)
    }

    @Test("a connection libcurl wants beyond the window is refused: nothing counted, the transfer waits, and its next try starts clean")
    func refusedConnect() {
        var ramp = ConnectionRamp(maxConnections: 64, streamsPerConnection: 16, burst: 4)
        var others = [TransferConnection](repeating: TransferConnection(), count: 4)
        for index in others.indices {
            let opened = others[index].socketOpened(&ramp)
            #expect(opened)
        }
        var connection = TransferConnection()
        let opened1 = connection.socketOpened(&ramp)
        #expect(!opened1)
        #expect(connection.connectRefused)
        let opened2 = connection.socketOpened(&ramp)
        #expect(!opened2, "the other address of a dual-stack connect is refused too")
        #expect(ramp.open == 4 && ramp.connecting == 4)
        connection.detach(&ramp, httpMajorVersion: nil, timedOut: false)
        #expect(!connection.connectRefused)
        #expect(ramp.open == 4 && ramp.connecting == 4 && ramp.window == 4)
        // One handshake done: the window has room again (and grew by one).
        others[0].attach(&ramp)
        let opened3 = connection.socketOpened(&ramp)
        #expect(opened3)
        #expect(ramp.open == 5 && ramp.connecting == 4)
    }

    @Test("sent again elsewhere, the request leaves its connection's load, and that connection stops counting for the stream limit")
    func resentLeavesLoad() {
        let a = ConnectionLoads.Key(localPort: 50_000, remotePort: 443), b = ConnectionLoads.Key(localPort: 50_001, remotePort: 443)
        var ramp = ConnectionRamp(maxConnections: 64, streamsPerConnection: 16, burst: 4)
        var viaSocket = TransferConnection(), viaShared = TransferConnection(), other = TransferConnection()
        other.attach(&ramp, on: b)
        viaSocket.socketOpened(&ramp)
        viaSocket.attach(&ramp, on: a)
        #expect(ramp.loads.current(a) == 1 && ramp.loads.busiestPeak == 1)
        // Refused: libcurl opens a new connection for it.
        viaSocket.socketOpened(&ramp)
        #expect(ramp.loads.current(a) == 0)
        #expect(ramp.attached == 1)
        // Refused again, then put on a connection it shares.
        viaShared.attach(&ramp, on: b)
        viaShared.attach(&ramp, on: a)
        #expect(ramp.loads.current(b) == 1 && ramp.loads.current(a) == 1)
        #expect(ramp.attached == 2)
        viaShared.detach(&ramp, httpMajorVersion: 2, timedOut: false)
        #expect(ramp.loads.current(a) == 0 && ramp.attached == 1)
        #expect(viaShared.ticket == nil)
    }

    @Test("a reserved connection is never refused: the ramp admitted it within the window")
    func reservedNotRefused() {
        var ramp = ConnectionRamp(maxConnections: 64, streamsPerConnection: 16, burst: 1)
        var connection = TransferConnection()
        connection.reserve(&ramp)
        let opened4 = connection.socketOpened(&ramp)
        #expect(opened4)
        #expect(ramp.connecting == 1 && ramp.reserved == 0)
    }

    struct Requeue: Sendable, CustomTestStringConvertible {
        let testDescription: String
        var attached = false
        var requeues = 0
        var cancelRequested = false
        var anyResponse = true
        var remainingMs: Int64 = 60_000
        let requeue: Bool
    }

    @Test("a timed-out transfer goes back to the queue only when its connect is the ramp's business", arguments: [
        Requeue(testDescription: "a connect timed out while other connections work: requeued", requeue: true),
        Requeue(testDescription: "the request was already on a connection: a real timeout", attached: true, requeue: false),
        Requeue(testDescription: "requeued twice already: it fails", requeues: 2, requeue: false),
        Requeue(testDescription: "requeued once: once more", requeues: 1, requeue: true),
        Requeue(testDescription: "cancelled: it fails", cancelRequested: true, requeue: false),
        Requeue(testDescription: "no connection has worked yet: the server may be down, it fails", anyResponse: false, requeue: false),
        Requeue(testDescription: "another connect timeout does not fit before the deadline: it fails", remainingMs: 10_000, requeue: false),
        Requeue(testDescription: "one more connect timeout just fits", remainingMs: 10_001, requeue: true),
    ])
    func requeue(_ row: Requeue) {
        var ramp = ConnectionRamp(maxConnections: 64, streamsPerConnection: 16, burst: 4)
        var connection = TransferConnection()
        for _ in 0..<row.requeues {
            connection.socketOpened(&ramp)
            connection.detach(&ramp, httpMajorVersion: 0, timedOut: true)
            connection.requeued()
        }
        connection.socketOpened(&ramp)
        if row.attached { connection.attach(&ramp) }
        #expect(connection.mayRequeue(
            cancelRequested: row.cancelRequested, anyResponse: row.anyResponse, remainingMs: row.remainingMs,
            connectTimeoutMs: 10_000) == row.requeue)
    }
}
