import Wire

/// Reads typed fields out of a recipe's JSON, turning every problem into a `RecipeError`
/// that names the file and the field path (`topics.identity[2]`).
struct RecipeFields {
    let file: String

    func fail(_ kind: RecipeError.Kind, _ field: String?, _ problem: String) -> RecipeError {
        RecipeError(kind, file: file, field: field, problem)
    }

    /// Rejects keys the recipe format does not know (a typo would otherwise be silently ignored).
    /// Keys starting with `_` are free for comments.
    func checkKeys(_ value: JSONValue, known: [String], field: String?) throws(RecipeError) {
        guard let members = value.objectValue else { return }
        for (key, _) in members where !key.hasPrefix("_") && !known.contains(key) {
            let path = field.map { "\($0).\(key)" } ?? key
            var problem = "unknown field"
            if let guess = known.first(where: { $0.hasPrefix(key) || key.hasPrefix($0) })
                ?? known.min(by: { editDistance($0, key) < editDistance($1, key) })
                .flatMap({ editDistance($0, key) <= max(2, key.count / 3) ? $0 : nil }) {
                problem += "; did you mean \"\(guess)\"?"
            } else {
                problem += "; known fields are \(known.joined(separator: ", ")) (prefix a key with _ for a comment)"
            }
            throw fail(.unknownField, path, problem)
        }
    }

    func string(_ value: JSONValue?, _ field: String, required: Bool) throws(RecipeError) -> String? {
        guard let value, value != .null else {
            if required { throw fail(.missingField, field, "missing; expected a string") }
            return nil
        }
        guard case .string(let s) = value else {
            throw fail(.wrongType, field, "expected a string, found \(value.typeDescription)")
        }
        if s.isEmpty { throw fail(.invalidValue, field, "is empty") }
        return s
    }

    /// A required, non-empty array of non-empty strings.
    func stringList(_ value: JSONValue?, _ field: String) throws(RecipeError) -> [String] {
        guard let value else { throw fail(.missingField, field, "missing; expected a non-empty array of strings") }
        guard case .array(let elements) = value else {
            throw fail(.wrongType, field, "expected an array of strings, found \(value.typeDescription)")
        }
        if elements.isEmpty { throw fail(.emptyList, field, "the list is empty; add at least one entry") }
        var items: [String] = []
        items.reserveCapacity(elements.count)
        for (i, element) in elements.enumerated() {
            guard case .string(let s) = element else {
                throw fail(.wrongType, "\(field)[\(i)]", "expected a string, found \(element.typeDescription)")
            }
            if s.isEmpty { throw fail(.invalidValue, "\(field)[\(i)]", "is an empty string") }
            items.append(s)
        }
        return items
    }

    /// A required, non-empty object whose values are non-empty arrays of strings, in order.
    func categories(_ value: JSONValue?, _ field: String) throws(RecipeError) -> [Recipe.Category] {
        guard let value else {
            throw fail(.missingField, field, "missing; expected an object of category name to array of strings")
        }
        guard case .object(let members) = value else {
            throw fail(.wrongType, field, "expected an object of category name to array of strings, found \(value.typeDescription)")
        }
        if members.isEmpty { throw fail(.emptyList, field, "has no categories; add at least one") }
        var result: [Recipe.Category] = []
        for (name, items) in members {
            result.append(Recipe.Category(name: name, items: try stringList(items, "\(field).\(name)")))
        }
        return result
    }

    func int(_ value: JSONValue?, _ field: String, minimum: Int) throws(RecipeError) -> Int? {
        guard let value, value != .null else { return nil }
        guard case .int(let i) = value else {
            throw fail(.wrongType, field, "expected a whole number, found \(value.typeDescription)")
        }
        guard i >= Int64(minimum), i <= Int64(Int32.max) else {
            throw fail(.invalidValue, field, "is \(i); it must be at least \(minimum)")
        }
        return Int(i)
    }

    func bool(_ value: JSONValue?, _ field: String) throws(RecipeError) -> Bool? {
        guard let value, value != .null else { return nil }
        guard case .bool(let b) = value else {
            throw fail(.wrongType, field, "expected true or false, found \(value.typeDescription)")
        }
        return b
    }

    /// The `request` object, passed through in order. `model` is required; `messages` is added
    /// per index and so may not be given; `stream` must be false (whole responses are read).
    func request(_ value: JSONValue?) throws(RecipeError) -> ([(String, JSONValue)], String) {
        guard let value else {
            throw fail(.missingField, "request", "missing; expected an object with at least \"model\"")
        }
        guard case .object(let members) = value else {
            throw fail(.wrongType, "request", "expected an object, found \(value.typeDescription)")
        }
        guard let model = try string(value["model"], "request.model", required: true) else {
            throw fail(.missingField, "request.model", "missing")
        }
        if value["messages"] != nil {
            throw fail(.invalidValue, "request.messages", "must not be set; the prompt is sent as the one user message")
        }
        if let stream = value["stream"] {
            guard case .bool(let b) = stream else {
                throw fail(.wrongType, "request.stream", "expected false, found \(stream.typeDescription)")
            }
            if b { throw fail(.invalidValue, "request.stream", "must be false; streamed responses are not supported") }
        }
        if let temperature = value["temperature"] {
            switch temperature {
            case .int(let t) where t >= 0: break
            case .double(let t) where t >= 0: break
            default: throw fail(.invalidValue, "request.temperature", "expected a number of at least 0, found \(temperature.jsonText)")
            }
        }
        if let format = value["response_format"], format.objectValue == nil {
            throw fail(.wrongType, "request.response_format", "expected an object, found \(format.typeDescription)")
        }
        return (members, model)
    }

    /// Optional attribution headers. Authorization and Content-Type are set by the client.
    func headers(_ value: JSONValue?) throws(RecipeError) -> [(String, String)] {
        guard let value, value != .null else { return [] }
        guard case .object(let members) = value else {
            throw fail(.wrongType, "headers", "expected an object of header name to string, found \(value.typeDescription)")
        }
        var result: [(String, String)] = []
        for (name, headerValue) in members {
            let field = "headers.\(name)"
            let token = name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
            if name.isEmpty || !token {
                throw fail(.invalidValue, field, "is not a valid HTTP header name")
            }
            let lower = name.lowercased()
            if lower == "authorization" {
                throw fail(.invalidValue, field, "must not be in a recipe; the API key comes from the environment")
            }
            if lower == "content-type" || lower == "content-length" {
                throw fail(.invalidValue, field, "is set by the client; remove it")
            }
            guard case .string(let text) = headerValue else {
                throw fail(.wrongType, field, "expected a string, found \(headerValue.typeDescription)")
            }
            if text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0 }) {
                throw fail(.invalidValue, field, "contains a line break")
            }
            result.append((name, text))
        }
        return result
    }

    func validator(_ value: JSONValue?) throws(RecipeError) -> ConversationValidator {
        guard let value, value != .null else { return ConversationValidator() }
        guard case .object = value else {
            throw fail(.wrongType, "validation", "expected an object, found \(value.typeDescription)")
        }
        try checkKeys(value, known: ["ascii_only", "min_messages", "max_messages", "end_with_assistant"], field: "validation")
        let minimum = try int(value["min_messages"], "validation.min_messages", minimum: 2) ?? 2
        let maximum = try int(value["max_messages"], "validation.max_messages", minimum: 2)
        if let maximum, maximum < minimum {
            throw fail(.invalidValue, "validation.max_messages", "is \(maximum), below min_messages (\(minimum))")
        }
        return ConversationValidator(
            minMessages: minimum, maxMessages: maximum,
            asciiOnly: try bool(value["ascii_only"], "validation.ascii_only") ?? false,
            endWithAssistant: try bool(value["end_with_assistant"], "validation.end_with_assistant") ?? false
        )
    }
}

/// Levenshtein distance, for "did you mean" hints on misspelt field names.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
