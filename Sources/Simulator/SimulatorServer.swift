import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// An OpenAI-compatible chat-completions server on loopback, for tests, benchmarks and demos.
///
/// Answers `POST /v1/chat/completions` (also `/api/v1/...`) after the configured latency with
/// an OpenRouter-shaped body whose content is a valid conversation, or with the fault drawn
/// for that request. `GET /stats` returns ``SimulatorStats`` as JSON.
public final class SimulatorServer: Sendable {
    /// The port it listens on (the chosen one when the config asked for 0).
    public let port: Int
    public let host: String
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let state: SimulatorState
    private let logger: Logger

    private init(port: Int, host: String, group: MultiThreadedEventLoopGroup, channel: any Channel, state: SimulatorState, logger: Logger) {
        self.port = port
        self.host = host
        self.group = group
        self.channel = channel
        self.state = state
        self.logger = logger
    }

    /// Binds and starts serving; returns once the socket is listening.
    public static func start(_ config: SimulatorConfig, logger: Logger = Logger(label: "batch.simulator")) async throws -> SimulatorServer {
        try config.validate()
        let state = try SimulatorState(config: config)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: config.threads)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ChatHandler(state: state))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: config.host, port: config.port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw SimulatorError("cannot listen on \(config.host):\(config.port) (\(error)); pick another --port, or 0 for a free one")
        }
        let port = channel.localAddress?.port ?? config.port
        logger.debug("simulator listening", metadata: ["host": "\(config.host)", "port": "\(port)"])
        return SimulatorServer(port: port, host: config.host, group: group, channel: channel, state: state, logger: logger)
    }

    /// `http://<host>:<port>/v1`: pass as the client's base URL.
    public var baseURL: String { "http://\(urlHost):\(port)/v1" }

    /// `http://<host>:<port>`.
    public var rootURL: String { "http://\(urlHost):\(port)" }

    private var urlHost: String { host.contains(":") ? "[\(host)]" : host }

    public func stats() -> SimulatorStats {
        state.batches.advanceAll()
        return state.snapshot()
    }

    /// Returns once `predicate` holds for the stats (checked now and after every change), or
    /// when the calling task is cancelled. Tests wait on events with this instead of sleeping.
    public func waitForStats(_ predicate: @escaping @Sendable (SimulatorStats) -> Bool) async {
        await state.wait(until: predicate)
    }

    /// Stops listening, closes every connection (held ones too) and the log.
    public func stop() async throws {
        try? await channel.close()
        try await group.shutdownGracefully()
        state.closeLog()
        state.releaseWaiters()
    }
}
