import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `--metrics-listen`: serves `GET /metrics` in Prometheus' text format from one event-loop
/// thread of its own, for as long as the command runs; any other path is 404.
///
/// A scrape renders the registry on that thread: it reads the metrics' atomics and copies the
/// histogram under its lock, and never waits for the run loop.
final class MetricsServer: Sendable {
    let address: MetricsAddress
    /// The port bound (the system's choice when `address.port` is 0).
    let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    private init(address: MetricsAddress, port: Int, group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.address = address
        self.port = port
        self.group = group
        self.channel = channel
    }

    /// `http://ADDR:PORT/metrics`, with the port bound.
    var url: String { address.url(port: port) }

    /// Binds and starts serving; returns once the socket listens. A port in use or an address
    /// that is not this machine's throws `MetricsListenError`, saying what to do.
    static func start(_ address: MetricsAddress, metrics: RunMetrics) async throws -> MetricsServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            // Lets a restarted run take its port back while old connections sit in TIME_WAIT;
            // on Linux and macOS it never shares a port another socket listens on.
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(metrics: metrics))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: address.host, port: address.port).get()
            let port = channel.localAddress?.port ?? address.port
            return MetricsServer(address: address, port: port, group: group, channel: channel)
        } catch {
            try? await group.shutdownGracefully()
            throw MetricsListenError(address: address, underlying: error)
        }
    }

    /// Starts closing the socket, its connections and its thread, without waiting (the command
    /// calls it from `defer`, on its way out).
    func stop() {
        channel.close(promise: nil)
        group.shutdownGracefully { _ in }
    }
}

/// `--metrics-listen` could not bind.
struct MetricsListenError: Error, CustomStringConvertible {
    let address: MetricsAddress
    let underlying: any Error

    var description: String {
        let given = "--metrics-listen \(address.urlHost):\(address.port)"
        let pickAddress = "Give an address of this machine: 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or [::1]."
        if let io = underlying as? IOError, io.errnoCode == EADDRINUSE {
            return "\(given): port \(address.port) is in use. Pick another port, or \(address.urlHost):0 for a free one (printed at start). Nothing was started."
        }
        if let io = underlying as? IOError, io.errnoCode == EADDRNOTAVAIL {
            return "\(given): \(address.host) is not an address of this machine. \(pickAddress) Nothing was started."
        }
        if underlying is SocketAddressError || underlying is SocketAddressError.UnknownHost {
            return "\(given): \(address.host) is no address this machine can listen on. \(pickAddress) Nothing was started."
        }
        return "\(given): cannot listen (\(underlying)). Pick another address or port. Nothing was started."
    }
}

/// One connection: `GET /metrics` (`HEAD` too) renders the registry; anything else is 404, or 405
/// for another method on /metrics. Keeps the connection open when the client asks (Prometheus does).
private final class MetricsHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Prometheus' text exposition format, version 0.0.4.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let metrics: RunMetrics
    private var head: HTTPRequestHead?

    init(metrics: RunMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead): head = requestHead
        case .body: break  // a scrape has none; anything sent is ignored
        case .end:
            guard let request = head else { return }
            head = nil
            respond(context: context, to: request)
        }
    }

    private func respond(context: ChannelHandlerContext, to request: HTTPRequestHead) {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        switch (request.method, path) {
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            write(context: context, request: request, status: .ok, contentType: Self.contentType,
                  body: metrics.exposition(), bodyless: request.method == .HEAD)
        case (_, "/metrics"):
            write(context: context, request: request, status: .methodNotAllowed, contentType: "text/plain; charset=utf-8",
                  body: Array("GET /metrics only\n".utf8), extra: [("Allow", "GET, HEAD")])
        default:
            write(context: context, request: request, status: .notFound, contentType: "text/plain; charset=utf-8",
                  body: Array("not found: batch serves GET /metrics only\n".utf8))
        }
    }

    private func write(
        context: ChannelHandlerContext, request: HTTPRequestHead, status: HTTPResponseStatus, contentType: String,
        body: [UInt8], bodyless: Bool = false, extra: [(String, String)] = []
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.count)")
        for (name, value) in extra { headers.add(name: name, value: value) }
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if !bodyless {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
