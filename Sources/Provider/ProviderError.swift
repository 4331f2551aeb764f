import Foundation
import Wire

/// The error object of a provider response, read from either shape OpenRouter uses:
///
/// - `{"error": {"code": 429, "message": "...", "metadata": {"error_type": "...", ...}}}`
/// - `{"error": {"error_type": "...", "http_status": 503, "message": "...",
///    "availability": {"code": "...", "retryable": true, "retry_after": 30}}}`
///
/// plus OpenAI's (`"code": "model_not_found"`, `"type": "invalid_request_error"`) and bare
/// `{"message": ...}` / `{"detail": ...}` bodies.
struct ProviderError: Equatable {
    /// A numeric code (`error.code`, else `error.http_status`).
    var code: Int?
    /// The most specific type name, lowercased (`metadata.error_type`, `error_type`, a string
    /// `code`, `type`).
    var type: String?
    var message: String?
    /// `availability.retryable`, when the availability shape says.
    var retryable: Bool?
    /// True when the body used the availability shape.
    var isAvailability: Bool
    /// `availability.retry_after` or `metadata.retry_after`, in seconds.
    var retryAfterSeconds: Double?

    /// Reads the error in `json`; nil when it has none.
    init?(json: JSONValue) {
        guard let error = json["error"], !error.isNull else {
            // No error object: a bare message or detail, as some gateways send.
            guard let text = json["message"]?.stringValue ?? json["detail"]?.stringValue else { return nil }
            self.init(code: nil, type: nil, message: text, retryable: nil, isAvailability: false, retryAfterSeconds: nil)
            return
        }
        guard error.objectValue != nil else {
            self.init(code: nil, type: nil, message: error.stringValue, retryable: nil, isAvailability: false, retryAfterSeconds: nil)
            return
        }
        let metadata = error["metadata"]
        let availability = error["availability"]
        let stringCode = error["code"]?.stringValue.flatMap { Int($0) == nil ? $0 : nil }
        let types = [metadata?["error_type"]?.stringValue, error["error_type"]?.stringValue, stringCode, error["type"]?.stringValue]
        self.init(
            code: error["code"]?.intValue ?? error["http_status"]?.intValue,
            type: types.lazy.compactMap { $0 }.first?.lowercased(),
            message: error["message"]?.stringValue,
            retryable: availability?["retryable"]?.boolValue,
            isAvailability: availability.map { !$0.isNull } ?? false,
            retryAfterSeconds: availability?["retry_after"]?.numberValue ?? metadata?["retry_after"]?.numberValue
        )
    }

    init(code: Int?, type: String?, message: String?, retryable: Bool?, isAvailability: Bool, retryAfterSeconds: Double?) {
        self.code = code
        self.type = type
        self.message = message
        self.retryable = retryable
        self.isAvailability = isAvailability
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The message and type, lowercased, for keyword checks.
    var searchText: String {
        [message, type].compactMap { $0 }.joined(separator: " ").lowercased()
    }
}

extension String {
    /// One line (control characters and runs of whitespace become one space), at most
    /// `limit` characters.
    func shortened(to limit: Int = 200) -> String {
        var result = ""
        var count = 0
        var pendingSpace = false
        for character in self {
            if character.isWhitespace || character.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                pendingSpace = !result.isEmpty
                continue
            }
            if pendingSpace {
                result.append(" ")
                count += 1
                pendingSpace = false
            }
            if count >= limit { return result + "..." }
            result.append(character)
            count += 1
        }
        return result
    }
}
