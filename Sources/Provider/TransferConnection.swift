/// One transfer's part in the ``ConnectionRamp``: whether it opened a connection, whether it got
/// onto one, and how often its connect was put back in the queue. The ramp's counts stay right
/// however the transfer ends because every change goes through here. Pure value: the event loop
/// feeds it libcurl's callbacks.
struct TransferConnection: Equatable {
    /// This transfer opened a new connection (its handshake counts in the ramp until it ends).
    private(set) var openedConnection = false
    /// The connection is up and the request is being sent (libcurl's pre-request callback ran).
    private(set) var attached = false
    /// How often a connect that timed out was put back in the queue instead of failing.
    private(set) var requeues = 0
    /// Admitted for a new connection whose socket libcurl has not opened yet.
    private(set) var reservedConnection = false
    /// Where the request is counted in the ramp's ``ConnectionRamp/loads`` while attached.
    private(set) var ticket: ConnectionLoads.Ticket?
    /// libcurl wanted a connection the ramp had no room for: the transfer fails to connect and
    /// goes back to the queue instead of failing (see ``socketOpened(_:)``).
    private(set) var connectRefused = false
    /// A connect is put back in the queue at most this often.
    static let maxRequeues = 2

    /// The transfer's handshake is under way: it opened a connection that is not up yet.
    var isConnecting: Bool { openedConnection && !attached }

    /// Admitted with ``ConnectionRamp/Admission/newConnection``: the ramp counts its handshake
    /// before libcurl opens the socket, so the next admissions see it.
    mutating func reserve(_ ramp: inout ConnectionRamp) {
        guard !reservedConnection else { return }
        reservedConnection = true
        ramp.connectionReserved()
    }

    /// libcurl wants a socket for this transfer; returns whether it may open one. The first one
    /// starts a handshake (a dual-stack connect may open a second socket). A connection the ramp
    /// did not admit the request for (``ConnectionRamp/connectionWanted()``) is refused while the
    /// handshakes under way fill the window: the transfer fails to connect and goes back to the
    /// queue (``connectRefused``).
    @discardableResult
    mutating func socketOpened(_ ramp: inout ConnectionRamp) -> Bool {
        if connectRefused { return false }
        if !reservedConnection, attached || !openedConnection {
            if attached {
                // libcurl sends the request again on another connection.
                attached = false
                openedConnection = false
                ramp.requestLeftConnection()
                leaveConnection(&ramp, resent: true)
            }
            guard ramp.connectionWanted() else {
                connectRefused = true
                return false
            }
        }
        ramp.socketOpened()
        endReservation(&ramp)
        if !openedConnection {
            openedConnection = true
            ramp.connectStarted()
        }
        return true
    }

    /// The request is on a connection (new or reused), about to be sent; `connection` is which,
    /// when known. Attached again without a new socket, libcurl sends it again on another
    /// connection it shares.
    mutating func attach(_ ramp: inout ConnectionRamp, on connection: ConnectionLoads.Key? = nil) {
        if attached {
            guard connection != ticket?.key else { return }
            leaveConnection(&ramp, resent: true)
        } else {
            endReservation(&ramp)
            attached = true
            if openedConnection { ramp.connectSucceeded() }
            ramp.requestAttached()
        }
        if let connection { ticket = ramp.loads.attach(connection) }
    }

    private mutating func leaveConnection(_ ramp: inout ConnectionRamp, resent: Bool = false) {
        if let ticket { ramp.loads.leave(ticket, resent: resent) }
        ticket = nil
    }

    /// The transfer left libcurl (finished, failed, or to be requeued). `httpMajorVersion` is
    /// what it spoke (0 unknown), given when it was attached and inside libcurl; a handshake still
    /// under way failed, and halves the window when it `timedOut`.
    mutating func detach(_ ramp: inout ConnectionRamp, httpMajorVersion: Int?, timedOut: Bool) {
        endReservation(&ramp)
        leaveConnection(&ramp)
        if attached, let version = httpMajorVersion { ramp.requestDetached(httpMajorVersion: version) }
        if isConnecting { ramp.connectFailed(timedOut: timedOut) }
        openedConnection = false
        attached = false
        connectRefused = false
    }

    /// After the transfer timed out: whether it goes back to the front of the queue instead of
    /// failing. A connect that timed out is the ramp's business (too many handshakes at once), not
    /// the request's, when other connections to the server work (`anyResponse`); at most
    /// `maxRequeues` times, and only if another full connect timeout fits before the deadline.
    func mayRequeue(cancelRequested: Bool, anyResponse: Bool, remainingMs: Int64, connectTimeoutMs: Int64) -> Bool {
        isConnecting && requeues < Self.maxRequeues && !cancelRequested && anyResponse && remainingMs > connectTimeoutMs
    }

    private mutating func endReservation(_ ramp: inout ConnectionRamp) {
        guard reservedConnection else { return }
        reservedConnection = false
        ramp.reservationEnded()
    }

    /// The transfer went back to the queue (after ``detach(_:httpMajorVersion:timedOut:)``).
    mutating func requeued() { requeues += 1 }
}
