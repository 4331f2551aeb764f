/// Where and how the chat client talks to the provider.
public struct ProviderConfig: Sendable {
    public static let defaultBaseURL = "https://openrouter.ai/api/v1"
    public static let defaultConnectTimeout: Duration = .seconds(10)
    public static let defaultRequestDeadline: Duration = .seconds(300)
    public static let defaultMaxRetryAfter: Duration = .seconds(300)

    /// The API root; requests go to `<baseURL>/chat/completions` (`--base-url`).
    public var baseURL: String
    /// Sent as `Authorization: Bearer ...` when set.
    public var apiKey: APIKey?
    /// The variable the key came from (`--api-key-env`), named in messages about the key.
    public var apiKeyEnvName: String
    /// Extra headers on every request: attribution (`HTTP-Referer`, `X-Title`).
    public var headers: [(String, String)]
    /// How long connecting may take.
    public var connectTimeout: Duration
    /// How long one whole request may take (a trickling or silent server is cut off here).
    public var requestDeadline: Duration
    /// The longest wait a `Retry-After` (or similar) can impose.
    public var maxRetryAfter: Duration

    public init(
        baseURL: String = ProviderConfig.defaultBaseURL,
        apiKey: APIKey? = nil,
        apiKeyEnvName: String = APIKeyResolver.defaultEnvName,
        headers: [(String, String)] = [],
        connectTimeout: Duration = ProviderConfig.defaultConnectTimeout,
        requestDeadline: Duration = ProviderConfig.defaultRequestDeadline,
        maxRetryAfter: Duration = ProviderConfig.defaultMaxRetryAfter
    ) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.apiKeyEnvName = apiKeyEnvName
        self.headers = headers
        self.connectTimeout = connectTimeout
        self.requestDeadline = requestDeadline
        self.maxRetryAfter = maxRetryAfter
    }

    /// The headers every request to the provider carries: `Accept`, the key as `Authorization`
    /// (the only header the key ever goes in), then the attribution headers.
    public var requestHeaders: [(String, String)] {
        var headers: [(String, String)] = [("Accept", "application/json")]
        if let apiKey { headers.append(("Authorization", "Bearer \(apiKey.value)")) }
        return headers + self.headers
    }

    /// `<baseURL>/chat/completions`, without a doubled slash.
    public var chatCompletionsURL: String { url("chat/completions") }

    /// `<baseURL>/<path>`, without a doubled slash.
    public func url(_ path: String) -> String {
        var base = Substring(baseURL)
        while base.hasSuffix("/") { base = base.dropLast() }
        return base + "/" + path
    }
}
