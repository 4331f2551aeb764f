/// One HTTP exchange, behind a single method so tests can script responses.
///
/// `send` throws only for transport failures (connection refused, reset, deadline hit,
/// cancellation), preferably as a ``TransportError``. Any HTTP status, 4xx and 5xx included, is a normal ``HTTPResponse``
/// for the caller to classify.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse

    /// Starts the exchange and returns at once; `completion` runs exactly once when it ends,
    /// on a thread of the transport's choosing (keep it short: for ``CurlTransport`` it is the
    /// event thread that drives every other request).
    ///
    /// The default runs `send` in a new task. ``CurlTransport`` completes straight from its event
    /// thread, which saves a task and a thread hop per request.
    func start(
        _ request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, any Error>) -> Void
    ) -> PendingExchange
}

extension HTTPTransport {
    public func start(
        _ request: HTTPRequest, completion: @escaping @Sendable (Result<HTTPResponse, any Error>) -> Void
    ) -> PendingExchange {
        let task = Task {
            do { completion(.success(try await send(request))) } catch { completion(.failure(error)) }
        }
        return PendingExchange { task.cancel() }
    }
}

/// An exchange started with ``HTTPTransport/start(_:completion:)``; `cancel()` aborts it (its
/// completion then still runs once, normally with a cancellation error).
public struct PendingExchange: Sendable {
    private let onCancel: @Sendable () -> Void

    public init(cancel: @escaping @Sendable () -> Void) { onCancel = cancel }

    public func cancel() { onCancel() }
}

/// An HTTP request method.
public struct HTTPMethod: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public static let get = HTTPMethod("GET")
    public static let post = HTTPMethod("POST")

    public var description: String { rawValue }
}

/// Header fields in arrival order, with case-insensitive lookup by name.
public struct HTTPHeaders: Sendable, Equatable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public let fields: [(name: String, value: String)]

    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// The first value of the header `name` (case-insensitive), or nil.
    public subscript(name: String) -> String? {
        let lowered = name.lowercased()
        return fields.first { $0.name.lowercased() == lowered }?.value
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// Names only: header values can hold credentials.
    public var description: String { "HTTPHeaders(\(fields.map(\.name).joined(separator: ", ")))" }
}

/// A request for an ``HTTPTransport``.
public struct HTTPRequest: Sendable {
    public var url: String
    public var method: HTTPMethod
    /// Request headers. Values may hold credentials: never log them.
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// How long connecting (TCP and TLS) may take.
    public var connectTimeout: Duration
    /// The total time the whole exchange may take, from submission to the last body byte.
    /// A server that trickles bytes or never answers cannot hold a caller longer than this.
    public var deadline: Duration

    public init(
        url: String,
        method: HTTPMethod = .post,
        headers: [(String, String)] = [],
        body: [UInt8] = [],
        connectTimeout: Duration = ProviderConfig.defaultConnectTimeout,
        deadline: Duration = ProviderConfig.defaultRequestDeadline
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.deadline = deadline
    }
}

/// A complete HTTP response, whatever its status.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A failure to complete an HTTP exchange. Messages never hold header values or bodies.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, coarsely: enough to decide between retrying and stopping.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: String { case connect, timeout, reset, cancelled, invalidRequest, shutdown, tls, proxy, other }
        fileprivate let base: Base

        /// The server could not be reached (refused, unresolvable, TLS handshake failed).
        public static let connect = Kind(base: .connect)
        /// The connect timeout or the request deadline passed.
        public static let timeout = Kind(base: .timeout)
        /// The connection closed or reset before the response was complete.
        public static let reset = Kind(base: .reset)
        /// The awaiting task was cancelled; the transfer was aborted.
        public static let cancelled = Kind(base: .cancelled)
        /// The request itself cannot be sent (malformed URL, unsupported scheme).
        public static let invalidRequest = Kind(base: .invalidRequest)
        /// The transport was shut down.
        public static let shutdown = Kind(base: .shutdown)
        /// The server's certificate was refused (untrusted, expired, wrong name) or the CA file
        /// cannot be read: retrying will not help.
        public static let tls = Kind(base: .tls)
        /// The proxy (`HTTPS_PROXY`) cannot be reached or refused the tunnel, before any request
        /// had come through it.
        public static let proxy = Kind(base: .proxy)
        /// Anything else.
        public static let other = Kind(base: .other)

        public var description: String { base.rawValue }
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind): \(message)" }
}
