/// What a transport's connections did, for tests and benchmarks.
public struct ConnectionStatistics: Sendable, Equatable {
    /// Sockets opened for new connections (a dual-stack connect may open two for one).
    public var socketsOpened = 0
    /// The most connections seen open at once.
    public var peakOpen = 0
    /// The most TCP/TLS handshakes seen under way at once.
    public var peakConnecting = 0
    /// libcurl handles made (the rest of the requests reused one).
    public var handlesCreated = 0
    /// Upload buffers freed as soon as their request's body was sent.
    public var uploadBuffersReleased = 0

    public init() {}
}
