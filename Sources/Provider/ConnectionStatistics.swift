/// What a transport's connections did, for tests and benchmarks.
public struct ConnectionStatistics: Sendable, Equatable {
    /// Sockets opened for new connections (a dual-stack connect may open two for one).
    public var socketsOpened = 0
    /// The most connections seen open at once.
    public var peakOpen = 0
    /// The most TCP/TLS handshakes seen under way at once.
    public var peakConnecting = 0
    /// HTTP/2 streams per connection the server was taken to allow when the last connection
    /// opened (the configured number until a lower limit is learned).
    public var streamsPerConnection = 0
    /// Connections libcurl wanted beyond the ramp's window, refused (their requests waited).
    public var connectsRefused = 0
    /// libcurl handles made (the rest of the requests reused one).
    public var handlesCreated = 0
    /// Upload buffers freed as soon as their request's body was sent.
    public var uploadBuffersReleased = 0

    public init() {}
}
