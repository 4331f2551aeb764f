import Foundation
import Testing
@testable import Provider

struct HintCase: Sendable, CustomTestStringConvertible {
    var headers: [String: String]
    var wait: Duration?
    var testDescription: String { headers.map { "\($0.key): \($0.value)" }.sorted().joined(separator: "; ") }
}

@Suite("Retry hints")
struct RetryHintTests {
    @Test("headers give the wait the provider asked for", arguments: [
        HintCase(headers: ["Retry-After": "7"], wait: .seconds(7)),
        HintCase(headers: ["Retry-After": "0"], wait: .zero),
        HintCase(headers: ["Retry-After": "1.5"], wait: .milliseconds(1500)),
        HintCase(headers: ["retry-after": " 12 "], wait: .seconds(12)),
        HintCase(headers: ["Retry-After": "Thu, 01 Jan 2026 00:01:00 GMT"], wait: .seconds(60)),
        HintCase(headers: ["Retry-After": "Thursday, 01-Jan-26 00:00:30 GMT"], wait: .seconds(30)),
        HintCase(headers: ["Retry-After": "Thu Jan  1 00:00:45 2026"], wait: .seconds(45)),
        HintCase(headers: ["Retry-After": "Wed, 31 Dec 2025 23:59:00 GMT"], wait: .zero),
        HintCase(headers: ["Retry-After": "soon"], wait: nil),
        HintCase(headers: ["Retry-After": "-5"], wait: nil),
        HintCase(headers: ["retry-after-ms": "250"], wait: .milliseconds(250)),
        HintCase(headers: ["retry-after-ms": "250", "Retry-After": "9"], wait: .milliseconds(250)),
        HintCase(headers: ["X-RateLimit-Reset": "1767225605000"], wait: .seconds(5)),
        HintCase(headers: ["X-RateLimit-Reset": "1767225605"], wait: .seconds(5)),
        HintCase(headers: ["X-RateLimit-Reset": "3"], wait: .seconds(3)),
        HintCase(headers: ["X-RateLimit-Reset": "1767225500000"], wait: .zero),
        HintCase(headers: ["x-ratelimit-reset-requests": "1s"], wait: .seconds(1)),
        HintCase(headers: ["x-ratelimit-reset-requests": "6m0s"], wait: .seconds(360)),
        HintCase(headers: ["x-ratelimit-reset-tokens": "12ms"], wait: .milliseconds(12)),
        HintCase(headers: ["x-ratelimit-reset-requests": "1h2m3.5s"], wait: .milliseconds(3_723_500)),
        HintCase(headers: ["x-ratelimit-reset-requests": "2s", "x-ratelimit-reset-tokens": "20s"], wait: .seconds(20)),
        HintCase(headers: ["x-ratelimit-reset-requests": "2s", "x-ratelimit-reset-tokens": "20s", "x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "500"], wait: .seconds(2)),
        HintCase(headers: ["x-ratelimit-reset-requests": "bogus"], wait: nil),
        HintCase(headers: [:], wait: nil),
    ])
    func hint(_ row: HintCase) {
        let headers = HTTPHeaders(row.headers.map { ($0.key, $0.value) })
        #expect(RetryHint.wait(headers: headers, now: fixedNow) == row.wait)
    }

    @Test("Go durations", arguments: [
        ("0", Duration.zero), ("1s", .seconds(1)), ("6m0s", .seconds(360)), ("12ms", .milliseconds(12)),
        ("1h2m3.5s", .milliseconds(3_723_500)), ("0.5s", .milliseconds(500)), ("20us", .microseconds(20)),
    ])
    func goDuration(_ text: String, _ expected: Duration) {
        #expect(RetryHint.goDuration(text) == expected)
    }

    @Test("malformed Go durations are rejected", arguments: ["", "s", "5", "5x", "1h-2m"])
    func badGoDuration(_ text: String) {
        #expect(RetryHint.goDuration(text) == nil)
    }

    @Test("HTTP dates in all three formats name the same instant")
    func httpDates() {
        let expected = Date(timeIntervalSince1970: 784_111_777)
        #expect(RetryHint.httpDate("Sun, 06 Nov 1994 08:49:37 GMT") == expected)
        #expect(RetryHint.httpDate("Sunday, 06-Nov-94 08:49:37 GMT") == expected)
        #expect(RetryHint.httpDate("Sun Nov  6 08:49:37 1994") == expected)
        #expect(RetryHint.httpDate("Sun, 06 Foo 1994 08:49:37 GMT") == nil)
    }

    @Test("header lookup ignores case")
    func caseInsensitive() {
        let headers: HTTPHeaders = ["RETRY-AFTER": "3", "Content-Type": "text/html"]
        #expect(headers["retry-after"] == "3")
        #expect(headers["content-type"] == "text/html")
        #expect(headers["missing"] == nil)
    }
}
