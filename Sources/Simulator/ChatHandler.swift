import Foundation
import NIOCore
import NIOHTTP1
import Recipe

/// Serves one connection: routes each request, applies the plan after its latency, and
/// writes the (possibly faulty) answer.
final class ChatHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// A Batch API create may carry 5,000 requests inline, a file upload 200 MB.
    private static let maxBodyBytes = 210 << 20

    let state: SimulatorState
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false
    /// True while the timeout fault holds this connection's request.
    private var holding = false

    init(state: SimulatorState) { self.state = state }

    func channelActive(context: ChannelHandlerContext) {
        state.connectionOpened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.connectionClosed(wasHolding: holding)
        holding = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = nil
            bodyTooLarge = false
        case .body(var chunk):
            if (body?.readableBytes ?? 0) + chunk.readableBytes > Self.maxBodyBytes {
                bodyTooLarge = true
            } else if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let requestBody = body
            body = nil
            route(context: context, head: requestHead, body: requestBody)
        }
    }

    private func route(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer?) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        switch (head.method, path) {
        case (.GET, "/stats"):
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            state.batches.advanceAll()
            let json = (try? encoder.encode(state.snapshot())) ?? Data("{}".utf8)
            write(context: context, head: head, response: SimulatedResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array(json)))
        case (.POST, "/v1/chat/completions"), (.POST, "/api/v1/chat/completions"), (.POST, "/chat/completions"):
            chat(context: context, head: head, body: body)
        case (_, _) where BatchRoutes.handles(path):
            batchRoute(context: context, head: head, path: path, body: body)
        case (.GET, "/v1/key"), (.GET, "/api/v1/key"), (.GET, "/v1/credits"), (.GET, "/api/v1/credits"),
             (.GET, "/v1/models"), (.GET, "/api/v1/models"):
            account(context: context, head: head, path: path)
        default:
            state.record("not_found")
            write(context: context, head: head, response: ResponseBuilder.notFound(path))
        }
    }

    /// The built-in recipe's model, listed by `GET /models`.
    static let builtInModel: String? = try? BuiltInRecipe.load().model

    /// The account endpoints a client checks before a run: the key, the credits, the model list.
    private func account(context: ChannelHandlerContext, head: HTTPRequestHead, path: String) {
        state.record("account")
        if let key = state.config.requiredAPIKey, head.headers.first(name: "authorization") != "Bearer \(key)" {
            return write(context: context, head: head, response: ResponseBuilder.unauthorized())
        }
        let billed = state.snapshot().billed
        let response: SimulatedResponse
        if path.hasSuffix("/key") {
            response = ResponseBuilder.key(usage: billed, limit: state.config.credits)
        } else if path.hasSuffix("/credits") {
            response = state.config.credits.map { ResponseBuilder.credits(total: $0, usage: billed) }
                ?? ResponseBuilder.json(403, "{\"error\":{\"code\":403,\"message\":\"Only management keys can fetch credits (simulated)\"}}")
        } else {
            response = ResponseBuilder.models([ChatHandler.builtInModel, "simulator/default"].compactMap { $0 })
        }
        write(context: context, head: head, response: response)
    }

    private func chat(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer?) {
        // The latency runs from the request's arrival: parsing it is part of the server's time,
        // not added to it (with 64 requests arriving together, parsing them one after another
        // would otherwise delay the last by several milliseconds on top of the latency).
        let arrived = NIODeadline.now()
        if let key = state.config.requiredAPIKey, head.headers.first(name: "authorization") != "Bearer \(key)" {
            _ = state.admitUnauthorized()
            write(context: context, head: head, response: ResponseBuilder.unauthorized())
            return
        }
        let plan: SimulatorState.Plan
        switch state.admit(now: NIODeadline.now().uptimeNanoseconds) {
        case .rateLimited(let seconds):
            let reset = Int(Date().timeIntervalSince1970 * 1000) + seconds * 1000
            write(context: context, head: head, response: ResponseBuilder.rateLimited(
                retryAfterSeconds: seconds, limit: state.config.requestsPerMinute ?? 0, resetEpochMillis: reset))
            return
        case .plan(let drawn):
            plan = drawn
        }
        guard !bodyTooLarge, let body,
              var request = ChatRequestSummary(json: Data(body.readableBytesView), prefixHashes: state.config.promptCache) else {
            state.record("bad_request")
            let message = bodyTooLarge ? "request body too large" : "the body is not a JSON chat request with messages"
            write(context: context, head: head, response: ResponseBuilder.badRequest(message))
            return
        }
        if let refused = state.config.refusedTopic, PromptParts.topic(of: request.prompt)?.contains(refused) == true {
            state.record("moderation")
            write(context: context, head: head, response: ResponseBuilder.json(
                403, #"{"error":{"code":403,"message":"Your input was flagged by moderation (simulated)","metadata":{"reasons":["simulated"]}}}"#))
            return
        }
        if state.config.promptCache { request.cachedBytes = state.readPromptCache(request.prefixHashes) }
        request.reportCost = state.config.reportCost
        if plan.fault == .ok {
            request.content = state.variedContent(prompt: request.prompt, variant: plan.variant)
        }
        if plan.fault == .timeout {
            // Hold: never answer; the client's deadline (or cancellation) ends it.
            holding = true
            state.holdStarted()
            return
        }
        if state.hasCapacity {
            serve(context: context, head: head, plan: plan, request: request)
        } else if plan.delay <= .zero {
            answer(context: context, head: head, plan: plan, request: request)
        } else {
            context.eventLoop.assumeIsolated().scheduleTask(deadline: arrived + TimeAmount(plan.delay)) {
                self.answer(context: context, head: head, plan: plan, request: request)
            }
        }
    }

    /// Under the capacity model: waits for a free slot (first in, first out), then answers after
    /// the service time; past the queue limit, 503 at once. A client that left while queued
    /// frees its slot when its turn comes, as an inference server drops a cancelled request.
    private func serve(context: ChannelHandlerContext, head: HTTPRequestHead, plan: SimulatorState.Plan, request: ChatRequestSummary) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context, head, plan, request), eventLoop: loop)
        let state = self.state
        let service = state.config.serviceTime
        let accepted = state.requestService {
            loop.execute {
                let (handler, context, head, plan, request) = bound.value
                guard context.channel.isActive else {
                    state.record("abandoned")
                    state.endService()
                    return
                }
                loop.assumeIsolated().scheduleTask(in: TimeAmount(service)) {
                    handler.answer(context: context, head: head, plan: plan, request: request)
                    state.endService()
                }
            }
        }
        if !accepted {
            state.record("overloaded")
            let body = Array(#"{"error":{"message":"the server is overloaded: too many requests waiting","type":"overloaded","code":503}}"#.utf8)
            write(context: context, head: head, response: SimulatedResponse(
                status: 503, headers: [("Content-Type", "application/json")], body: body))
        }
    }

    private func answer(context: ChannelHandlerContext, head: HTTPRequestHead, plan: SimulatorState.Plan, request: ChatRequestSummary) {
        guard context.channel.isActive else {
            state.record("abandoned")
            return
        }
        let serial = state.recordResponse(plan.fault.rawValue, promptSHA256: request.promptSHA256)
        let response = ResponseBuilder.response(
            for: plan, serial: serial, request: request,
            retryAfterSeconds: state.config.retryAfterSeconds, created: Int(Date().timeIntervalSince1970)
        )
        if response.billed > 0 { state.bill(response.billed) }
        write(context: context, head: head, response: response)
    }

    func write(context: ChannelHandlerContext, head: HTTPRequestHead, response: SimulatedResponse) {
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        let keepAlive = head.isKeepAlive && response.resetAfterBytes == nil
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: .init(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)

        if let cut = response.resetAfterBytes {
            // Headers promise the full length; send half, then reset the connection.
            let buffer = context.channel.allocator.buffer(bytes: response.body.prefix(cut))
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer)))).assumeIsolated().whenComplete { _ in
                // SO_LINGER 0 makes close send a TCP reset instead of an orderly FIN.
                if let socket = context.channel as? any SocketOptionProvider {
                    socket.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
                        context.close(promise: nil)
                    }
                } else {
                    context.close(promise: nil)
                }
            }
            return
        }
        let buffer = context.channel.allocator.buffer(bytes: response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
