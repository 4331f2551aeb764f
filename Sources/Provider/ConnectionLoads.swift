/// How many requests each open connection carries, and the most it has carried at once: what
/// shows an HTTP/2 server's stream limit (``ConnectionRamp/connectionWanted()``).
///
/// A connection is known by its two ports (libcurl reports them when a request goes out on it,
/// and the socket has them when it closes). Each entry has an id, so that a request still
/// counted on a closed connection never changes a new one that got the same ports.
/// Pure value: the event loop feeds it libcurl's callbacks.
struct ConnectionLoads: Equatable {
    struct Key: Hashable {
        let localPort: Int
        let remotePort: Int
    }

    /// Where one request is counted.
    struct Ticket: Equatable {
        let key: Key
        let id: Int
    }

    private struct Load: Equatable {
        let id: Int
        var current: Int
        var peak: Int
        /// A request left it to be sent again elsewhere: libcurl 7.88 then closes it to new
        /// requests (a refused stream, which is how a server answers more streams than it
        /// allows, or a dead connection), so its peak says nothing of the server's limit.
        var closing = false
    }

    private var loads: [Key: Load] = [:]
    private var nextID = 0

    /// Connections with a request counted on them, open.
    var count: Int { loads.count }

    /// A request went out on the connection `key`.
    mutating func attach(_ key: Key) -> Ticket {
        if var load = loads[key] {
            load.current += 1
            load.peak = max(load.peak, load.current)
            loads[key] = load
            return Ticket(key: key, id: load.id)
        }
        nextID += 1
        loads[key] = Load(id: nextID, current: 1, peak: 1)
        return Ticket(key: key, id: nextID)
    }

    /// The request counted by `ticket` finished, or left its connection to be sent again on
    /// another (`resent`).
    mutating func leave(_ ticket: Ticket, resent: Bool = false) {
        guard var load = loads[ticket.key], load.id == ticket.id else { return }
        load.current = max(0, load.current - 1)
        if resent { load.closing = true }
        loads[ticket.key] = load
    }

    /// The connection's socket closed.
    mutating func closed(_ key: Key) { loads[key] = nil }

    /// Requests on the connection now (0 when not known).
    func current(_ key: Key) -> Int { loads[key]?.current ?? 0 }

    /// The most requests any open connection has carried at once, leaving out the ones closing
    /// after a request was sent again elsewhere. (A connection draining after GOAWAY carries
    /// fewer now, but its peak stays.)
    var busiestPeak: Int { loads.values.reduce(0) { $1.closing ? $0 : max($0, $1.peak) } }
}
