import Foundation
import Recipe
import Wire

/// A response the simulator will write.
struct SimulatedResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    /// When set, write only this many body bytes, then reset the connection.
    var resetAfterBytes: Int?
    /// What this answer is billed (a completion's `usage.cost`); 0 for errors.
    var billed = 0.0
}

/// What the simulator needs from a chat-completions request.
struct ChatRequestSummary {
    var model: String
    /// SHA-256 (hex) of the last user message's content.
    var promptSHA256: String
    /// Bytes of all message contents, for the prompt token estimate.
    var promptBytes: Int
    /// With the prompt cache: a hash of the messages' text up to each whole 1,024-byte block,
    /// shortest first (FNV-1a, continued block after block).
    var prefixHashes: [UInt64] = []
    /// With the prompt cache: how many leading bytes of the prompt were read from it.
    var cachedBytes = 0
    /// What the answer is billed relative to the online price (0.5 in a batch).
    var priceScale = 1.0
    /// false: the answer's usage leaves `cost` out (`SimulatorConfig.reportCost`).
    var reportCost = true
    /// The last user message (the prompt).
    var prompt = ""
    /// The conversation to answer with instead of the canned one (`--varied`).
    var content: String?

    static let cacheBlockBytes = 1_024

    /// Parses a request body; nil when it is not a JSON chat request.
    init?(json: Data, prefixHashes wanted: Bool = false) {
        guard let body = JSONParser.parseBody([UInt8](json)), let request = Self.read(body) else { return nil }
        let messages = request.messages
        model = request.model ?? "simulator/default"
        let lastUser = messages.last { $0.role == "user" }?.text ?? ""
        promptSHA256 = SHA256.hex(lastUser.utf8)
        prompt = lastUser
        promptBytes = messages.reduce(0) { $0 + ($1.text?.utf8.count ?? 0) }
        guard wanted else { return }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var inBlock = 0
        for message in messages {
            for byte in (message.text ?? "").utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
                inBlock += 1
                if inBlock == Self.cacheBlockBytes {
                    prefixHashes.append(hash)
                    inBlock = 0
                }
            }
        }
    }

    /// A chat request's model and messages (role, content text), or nil when the body is not
    /// one: an object with an array `messages` of objects, whose `model`, `role` and `content`
    /// (a string, or an array of parts with a string `text`) have those types when present.
    private static func read(_ body: JSONValue) -> (model: String?, messages: [(role: String?, text: String?)])? {
        guard body.objectValue != nil, let model = field(body["model"], \.stringValue),
              let list = body["messages"]?.arrayValue else { return nil }
        var messages: [(role: String?, text: String?)] = []
        messages.reserveCapacity(list.count)
        for item in list {
            guard item.objectValue != nil, let role = field(item["role"], \.stringValue),
                  let text = field(item["content"], contentText) else { return nil }
            messages.append((role, text))
        }
        return (model, messages)
    }

    /// A string content, or the texts of a parts array joined; nil for any other type.
    private static func contentText(_ content: JSONValue) -> String? {
        if let text = content.stringValue { return text }
        guard let parts = content.arrayValue else { return nil }
        var text = ""
        for part in parts {
            guard part.objectValue != nil, let piece = field(part["text"], \.stringValue) else { return nil }
            text += piece ?? ""
        }
        return text
    }

    /// An optional field: `.some(nil)` when missing or null, `.some(value)` when `read` takes
    /// it, nil when it has another type.
    private static func field<T>(_ value: JSONValue?, _ read: (JSONValue) -> T?) -> T?? {
        guard let value, !value.isNull else { return .some(nil) }
        return read(value).map { .some($0) }
    }
}

/// Builds OpenRouter-shaped bodies for every outcome.
enum ResponseBuilder {
    static let providerName = "Simulator"

    /// The answer for `plan.fault` (anything but `.timeout`).
    /// Per-token prices, as the model list gives them: 1e-6 a prompt or completion token, a tenth
    /// of that for a prompt token read from the cache.
    static let promptPrice = 1e-6, completionPrice = 1e-6, cacheReadPrice = 1e-7

    static func response(
        for plan: SimulatorState.Plan, serial: Int, request: ChatRequestSummary, retryAfterSeconds: Int, created: Int
    ) -> SimulatedResponse {
        let generationID = "gen-sim-\(serial)"
        switch plan.fault {
        case .ok, .timeout:
            let content = request.content ?? conversation(plan: plan, generationID: generationID, promptSHA256: request.promptSHA256)
            return completion(content: content, finishReason: "stop", generationID: generationID, request: request, created: created)
        case .reset:
            let content = request.content ?? conversation(plan: plan, generationID: generationID, promptSHA256: request.promptSHA256)
            var response = completion(content: content, finishReason: "stop", generationID: generationID, request: request, created: created)
            response.resetAfterBytes = response.body.count / 2
            return response
        case .malformed:
            let content = "Sure! Here is a conversation between a user and nanochat [sim \(generationID) prompt:\(request.promptSHA256.prefix(16))]:\nUser: hi\nAssistant: Hello! {\"messages\": [oops"
            return completion(content: content, finishReason: "stop", generationID: generationID, request: request, created: created)
        case .badConversation:
            let content = "{\"messages\":[{\"role\":\"assistant\",\"content\":\"[sim \(generationID) prompt:\(request.promptSHA256.prefix(16))] Hello, I speak first here.\"},{\"role\":\"assistant\",\"content\":\"And again.\"}]}"
            return completion(content: content, finishReason: "stop", generationID: generationID, request: request, created: created)
        case .truncated:
            let full = request.content ?? conversation(plan: plan, generationID: generationID, promptSHA256: request.promptSHA256)
            let content = String(full.prefix(max(1, full.count / 2)))
            return completion(content: content, finishReason: "length", generationID: generationID, request: request, created: created)
        case .errorIn200:
            let body = "{\"id\":\"\(generationID)\",\"provider\":\"\(providerName)\",\"model\":\(JSONString.encode(request.model, .utf8)),\"object\":\"chat.completion\",\"created\":\(created),\"choices\":null,\"error\":{\"message\":\"Provider returned error (simulated)\",\"metadata\":{\"error_type\":\"provider_error\",\"provider_name\":\"\(providerName)\"}}}"
            return json(200, body, generationID: generationID)
        case .status429:
            var response = json(429, "{\"error\":{\"code\":429,\"message\":\"Rate limit exceeded (simulated)\",\"metadata\":{\"error_type\":\"rate_limit_exceeded\",\"provider_name\":\"\(providerName)\"}}}", generationID: generationID)
            response.headers.append(("Retry-After", "\(retryAfterSeconds)"))
            return response
        case .status500:
            return json(500, "{\"error\":{\"code\":500,\"message\":\"Internal Server Error (simulated)\"}}", generationID: generationID)
        case .status502:
            let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>simulated proxy</center>\r\n</body>\r\n</html>\r\n"
            return SimulatedResponse(status: 502, headers: [("Content-Type", "text/html")], body: Array(html.utf8))
        case .status503:
            // The availability shape: no error.code, but error_type, http_status, availability.
            return json(503, "{\"error\":{\"error_type\":\"provider_unavailable\",\"http_status\":503,\"message\":\"No provider available (simulated)\",\"availability\":{\"code\":\"no_capacity\",\"retryable\":true}}}", generationID: generationID)
        }
    }

    static func rateLimited(retryAfterSeconds: Int, limit: Int, resetEpochMillis: Int) -> SimulatedResponse {
        var response = json(429, "{\"error\":{\"code\":429,\"message\":\"Rate limit exceeded: \(limit) requests per minute (simulated)\",\"metadata\":{\"error_type\":\"rate_limit_exceeded\"}}}")
        response.headers += [
            ("Retry-After", "\(retryAfterSeconds)"),
            ("X-RateLimit-Limit", "\(limit)"),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", "\(resetEpochMillis)"),
        ]
        return response
    }

    static func unauthorized() -> SimulatedResponse {
        json(401, "{\"error\":{\"code\":401,\"message\":\"No auth credentials found (simulated)\"}}")
    }

    static func badRequest(_ message: String) -> SimulatedResponse {
        json(400, "{\"error\":{\"code\":400,\"message\":\(JSONString.encode(message, .utf8))}}")
    }

    /// OpenRouter's `GET /api/v1/key`: what the key has spent and may still spend.
    static func key(usage: Double, limit: Double?) -> SimulatedResponse {
        let limitJSON = limit.map { "\($0)" } ?? "null"
        let remaining = limit.map { "\(max(0, $0 - usage))" } ?? "null"
        return json(200, "{\"data\":{\"label\":\"sk-sim...\",\"usage\":\(usage),\"limit\":\(limitJSON),\"limit_remaining\":\(remaining),\"is_free_tier\":false}}")
    }

    /// OpenRouter's `GET /api/v1/credits`: credits bought and used on the account.
    static func credits(total: Double, usage: Double) -> SimulatedResponse {
        json(200, "{\"data\":{\"total_credits\":\(total),\"total_usage\":\(usage)}}")
    }

    /// OpenRouter's `GET /api/v1/models`: the built-in recipe's model and the simulator's own,
    /// at the prices the simulator bills (strings of dollars per token, as OpenRouter sends them).
    static func models(_ ids: [String]) -> SimulatedResponse {
        let entries = ids.map {
            "{\"id\":\(JSONString.encode($0, .utf8)),\"name\":\(JSONString.encode($0, .utf8)),\"context_length\":1000000,\"pricing\":{\"prompt\":\"\(String(format: "%.7f", promptPrice))\",\"completion\":\"\(String(format: "%.7f", completionPrice))\",\"input_cache_read\":\"\(String(format: "%.8f", cacheReadPrice))\",\"request\":\"0\"}}"
        }
        return json(200, "{\"data\":[\(entries.joined(separator: ","))]}")
    }

    static func notFound(_ path: String) -> SimulatedResponse {
        json(404, "{\"error\":{\"code\":404,\"message\":\(JSONString.encode("no route for \(path); use POST /v1/chat/completions or GET /stats", .utf8))}}")
    }

    static func json(_ status: Int, _ body: String, generationID: String? = nil) -> SimulatedResponse {
        var headers = [("Content-Type", "application/json")]
        if let generationID { headers.append(("X-Generation-Id", generationID)) }
        return SimulatedResponse(status: status, headers: headers, body: Array(body.utf8))
    }

    private static func completion(
        content: String, finishReason: String, generationID: String, request: ChatRequestSummary, created: Int
    ) -> SimulatedResponse {
        let promptTokens = max(1, request.promptBytes / 4)
        let completionTokens = max(1, content.utf8.count / 4)
        let total = promptTokens + completionTokens
        // Cached prompt tokens cost a tenth of the price (1e-6 a token); the rest saved is the discount.
        let cachedTokens = min(promptTokens, request.cachedBytes / 4)
        let discount = Double(cachedTokens) * (promptPrice - cacheReadPrice) * request.priceScale
        let cost = (Double(promptTokens) * promptPrice + Double(completionTokens) * completionPrice) * request.priceScale - discount
        let cacheUsage = request.prefixHashes.isEmpty
            ? "" : ",\"prompt_tokens_details\":{\"cached_tokens\":\(cachedTokens)},\"cache_discount\":\(discount)"
        var body: [UInt8] = []
        body.reserveCapacity(content.utf8.count * 2 + 512)
        body.append(contentsOf: "{\"id\":\"\(generationID)\",\"provider\":\"\(providerName)\",\"model\":".utf8)
        JSONString.append(request.model, .utf8, to: &body)
        body.append(contentsOf: ",\"object\":\"chat.completion\",\"created\":\(created),\"choices\":[{\"logprobs\":null,\"finish_reason\":\"\(finishReason)\",\"native_finish_reason\":\"\(finishReason == "stop" ? "STOP" : "MAX_TOKENS")\",\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":".utf8)
        JSONString.append(content, .utf8, to: &body)
        body.append(contentsOf: ",\"refusal\":null,\"reasoning\":null}}],\"usage\":{\"prompt_tokens\":\(promptTokens),\"completion_tokens\":\(completionTokens),\"total_tokens\":\(total)\(request.reportCost ? ",\"cost\":\(cost)" : "")\(cacheUsage)}}".utf8)
        return SimulatedResponse(
            status: 200, headers: [("Content-Type", "application/json"), ("X-Generation-Id", generationID)], body: body, billed: cost)
    }

    // MARK: the conversation

    private static let openers = [
        "hi", "Hey, who are you?", "hello! tell me about yourself", "What is nanochat?", "yo, what is this",
        "Hi nanochat", "Can you help me code?", "hola",
    ]
    private static let questions = [
        "How were you trained?", "Can you browse the internet?", "What can you do?", "Are you open source?",
        "How do you compare to ChatGPT?", "What is your context limit?", "Who made you?",
    ]
    private static let answers = [
        "I am nanochat, a small open source chat model. I was trained end to end on a modest budget, and my code is public.",
        "I cannot browse the internet. I only know what was in my training data, so I can be out of date or wrong.",
        "I can answer questions, explain ideas, and help with simple code. I work best in English.",
        "Yes, the whole project is open source under the MIT license, so anyone can read and change it.",
        "I am much smaller than ChatGPT, so I make more mistakes, but I am cheap to train and easy to study.",
        "My context is limited to a couple of thousand tokens, so very long documents do not fit.",
    ]

    /// `{"messages": [...]}` with `plan.messageCount` alternating messages, user first; the
    /// first assistant message carries `[sim <generation id> prompt:<16 hex>]`.
    static func conversation(plan: SimulatorState.Plan, generationID: String, promptSHA256: String) -> String {
        var variant = plan.variant
        func pick(_ options: [String]) -> String {
            let choice = options[Int((variant >> 33) % UInt64(options.count))]
            variant = variant &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return choice
        }
        var messages: [(String, String)] = []
        for index in 0..<plan.messageCount {
            if index % 2 == 0 {
                messages.append(("user", index == 0 ? pick(openers) : pick(questions)))
            } else {
                var answer = pick(answers)
                if index == 1 { answer = "[sim \(generationID) prompt:\(promptSHA256.prefix(16))] " + answer }
                messages.append(("assistant", answer))
            }
        }
        let items = messages.map { "{\"role\":\"\($0.0)\",\"content\":\(JSONString.encode($0.1, .utf8))}" }
        return "{\"messages\":[\(items.joined(separator: ","))]}"
    }
}
