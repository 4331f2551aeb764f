import Wire

/// Everything nanochat's generator hard-codes, as data: what to sample, the prompt template,
/// the knowledge base, the request fields and how to check a model's answer.
///
/// `sample(index:)` gives index i exactly what the seed sends for `random.Random(i)`, for
/// every index up to `maximumIndex` (the sampler itself accepts any `UInt64`).
/// Build one with `Recipe.load(path:knowledgePath:)` or, for a resumed run,
/// `Recipe(snapshot:)`; the format is described in `recipes/README.md`.
public struct Recipe: Sendable {
    /// A named list, in recipe order (a Python dict's insertion order in the seed).
    public struct Category: Sendable, Equatable {
        public let name: String
        public let items: [String]
    }

    /// The largest index a run may use (2^63 - 1, SQLite's largest integer).
    public static let maximumIndex = UInt64(Int64.max)

    public let name: String
    public let topics: [Category]
    public let personas: [String]
    public let dynamics: [String]
    public let firstMessages: [Category]
    /// How many first-message categories to draw from (the seed uses 3), capped at their count.
    public let firstMessageSampleSize: Int
    /// The request fields in body order (`model`, `stream`, ...), without `messages`.
    public let request: [(String, JSONValue)]
    /// Optional attribution headers (`HTTP-Referer`, `X-Title`), in recipe order.
    public let headers: [(String, String)]
    /// `request.model`.
    public let model: String
    /// The checks every answer must pass before it is accepted.
    public let validator: ConversationValidator
    /// The texts this recipe was built from, for a ledger.
    public let snapshot: RecipeSnapshot
    /// `"cache_marker": true`: the prompt goes as two text parts, the template's text before its
    /// first sampled placeholder (the knowledge base: the same in every request) marked
    /// `"cache_control": {"type": "ephemeral"}`, for models that cache only marked prefixes
    /// (Anthropic's and Alibaba's, through OpenRouter). Off by default: the seed's body is a plain string.
    public let cacheMarker: Bool

    /// The template with the knowledge base already substituted.
    let template: PromptTemplate
    /// The request body up to the prompt string: `{"model": ..., "messages": [{"role": "user", "content": `.
    let bodyPrefix: [UInt8]
    /// `template` with its text already JSON-escaped, for building request bodies.
    let escapedTemplate: (pieces: [PromptTemplate.Piece], textBytes: Int)
    /// With `cacheMarker`: how many leading pieces of the template are fixed text (the cached
    /// prefix), and their length in bytes, escaped and as text. 0 without a marker.
    let cachedPieces: (count: Int, bytes: Int, textBytes: Int)

    init(
        name: String, topics: [Category], personas: [String], dynamics: [String],
        firstMessages: [Category], firstMessageSampleSize: Int, request: [(String, JSONValue)],
        headers: [(String, String)], model: String, validator: ConversationValidator,
        snapshot: RecipeSnapshot, template: PromptTemplate, cacheMarker: Bool = false
    ) {
        self.name = name
        self.topics = topics
        self.personas = personas
        self.dynamics = dynamics
        self.firstMessages = firstMessages
        self.firstMessageSampleSize = firstMessageSampleSize
        self.request = request
        self.headers = headers
        self.model = model
        self.validator = validator
        self.snapshot = snapshot
        self.template = template
        self.escapedTemplate = template.jsonEscaped()
        var fixed = (count: 0, bytes: 0, textBytes: 0)
        if cacheMarker {
            for (escaped, plain) in zip(escapedTemplate.pieces, template.pieces) {
                guard case .text(let text) = escaped, case .text(let raw) = plain else { break }
                fixed = (fixed.count + 1, fixed.bytes + text.count, fixed.textBytes + raw.count)
            }
        }
        self.cacheMarker = fixed.bytes > 0
        self.cachedPieces = fixed.bytes > 0 ? fixed : (0, 0, 0)
        var prefix: [UInt8] = [UInt8(ascii: "{")]
        for (key, value) in request {
            JSONString.append(key, to: &prefix)
            JSONString.appendASCII(": ", to: &prefix)
            value.append(to: &prefix)
            JSONString.appendASCII(", ", to: &prefix)
        }
        JSONString.appendASCII("\"messages\": [{\"role\": \"user\", \"content\": ", to: &prefix)
        self.bodyPrefix = prefix
    }
}
