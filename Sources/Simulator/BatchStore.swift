import Foundation
import Recipe
import Wire

/// Provider Batch APIs, simulated: OpenRouter's inline batches (`requests` in the create body,
/// results inline in a terminal batch and paged from `/results`) and OpenAI's file batches
/// (a JSONL uploaded to `/files`, results in output and error files).
///
/// A batch runs on the wall clock: `validating` for the first tenth of `batchTurnaround`, then
/// `in_progress` (its `completed` count growing with time), then terminal. Each batch's fate is
/// drawn when it is created, from the config's rates: a validation failure (`failed`, nothing
/// run), expiry (`expired` with the first half of its requests answered), never finishing (until
/// cancelled), or completion, with per-request errors at `batchRequestErrorRate`. A cancelled
/// batch keeps what it had finished. Answers are billed at half the online price, once, when the
/// batch ends; `/stats` counts them in `batch_billed_requests` and `billed`.
///
/// Creation honours `Idempotency-Key`: the same key returns the same batch (200) instead of a
/// new one, so a client that lost the answer to its create can ask again without paying twice.
final class BatchStore: @unchecked Sendable {
    enum API: String { case openrouter, openai }

    enum Fate { case complete, validationFailure, expire, never }

    struct Request {
        var customID: String
        var body: [UInt8]
    }

    final class Batch {
        let id: String
        let api: API
        let endpoint: String
        let model: String?
        let metadata: [String: String]
        let inputFileID: String?
        let requests: [Request]
        let createdMs: Int64
        let fate: Fate
        var status = "validating"
        var cancelRequested = false
        var finalizedMs: Int64?
        /// Result lines (OpenRouter's result objects, or OpenAI's output and error lines), once terminal.
        var results: [[String: Any]] = []
        var completed = 0
        var failed = 0
        var outputFileID: String?
        var errorFileID: String?
        var errorMessage: String?
        var usage = (prompt: 0, completion: 0)

        init(id: String, api: API, endpoint: String, model: String?, metadata: [String: String], inputFileID: String?,
             requests: [Request], createdMs: Int64, fate: Fate) {
            self.id = id
            self.api = api
            self.endpoint = endpoint
            self.model = model
            self.metadata = metadata
            self.inputFileID = inputFileID
            self.requests = requests
            self.createdMs = createdMs
            self.fate = fate
        }

        var isTerminal: Bool { ["completed", "failed", "expired", "cancelled"].contains(status) }
    }

    private let lock = NSLock()
    private let config: SimulatorConfig
    private var generator: SeededRandom
    private var batches: [String: Batch] = [:]
    private var order: [String] = []
    private var byIdempotencyKey: [String: String] = [:]
    private var files: [String: (purpose: String, name: String, bytes: [UInt8], createdMs: Int64)] = [:]
    private var nextID = 1
    private let bill: (Double, Int) -> Void

    /// - Parameter bill: told what each batch's answers cost and how many there were, when it ends.
    init(config: SimulatorConfig, bill: @escaping (Double, Int) -> Void) {
        self.config = config
        self.generator = SeededRandom(seed: config.seed &+ 0xBA7C)
        self.bill = bill
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000) }

    private func newID(_ prefix: String) -> String {
        defer { nextID += 1 }
        return "\(prefix)\(nextID)"
    }

    /// A draw for the create and poll faults.
    func draw() -> Double {
        lock.lock()
        defer { lock.unlock() }
        return generator.unit()
    }

    // MARK: Files (OpenAI)

    func addFile(purpose: String, name: String, bytes: [UInt8]) -> [String: Any] {
        lock.lock()
        defer { lock.unlock() }
        let id = newID("file-sim-")
        files[id] = (purpose, name, bytes, Self.nowMs())
        return fileObject(id)
    }

    private func fileObject(_ id: String) -> [String: Any] {
        guard let file = files[id] else { return [:] }
        return ["id": id, "object": "file", "bytes": file.bytes.count, "created_at": file.createdMs / 1_000,
                "filename": file.name, "purpose": file.purpose]
    }

    func fileContent(_ id: String) -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        return files[id]?.bytes
    }

    // MARK: Batches

    enum CreateError: Error { case invalid(String), notFound(String) }

    /// Creates a batch (or returns the one made earlier with the same idempotency key: `created` false).
    func create(api: API, body: [String: Any], idempotencyKey: String?) throws(CreateError) -> (batch: [String: Any], created: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if let key = idempotencyKey, let id = byIdempotencyKey[key], let batch = batches[id] {
            return (object(batch, withResults: false), false)
        }
        let endpoint = body["endpoint"] as? String ?? "/v1/chat/completions"
        var requests: [Request] = []
        var inputFileID: String?
        switch api {
        case .openrouter:
            guard let items = body["requests"] as? [[String: Any]], !items.isEmpty else { throw .invalid("requests must be a non-empty array") }
            guard items.count <= 5_000 else { throw .invalid("at most 5000 requests per batch, got \(items.count)") }
            for item in items {
                guard let customID = item["custom_id"] as? String, let requestBody = item["body"] as? [String: Any] else {
                    throw .invalid("every request needs custom_id and body")
                }
                requests.append(Request(customID: customID, body: Array((try? JSONSerialization.data(withJSONObject: requestBody)) ?? Data())))
            }
        case .openai:
            guard let fileID = body["input_file_id"] as? String, let file = files[fileID] else { throw .notFound("no file \(body["input_file_id"] ?? "")") }
            inputFileID = fileID
            for line in file.bytes.split(separator: UInt8(ascii: "\n")) where !line.allSatisfy({ $0 == 32 || $0 == 13 }) {
                guard let item = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                      let customID = item["custom_id"] as? String, let requestBody = item["body"] as? [String: Any] else {
                    throw .invalid("every line of the input file needs custom_id, method, url and body")
                }
                requests.append(Request(customID: customID, body: Array((try? JSONSerialization.data(withJSONObject: requestBody)) ?? Data())))
            }
            guard !requests.isEmpty, requests.count <= 50_000 else { throw .invalid("an input file holds 1 to 50000 requests, not \(requests.count)") }
        }
        guard Set(requests.map(\.customID)).count == requests.count else { throw .invalid("custom_id values must be unique within a batch") }
        let draw = generator.unit()
        var fate = Fate.complete
        var cumulative = 0.0
        for (candidate, rate) in [(Fate.validationFailure, config.batchFailRate), (.expire, config.batchExpireRate), (.never, config.batchStuckRate)] {
            cumulative += rate
            if draw < cumulative { fate = candidate; break }
        }
        let batch = Batch(
            id: newID(api == .openai ? "batch_sim_" : "or-batch-sim-"), api: api, endpoint: endpoint, model: body["model"] as? String,
            metadata: body["metadata"] as? [String: String] ?? [:], inputFileID: inputFileID, requests: requests,
            createdMs: Self.nowMs(), fate: fate)
        batches[batch.id] = batch
        order.append(batch.id)
        if let key = idempotencyKey { byIdempotencyKey[key] = batch.id }
        return (object(batch, withResults: false), true)
    }

    func get(_ id: String) -> [String: Any]? {
        lock.lock()
        defer { lock.unlock() }
        guard let batch = batches[id] else { return nil }
        advance(batch)
        return object(batch, withResults: batch.api == .openrouter)
    }

    /// OpenRouter's `/results`: a page of a terminal batch's results.
    func results(_ id: String, cursor: Int, limit: Int) -> [String: Any]? {
        lock.lock()
        defer { lock.unlock() }
        guard let batch = batches[id] else { return nil }
        advance(batch)
        let page = batch.isTerminal ? Array(batch.results.dropFirst(cursor).prefix(limit)) : []
        let next = cursor + page.count < batch.results.count ? String(cursor + page.count) : nil
        return ["object": "list", "data": page, "next_cursor": next as Any]
    }

    func cancel(_ id: String) -> [String: Any]? {
        lock.lock()
        defer { lock.unlock() }
        guard let batch = batches[id] else { return nil }
        advance(batch)
        if !batch.isTerminal {
            batch.cancelRequested = true
            batch.status = "cancelling"
        }
        return object(batch, withResults: false)
    }

    /// Newest first; `after` continues after that id (OpenAI's cursor).
    func list(limit: Int, after: String?) -> [String: Any] {
        lock.lock()
        defer { lock.unlock() }
        var ids = Array(order.reversed())
        if let after, let at = ids.firstIndex(of: after) { ids = Array(ids[(at + 1)...]) }
        let page = ids.prefix(max(1, min(limit, 100)))
        let data = page.compactMap { batches[$0] }.map { batch -> [String: Any] in
            advance(batch)
            return object(batch, withResults: false)
        }
        return ["object": "list", "data": data, "first_id": page.first as Any, "last_id": page.last as Any, "has_more": page.count < ids.count]
    }

    // MARK: Time

    /// Brings every open batch up to now: batches run (and bill) whether anyone polls them or
    /// not, as a provider's do. Called before every answer about batches and before `/stats`.
    func advanceAll() {
        lock.lock()
        defer { lock.unlock() }
        for id in order { if let batch = batches[id], !batch.isTerminal { advance(batch) } }
    }

    private func advance(_ batch: Batch) {
        guard !batch.isTerminal else { return }
        let now = Self.nowMs()
        let turnaround = Int64(config.batchTurnaround / .milliseconds(1))
        let elapsed = now - batch.createdMs
        if batch.cancelRequested {
            finish(batch, status: "cancelled", answered: batch.status == "validating" ? 0 : answeredSoFar(batch, elapsed, turnaround))
            return
        }
        if elapsed < turnaround / 10 { return }
        if batch.fate == .validationFailure {
            batch.status = "failed"
            batch.errorMessage = "the batch failed validation (simulated)"
            batch.finalizedMs = now
            return
        }
        if elapsed < turnaround || batch.fate == .never {
            batch.status = "in_progress"
            batch.completed = answeredSoFar(batch, elapsed, turnaround)
            return
        }
        if batch.fate == .expire {
            finish(batch, status: "expired", answered: batch.requests.count / 2)
        } else {
            finish(batch, status: "completed", answered: batch.requests.count)
        }
    }

    private func answeredSoFar(_ batch: Batch, _ elapsed: Int64, _ turnaround: Int64) -> Int {
        let fraction = turnaround > 0 ? Double(max(0, elapsed - turnaround / 10)) / Double(max(1, turnaround - turnaround / 10)) : 1
        return min(batch.requests.count, Int(Double(batch.requests.count) * min(1, fraction)))
    }

    /// Answers the first `answered` requests (some with per-request errors); the rest end with
    /// the reason the batch ended. Bills what was answered.
    private func finish(_ batch: Batch, status: String, answered: Int) {
        var cost = 0.0
        var billed = 0
        var outputLines: [[String: Any]] = [], errorLines: [[String: Any]] = []
        for (n, request) in batch.requests.enumerated() {
            let lineID = "batch_req_\(batch.id)_\(n)"
            guard n < answered else {
                let (code, message) = status == "expired"
                    ? ("batch_expired", "This request could not be executed before the completion window expired.")
                    : ("batch_cancelled", "This request was not executed because the batch was cancelled.")
                errorLines.append(["id": lineID, "custom_id": request.customID, "response": NSNull(),
                                   "error": ["code": code, "message": message, "type": code]])
                continue
            }
            let errorDraw = generator.unit(), variant = generator.next(), countDraw = generator.next()
            if errorDraw < config.batchRequestErrorRate {
                let body: [String: Any] = ["error": ["message": "Internal server error (simulated)", "type": "server_error", "code": 500]]
                errorLines.append(["id": lineID, "custom_id": request.customID,
                                   "response": ["status_code": 500, "request_id": "req_\(lineID)", "body": body],
                                   "error": ["code": "server_error", "message": "Internal server error (simulated)", "type": "server_error"]])
                continue
            }
            guard var summary = ChatRequestSummary(json: Data(request.body)) else {
                errorLines.append(["id": lineID, "custom_id": request.customID, "response": NSNull(),
                                   "error": ["code": "invalid_request", "message": "the body is not a chat request", "type": "invalid_request_error"]])
                continue
            }
            summary.priceScale = 0.5
            let plan = SimulatorState.Plan(fault: .ok, delay: .zero, messageCount: [2, 4, 6][Int(countDraw % 3)], variant: variant)
            let response = ResponseBuilder.response(for: plan, serial: 0, request: summary, retryAfterSeconds: 1, created: Int(Self.nowMs() / 1_000))
            let completion = (try? JSONSerialization.jsonObject(with: Data(response.body))) ?? [:]
            if let usage = (completion as? [String: Any])?["usage"] as? [String: Any] {
                batch.usage.prompt += usage["prompt_tokens"] as? Int ?? 0
                batch.usage.completion += usage["completion_tokens"] as? Int ?? 0
            }
            cost += response.billed
            billed += 1
            outputLines.append(["id": lineID, "custom_id": request.customID,
                                "response": ["status_code": 200, "request_id": "req_\(lineID)", "body": completion], "error": NSNull()])
        }
        batch.status = status
        batch.finalizedMs = Self.nowMs()
        batch.completed = outputLines.count
        batch.failed = errorLines.count
        switch batch.api {
        case .openrouter:
            batch.results = outputLines + errorLines
        case .openai:
            if !outputLines.isEmpty { batch.outputFileID = storeLines(outputLines, name: "\(batch.id)_output.jsonl") }
            if !errorLines.isEmpty { batch.errorFileID = storeLines(errorLines, name: "\(batch.id)_error.jsonl") }
        }
        bill(cost, billed)
    }

    private func storeLines(_ lines: [[String: Any]], name: String) -> String {
        var bytes: [UInt8] = []
        for line in lines {
            bytes += Array((try? JSONSerialization.data(withJSONObject: line)) ?? Data())
            bytes.append(UInt8(ascii: "\n"))
        }
        let id = newID("file-sim-")
        files[id] = ("batch_output", name, bytes, Self.nowMs())
        return id
    }

    // MARK: Shapes

    private func object(_ batch: Batch, withResults: Bool) -> [String: Any] {
        let counts: [String: Any] = ["total": batch.requests.count, "completed": batch.completed, "failed": batch.failed]
        switch batch.api {
        case .openrouter:
            return ["id": batch.id, "object": "batch", "endpoint": batch.endpoint, "model": batch.model as Any,
                    "completion_window": "24h", "created_at": batch.createdMs / 1_000, "finalized_at": batch.finalizedMs.map { $0 / 1_000 } as Any,
                    "status": batch.status, "error": batch.errorMessage.map { ["message": $0] } as Any, "request_counts": counts,
                    "results": withResults && batch.isTerminal ? batch.results : NSNull(),
                    "usage": ["prompt_tokens": batch.usage.prompt, "completion_tokens": batch.usage.completion,
                              "total_tokens": batch.usage.prompt + batch.usage.completion]]
        case .openai:
            return ["id": batch.id, "object": "batch", "endpoint": batch.endpoint, "input_file_id": batch.inputFileID as Any,
                    "completion_window": "24h", "status": batch.status, "created_at": batch.createdMs / 1_000,
                    "output_file_id": batch.outputFileID as Any, "error_file_id": batch.errorFileID as Any,
                    "errors": batch.errorMessage.map { ["object": "list", "data": [["code": "validation_failed", "message": $0]]] } as Any,
                    "request_counts": counts, "metadata": batch.metadata]
        }
    }
}
