import Foundation
import NIOCore
import NIOHTTP1

/// The Batch API routes of `batch simulate` (`BatchStore` holds the state), under `/v1`,
/// `/api/v1` and `/api/beta`:
///
///     POST /files                      OpenAI: upload a JSONL (multipart/form-data, purpose=batch)
///     GET  /files/{id}/content         OpenAI: an input, output or error file
///     POST /batches                    create: OpenRouter's inline `requests`, or OpenAI's `input_file_id`
///     GET  /batches                    list, newest first (?limit=, ?after=)
///     GET  /batches/{id}               status and counts (OpenRouter: results inline once terminal)
///     GET  /batches/{id}/results       OpenRouter: a page of results (?cursor=, ?limit=)
///     POST /batches/{id}/cancel        cancel (keeps what finished)
enum BatchRoutes {
    static let prefixes = ["/v1", "/api/v1", "/api/beta"]

    static func handles(_ path: String) -> Bool {
        prefixes.contains { path.hasPrefix($0 + "/batches") || path.hasPrefix($0 + "/files") }
    }

    /// The path after its prefix, split: ["batches", id, "results"].
    static func parts(_ path: String) -> [String] {
        let rest = prefixes.first { path.hasPrefix($0 + "/") }.map { String(path.dropFirst($0.count)) } ?? path
        return rest.split(separator: "/").map(String.init)
    }

    static func json(_ status: Int, _ object: Any) -> SimulatedResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return SimulatedResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
    }

    static func error(_ status: Int, _ message: String, type: String = "invalid_request_error") -> SimulatedResponse {
        json(status, ["error": ["message": message, "type": type, "code": status]])
    }

    static func query(_ uri: String) -> [String: String] {
        guard let q = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        var out: [String: String] = [:]
        for pair in q.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            if kv.count == 2 { out[kv[0]] = kv[1] }
        }
        return out
    }

    /// The `file` part and the `purpose` field of a multipart/form-data body.
    static func multipart(_ body: [UInt8], contentType: String) -> (purpose: String?, name: String, file: [UInt8])? {
        guard let boundaryRange = contentType.range(of: "boundary=") else { return nil }
        let boundary = Array(("--" + contentType[boundaryRange.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\""))).utf8)
        var purpose: String?, name = "input.jsonl", file: [UInt8]?
        var starts: [Int] = []
        var i = 0
        while i + boundary.count <= body.count {
            if body[i] == boundary[0], Array(body[i..<(i + boundary.count)]) == boundary { starts.append(i); i += boundary.count } else { i += 1 }
        }
        for (n, start) in starts.enumerated() where n + 1 < starts.count {
            let part = Array(body[(start + boundary.count)..<starts[n + 1]])
            let separator: [UInt8] = [13, 10, 13, 10]
            guard let headerEnd = (0...(max(0, part.count - 4))).first(where: { Array(part[$0..<min(part.count, $0 + 4)]) == separator }) else { continue }
            let headers = String(decoding: part[..<headerEnd], as: UTF8.self)
            var content = Array(part[(headerEnd + 4)...])
            if content.suffix(2) == [13, 10] { content.removeLast(2) }
            if headers.contains("name=\"purpose\"") { purpose = String(decoding: content, as: UTF8.self) }
            if headers.contains("name=\"file\"") {
                file = content
                if let r = headers.range(of: "filename=\"") { name = String(headers[r.upperBound...].prefix { $0 != "\"" }) }
            }
        }
        return file.map { (purpose, name, $0) }
    }
}

extension ChatHandler {
    func batchRoute(context: ChannelHandlerContext, head: HTTPRequestHead, path: String, body: ByteBuffer?) {
        state.record("batch_api")
        if let key = state.config.requiredAPIKey, head.headers.first(name: "authorization") != "Bearer \(key)" {
            return write(context: context, head: head, response: ResponseBuilder.unauthorized())
        }
        let store = state.batches!
        store.advanceAll()
        let parts = BatchRoutes.parts(path)
        let bytes = body.map { Array($0.readableBytesView) } ?? []
        let response: SimulatedResponse
        switch (head.method, parts.count, parts.first) {
        case (.POST, 1, "files"):
            guard let form = BatchRoutes.multipart(bytes, contentType: head.headers.first(name: "content-type") ?? "") else {
                response = BatchRoutes.error(400, "expected multipart/form-data with a file part"); break
            }
            response = BatchRoutes.json(200, store.addFile(purpose: form.purpose ?? "batch", name: form.name, bytes: form.file))
        case (.GET, 3, "files") where parts[2] == "content":
            if let content = store.fileContent(parts[1]) {
                response = SimulatedResponse(status: 200, headers: [("Content-Type", "application/jsonl")], body: content)
            } else {
                response = BatchRoutes.error(404, "no file \(parts[1])")
            }
        case (.POST, 1, "batches"):
            if store.draw() < state.config.batchCreate429Rate {
                var limited = BatchRoutes.error(429, "Too many batch creations (simulated)", type: "rate_limit_exceeded")
                limited.headers.append(("Retry-After", "1"))
                response = limited; break
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                response = BatchRoutes.error(400, "the body is not a JSON object"); break
            }
            let api: BatchStore.API = object["input_file_id"] != nil ? .openai : .openrouter
            do throws(BatchStore.CreateError) {
                let (batch, created) = try store.create(api: api, body: object, idempotencyKey: state.config.batchIdempotency ? head.headers.first(name: "idempotency-key") : nil)
                state.batchCreated(repeated: !created)
                response = BatchRoutes.json(created ? (api == .openrouter ? 202 : 200) : 200, batch)
                let delay = state.config.batchCreateDelay
                if delay > .zero {
                    let bound = NIOLoopBound((self, context, head, response), eventLoop: context.eventLoop)
                    context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
                        let (handler, context, head, response) = bound.value
                        guard context.channel.isActive else { return }
                        handler.write(context: context, head: head, response: response)
                    }
                    return
                }
            } catch {
                switch error {
                case .invalid(let message): response = BatchRoutes.error(400, message)
                case .notFound(let message): response = BatchRoutes.error(404, message)
                }
            }
        case (.GET, _, "batches") where store.draw() < state.config.batchPoll5xxRate:
            response = BatchRoutes.error(500, "Internal server error (simulated)", type: "server_error")
        case (.GET, 1, "batches"):
            let q = BatchRoutes.query(head.uri)
            response = BatchRoutes.json(200, store.list(limit: Int(q["limit"] ?? "") ?? 20, after: q["after"]))
        case (.GET, 2, "batches"):
            response = store.get(parts[1]).map { BatchRoutes.json(200, $0) } ?? BatchRoutes.error(404, "no batch \(parts[1])")
        case (.GET, 3, "batches") where parts[2] == "results":
            let q = BatchRoutes.query(head.uri)
            response = store.results(parts[1], cursor: Int(q["cursor"] ?? "") ?? 0, limit: Int(q["limit"] ?? "") ?? 1_000)
                .map { BatchRoutes.json(200, $0) } ?? BatchRoutes.error(404, "no batch \(parts[1])")
        case (.POST, 3, "batches") where parts[2] == "cancel":
            response = store.cancel(parts[1]).map { BatchRoutes.json(200, $0) } ?? BatchRoutes.error(404, "no batch \(parts[1])")
        default:
            response = BatchRoutes.error(404, "no route for \(head.method) \(path)")
        }
        write(context: context, head: head, response: response)
    }
}
