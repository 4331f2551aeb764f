import Foundation
import Wire

/// What a provider says about the account before a run: whether the key works, how much it may
/// still spend, and the model's prices. OpenRouter's `GET /key`, `GET /credits` and
/// `GET /models` under the base URL; a provider without them (404, or any other failure) is
/// simply not asked again, and the run goes on as before.
public struct AccountStatus: Sendable, Equatable {
    /// `limit_remaining` of `GET /key`: nil when the key has no limit or the provider does not say.
    public var keyRemaining: Double?
    /// `total_credits - total_usage` of `GET /credits`: nil when not available (OpenRouter
    /// answers 403 to keys that may not read it).
    public var creditsRemaining: Double?
    /// The model's prices from `GET /models`: nil when it is not listed.
    public var prices: ModelPrices?

    public init(keyRemaining: Double? = nil, creditsRemaining: Double? = nil, prices: ModelPrices? = nil) {
        self.keyRemaining = keyRemaining
        self.creditsRemaining = creditsRemaining
        self.prices = prices
    }

    /// The least of what the key and the account may still spend; nil when neither is known.
    public var spendable: Double? { [keyRemaining, creditsRemaining].compactMap { $0 }.min() }
}

/// Dollars (the provider's credits) per token.
public struct ModelPrices: Sendable, Equatable, Codable {
    public var prompt: Double
    public var completion: Double
    /// A prompt token read from the prompt cache (`input_cache_read`); nil: the prompt price.
    public var cachedPrompt: Double?

    public init(prompt: Double, completion: Double, cachedPrompt: Double? = nil) {
        self.prompt = prompt
        self.completion = completion
        self.cachedPrompt = cachedPrompt
    }

    /// What an answer with these token counts costs.
    public func cost(promptTokens: Int, completionTokens: Int, cachedTokens: Int = 0) -> Double {
        let cached = min(max(0, cachedTokens), promptTokens)
        return Double(promptTokens - cached) * prompt + Double(cached) * (cachedPrompt ?? prompt)
            + Double(completionTokens) * completion
    }

    enum CodingKeys: String, CodingKey {
        case prompt, completion
        case cachedPrompt = "cached_prompt"
    }
}

/// The key was refused: the run cannot succeed, so it stops before planning.
public struct AccountRefused: Error, Sendable, CustomStringConvertible {
    public let description: String
}

extension ChatClient {
    /// Asks the provider about the key, the credits and `model`'s prices (three small GETs).
    /// Throws ``AccountRefused`` only when the key itself is refused (401 or 403 on `/key`).
    public func checkAccount(model: String) async throws -> AccountStatus {
        var status = AccountStatus()
        guard let key = await get("key") else { return status }
        switch key.status {
        case 401, 403:
            throw AccountRefused(description: "the provider refused the API key (HTTP \(key.status) on GET \(config.url("key"))): check \(config.apiKeyEnvName) (or the .env file) holds a valid key")
        case 200:
            let data = JSONParser.parseBody(key.body)?["data"]
            status.keyRemaining = data?["limit_remaining"]?.numberValue
        default:
            return status  // not OpenRouter's API: nothing more to ask
        }
        if let credits = await get("credits"), credits.status == 200, let data = JSONParser.parseBody(credits.body)?["data"],
           let total = data["total_credits"]?.numberValue, let used = data["total_usage"]?.numberValue {
            status.creditsRemaining = total - used
        }
        if let models = await get("models"), models.status == 200,
           let entry = JSONParser.parseBody(models.body)?["data"]?.arrayValue?.first(where: { $0["id"]?.stringValue == model }),
           let pricing = entry["pricing"], let prompt = Self.price(pricing["prompt"]), let completion = Self.price(pricing["completion"]) {
            status.prices = ModelPrices(prompt: prompt, completion: completion, cachedPrompt: Self.price(pricing["input_cache_read"]))
        }
        return status
    }

    /// OpenRouter sends prices as decimal strings ("0.0000003"); a number is taken too.
    private static func price(_ value: JSONValue?) -> Double? {
        value?.stringValue.flatMap(Double.init) ?? value?.numberValue
    }

    private func get(_ path: String) async -> HTTPResponse? {
        let request = HTTPRequest(
            url: config.url(path), method: .get, headers: config.requestHeaders, connectTimeout: config.connectTimeout, deadline: .seconds(30))
        return try? await transport.send(request)
    }
}
