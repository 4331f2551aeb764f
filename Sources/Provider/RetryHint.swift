import Foundation

/// Reads how long a provider asked us to wait, from the headers providers actually send.
///
/// In order of precedence:
/// 1. `retry-after-ms`: milliseconds (openai-python honours it).
/// 2. `Retry-After`: seconds, or an HTTP date (IMF-fixdate, RFC 850 or asctime).
/// 3. `X-RateLimit-Reset`: the instant the window resets, as epoch milliseconds (OpenRouter,
///    observed), or epoch seconds; a small number is read as seconds from now.
/// 4. `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens`: Go durations (`1s`, `6m0s`,
///    `12ms`, `1h2m3.5s`), OpenAI. The one whose `x-ratelimit-remaining-*` is 0 wins; else the longer.
///
/// The result is never negative; capping it is the caller's job.
public enum RetryHint {
    public static func wait(headers: HTTPHeaders, now: Date) -> Duration? {
        if let value = headers["retry-after-ms"], let millis = Double(value.trimmingCharacters(in: .whitespaces)),
           millis.isFinite, millis >= 0 {
            return seconds(millis / 1000)
        }
        if let value = headers["retry-after"], let wait = retryAfter(value, now: now) {
            return wait
        }
        if let value = headers["x-ratelimit-reset"], let wait = rateLimitReset(value, now: now) {
            return wait
        }
        let requests = headers["x-ratelimit-reset-requests"].flatMap(goDuration)
        let tokens = headers["x-ratelimit-reset-tokens"].flatMap(goDuration)
        let requestsExhausted = headers["x-ratelimit-remaining-requests"].map { $0.trimmingCharacters(in: .whitespaces) == "0" } ?? false
        let tokensExhausted = headers["x-ratelimit-remaining-tokens"].map { $0.trimmingCharacters(in: .whitespaces) == "0" } ?? false
        switch (requests, tokens) {
        case (let r?, let t?):
            if requestsExhausted && !tokensExhausted { return r }
            if tokensExhausted && !requestsExhausted { return t }
            return max(r, t)
        case (let r?, nil): return r
        case (nil, let t?): return t
        case (nil, nil): return nil
        }
    }

    /// `Retry-After`: delay-seconds (decimals tolerated) or an HTTP date.
    public static func retryAfter(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text) {
            guard seconds.isFinite, seconds >= 0 else { return nil }
            return Self.seconds(seconds)
        }
        guard let date = httpDate(text) else { return nil }
        return nonNegative(date.timeIntervalSince(now))
    }

    /// `X-RateLimit-Reset`: epoch milliseconds (> 1e12), epoch seconds (> 1e9), else seconds from now.
    public static func rateLimitReset(_ value: String, now: Date) -> Duration? {
        guard let number = Double(value.trimmingCharacters(in: .whitespaces)), number.isFinite, number >= 0 else { return nil }
        if number > 1e12 { return nonNegative(number / 1000 - now.timeIntervalSince1970) }
        if number > 1e9 { return nonNegative(number - now.timeIntervalSince1970) }
        return seconds(number)
    }

    /// The instant `X-RateLimit-Reset` names, when it names an absolute time.
    static func rateLimitResetDate(_ value: String) -> Date? {
        guard let number = Double(value.trimmingCharacters(in: .whitespaces)), number.isFinite else { return nil }
        if number > 1e12 { return Date(timeIntervalSince1970: number / 1000) }
        if number > 1e9 { return Date(timeIntervalSince1970: number) }
        return nil
    }

    /// A Go duration string: `300ms`, `1.5s`, `6m0s`, `1h2m3.5s`, `20us`; nil if malformed.
    public static func goDuration(_ value: String) -> Duration? {
        var text = Substring(value.trimmingCharacters(in: .whitespaces))
        guard !text.isEmpty else { return nil }
        if text == "0" { return .zero }
        var totalNanoseconds = 0.0
        while !text.isEmpty {
            let numberEnd = text.firstIndex { !($0.isNumber || $0 == ".") } ?? text.endIndex
            guard numberEnd > text.startIndex, let number = Double(text[..<numberEnd]) else { return nil }
            text = text[numberEnd...]
            let unitEnd = text.firstIndex { $0.isNumber || $0 == "." } ?? text.endIndex
            let unit = text[..<unitEnd]
            text = text[unitEnd...]
            let scale: Double
            switch unit {
            case "h": scale = 3600e9
            case "m": scale = 60e9
            case "s": scale = 1e9
            case "ms": scale = 1e6
            case "us", "µs", "μs": scale = 1e3
            case "ns": scale = 1
            default: return nil
            }
            totalNanoseconds += number * scale
        }
        guard totalNanoseconds < 1e18 else { return nil }
        return .nanoseconds(Int64(totalNanoseconds.rounded()))
    }

    /// Parses the three HTTP date formats of RFC 9110 (always GMT).
    public static func httpDate(_ text: String) -> Date? {
        let separators: Set<Character> = [" ", ",", "-", ":"]
        let tokens = text.split(whereSeparator: { separators.contains($0) }).map(String.init)
        // IMF-fixdate: Sun 06 Nov 1994 08 49 37 GMT; RFC 850: Sunday 06 Nov 94 08 49 37 GMT;
        // asctime: Sun Nov 6 08 49 37 1994.
        guard tokens.count >= 7 else { return nil }
        let day, year, hour, minute, second: Int?
        let month: Int?
        if let m = monthNumber(tokens[1]) {
            month = m
            day = Int(tokens[2]); hour = Int(tokens[3]); minute = Int(tokens[4]); second = Int(tokens[5]); year = Int(tokens[6])
        } else {
            month = monthNumber(tokens[2])
            day = Int(tokens[1]); year = Int(tokens[3]); hour = Int(tokens[4]); minute = Int(tokens[5]); second = Int(tokens[6])
            if tokens.count > 7, tokens[7].uppercased() != "GMT", tokens[7].uppercased() != "UTC" { return nil }
        }
        guard let month, let day, var year, let hour, let minute, let second,
              (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        if year < 100 { year += year < 70 ? 2000 : 1900 }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days) * 86400 + Double(hour * 3600 + minute * 60 + second)
        return Date(timeIntervalSince1970: seconds)
    }

    private static func monthNumber(_ token: String) -> Int? {
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        guard token.count == 3 else { return nil }
        return months.firstIndex(of: token.lowercased()).map { $0 + 1 }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func nonNegative(_ value: TimeInterval) -> Duration {
        seconds(max(0, value))
    }

    /// Seconds as a Duration, to the nanosecond (nil-safe for absurdly large values).
    static func seconds(_ value: Double) -> Duration {
        guard value.isFinite, value > 0 else { return .zero }
        return .nanoseconds(Int64((min(value, 1e9) * 1e9).rounded()))
    }
}
