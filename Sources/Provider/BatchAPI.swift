import Foundation
import Wire

/// Which provider Batch API a base URL speaks.
public enum BatchAPIKind: String, Sendable, Codable, CaseIterable {
    /// OpenRouter: `POST /batches` with the requests inline; results inline in a terminal batch.
    case openrouter
    /// OpenAI and the many that copy it (Groq, Together, Mistral...): a JSONL uploaded to
    /// `/files`, `POST /batches` with `input_file_id`; results in output and error files.
    case openai

    /// OpenRouter for an openrouter.ai base URL, OpenAI's shape for any other.
    public static func from(baseURL: String) -> BatchAPIKind {
        URLComponents(string: baseURL)?.host?.hasSuffix("openrouter.ai") == true ? .openrouter : .openai
    }
}

/// One request of a batch: the row's tag and its chat-completions body.
public struct BatchRequestLine: Sendable, Equatable {
    public var customID: String
    public var body: [UInt8]

    public init(customID: String, body: [UInt8]) {
        self.customID = customID
        self.body = body
    }
}

/// A batch as the provider reports it.
public struct ProviderBatch: Sendable, Equatable {
    public var id: String
    /// `validating`, `in_progress`, `finalizing`, `completed`, `failed`, `expired`, `cancelling`, `cancelled`.
    public var status: String
    public var total = 0
    public var completed = 0
    public var failed = 0
    public var outputFileID: String?
    public var errorFileID: String?
    public var metadata: [String: String] = [:]
    /// Why a failed batch failed.
    public var errorMessage: String?

    public var isTerminal: Bool { ["completed", "failed", "expired", "cancelled"].contains(status) }
}

/// One request's end inside a batch, joined back by `customID`.
public struct BatchResult: Sendable, Equatable {
    public var customID: String
    /// The answer classified with the same rules as an online one (content, usage, cost, the
    /// errors a 200 can hide), or the batch's own error for this request (`kind` `batch_expired`,
    /// `batch_cancelled`, `batch_error`...).
    public var outcome: ProviderOutcome
}

/// Why a Batch API call did not give an answer to use.
public struct BatchAPIError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// 429: wait `retryAfter` (when the provider said) and ask again; nothing was created.
        case rateLimited(retryAfter: Duration?)
        /// 5xx, or the connection failed: ask again later; a create may or may not have happened
        /// (ask again with the same idempotency key).
        case unavailable
        /// 4xx: the provider refused this call; asking again will not help.
        case refused(status: Int)
        /// A 2xx whose body is not what the API documents.
        case malformed
    }

    public var kind: Kind
    public var description: String
}

/// The provider Batch APIs over the same transport, key and headers as online requests.
public struct BatchAPIClient: Sendable {
    public let transport: any HTTPTransport
    public let config: ProviderConfig
    public let kind: BatchAPIKind

    public init(transport: any HTTPTransport, config: ProviderConfig, kind: BatchAPIKind? = nil) {
        self.transport = transport
        self.config = config
        self.kind = kind ?? BatchAPIKind.from(baseURL: config.baseURL)
    }

    // MARK: Calls

    /// Submits `lines` as one batch. `idempotencyKey` goes in `Idempotency-Key`, and (OpenAI) with
    /// `metadata` on the batch, so that a create whose answer was lost can be found or repeated
    /// without a second batch.
    public func create(
        _ lines: [BatchRequestLine], model: String, idempotencyKey: String, metadata: [String: String] = [:]
    ) async throws(BatchAPIError) -> ProviderBatch {
        switch kind {
        case .openrouter:
            // endpoint and model before requests: OpenRouter stream-parses the body.
            var body = Array(#"{"endpoint":"/v1/chat/completions","model":"#.utf8)
            body += Array(try Self.encode(model))
            body += Array(#","completion_window":"24h","requests":["#.utf8)
            for (n, line) in lines.enumerated() {
                if n > 0 { body.append(UInt8(ascii: ",")) }
                body += Array(#"{"custom_id":"#.utf8) + Array(try Self.encode(line.customID)) + Array(#","body":"#.utf8) + line.body + [UInt8(ascii: "}")]
            }
            body += Array("]}".utf8)
            return try Self.batch(try await call(.post, "batches", body: body, headers: [("Idempotency-Key", idempotencyKey)]))
        case .openai:
            var jsonl: [UInt8] = []
            for line in lines {
                jsonl += Array(#"{"custom_id":"#.utf8) + Array(try Self.encode(line.customID))
                jsonl += Array(#","method":"POST","url":"/v1/chat/completions","body":"#.utf8) + line.body + Array("}\n".utf8)
            }
            let boundary = "batch-\(idempotencyKey)"
            var form = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n".utf8)
            form += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(idempotencyKey).jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n".utf8)
            form += jsonl + Array("\r\n--\(boundary)--\r\n".utf8)
            let file = try await call(.post, "files", body: form, headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")])
            guard let fileID = file["id"]?.stringValue else { throw BatchAPIError(kind: .malformed, description: "the file upload's answer has no id") }
            // Keys in sorted order, metadata's too (the body's bytes do not depend on a dictionary's order).
            let request = JSONValue.object([
                ("completion_window", .string("24h")), ("endpoint", .string("/v1/chat/completions")), ("input_file_id", .string(fileID)),
                ("metadata", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ])
            return try Self.batch(try await call(.post, "batches", body: request.encoded(.compact), headers: [("Idempotency-Key", idempotencyKey)]))
        }
    }

    public func get(_ id: String) async throws(BatchAPIError) -> ProviderBatch {
        try Self.batch(try await call(.get, "batches/\(id)"))
    }

    public func cancel(_ id: String) async throws(BatchAPIError) -> ProviderBatch {
        try Self.batch(try await call(.post, "batches/\(id)/cancel", body: []))
    }

    /// One page of batches, newest first; pass the last id as `after` for the next.
    public func list(after: String? = nil, limit: Int = 100) async throws(BatchAPIError) -> (batches: [ProviderBatch], hasMore: Bool) {
        let page = try await call(.get, "batches?limit=\(limit)" + (after.map { "&after=\($0)" } ?? ""))
        let batches = try (page["data"]?.arrayValue ?? []).map { value throws(BatchAPIError) in try Self.batch(value) }
        return (batches, page["has_more"]?.boolValue ?? false)
    }

    /// Every request's end in a terminal batch: OpenRouter's results (inline, then paged), or
    /// OpenAI's output and error files.
    public func results(of batch: ProviderBatch) async throws(BatchAPIError) -> [BatchResult] {
        var lines: [JSONValue] = []
        switch kind {
        case .openrouter:
            var cursor: String? = "0"
            while let at = cursor {
                let page = try await call(.get, "batches/\(batch.id)/results?cursor=\(at)&limit=1000")
                lines += page["data"]?.arrayValue ?? []
                cursor = page["next_cursor"]?.stringValue
            }
        case .openai:
            for file in [batch.outputFileID, batch.errorFileID].compactMap({ $0 }) {
                let content = try await raw(.get, "files/\(file)/content")
                for line in content.split(separator: UInt8(ascii: "\n")) where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
                    guard let value = JSONParser.parseBody(Array(line)) else {
                        throw BatchAPIError(kind: .malformed, description: "a line of batch \(batch.id)'s results is not JSON")
                    }
                    lines.append(value)
                }
            }
        }
        return lines.compactMap(result)
    }

    // MARK: Lines

    /// A result line: the answer classified as an online one would be, or the request's error.
    func result(_ line: JSONValue) -> BatchResult? {
        guard let customID = line["custom_id"]?.stringValue else { return nil }
        if let response = line["response"], let status = response["status_code"]?.intValue, let body = response["body"], status == 200 {
            let outcome = ResponseClassifier(apiKeyEnvName: config.apiKeyEnvName, maxWait: config.maxRetryAfter)
                .classify(status: status, headers: [:], body: body.encoded(.compact), now: Date())
            return BatchResult(customID: customID, outcome: outcome)
        }
        let error = line["error"]
        let code = error?["code"]?.stringValue ?? error?["type"]?.stringValue ?? "batch_error"
        let message = error?["message"]?.stringValue ?? "the batch did not answer this request"
        let kind = code.hasPrefix("batch_") ? code : "batch_error"
        let status = line["response"]?["status_code"]?.intValue
        return BatchResult(customID: customID, outcome: .retry(ProviderFailure(kind: kind, httpStatus: status, message: String(message.prefix(200)))))
    }

    static func batch(_ value: JSONValue) throws(BatchAPIError) -> ProviderBatch {
        guard let id = value["id"]?.stringValue, let status = value["status"]?.stringValue else {
            throw BatchAPIError(kind: .malformed, description: "a batch without id or status")
        }
        var batch = ProviderBatch(id: id, status: status)
        let counts = value["request_counts"]
        batch.total = counts?["total"]?.intValue ?? 0
        batch.completed = counts?["completed"]?.intValue ?? 0
        batch.failed = counts?["failed"]?.intValue ?? 0
        batch.outputFileID = value["output_file_id"]?.stringValue
        batch.errorFileID = value["error_file_id"]?.stringValue
        for (key, entry) in value["metadata"]?.objectValue ?? [] { if let text = entry.stringValue { batch.metadata[key] = text } }
        batch.errorMessage = value["error"]?["message"]?.stringValue ?? value["errors"]?["data"]?.arrayValue?.first?["message"]?.stringValue
        return batch
    }

    static func encode(_ text: String) throws(BatchAPIError) -> [UInt8] {
        var out: [UInt8] = []
        JSONString.append(text, .utf8, to: &out)
        return out
    }

    // MARK: HTTP

    private func call(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws(BatchAPIError) -> JSONValue {
        let bytes = try await raw(method, path, body: body, headers: headers + (body != nil && !headers.contains { $0.0 == "Content-Type" } ? [("Content-Type", "application/json")] : []))
        guard let value = JSONParser.parseBody(bytes) else {
            throw BatchAPIError(kind: .malformed, description: "\(method) \(path): the answer is not JSON")
        }
        return value
    }

    private func raw(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws(BatchAPIError) -> [UInt8] {
        let request = HTTPRequest(url: config.url(path), method: method, headers: config.requestHeaders + headers, body: body ?? [],
                                  connectTimeout: config.connectTimeout, deadline: config.requestDeadline)
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            throw BatchAPIError(kind: .unavailable, description: "\(method) \(path): \(error)")
        }
        let what = "\(method) \(config.url(path).split(separator: "?").first ?? "")"
        switch response.status {
        case 200..<300:
            return response.body
        case 429:
            let wait = response.headers["retry-after"].flatMap(Double.init).map { Duration.seconds(roundingToMicroseconds: $0) }
            throw BatchAPIError(kind: .rateLimited(retryAfter: wait), description: "\(what): 429 rate limited")
        case 500...:
            throw BatchAPIError(kind: .unavailable, description: "\(what): HTTP \(response.status)")
        default:
            let message = JSONParser.parseBody(response.body)?["error"]?["message"]?.stringValue ?? "HTTP \(response.status)"
            throw BatchAPIError(kind: .refused(status: response.status), description: "\(what): \(message.prefix(200))")
        }
    }
}
