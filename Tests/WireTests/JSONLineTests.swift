import Testing
import TestSupport
import Wire

@Suite("JSONL lines")
struct JSONLineTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let number: Int
        let messages: [ChatMessage]
        let line: String
        var testDescription: String { "fixture line \(number)" }
    }

    static let cases: [Case] = {
        let lines = (try? Fixtures.lines("jsonl-lines.jsonl")) ?? []
        return lines.enumerated().compactMap { number, text in
            guard let o = try? jsonObject(text), let line = o["line"] as? String,
                  let list = o["messages"] as? [[String: Any]] else { return nil }
            let messages = list.map { ChatMessage(role: $0["role"] as? String ?? "", content: $0["content"] as? String ?? "") }
            return Case(number: number + 1, messages: messages, line: line)
        }
    }()

    @Test("the fixture has seven conversations")
    func fixtureLoaded() { #expect(Self.cases.count == 7) }

    @Test("a conversation is written byte-identical to Python's json.dumps", arguments: cases)
    func matchesPython(_ c: Case) {
        #expect(JSONLine.encode(c.messages).sameBytes(c.line))
    }

    @Test("single strings are escaped as json.dumps escapes them", arguments: [
        ("plain", #""plain""#),
        ("a/b", #""a/b""#),
        ("q\"b\\", #""q\"b\\""#),
        ("\n\r\t\u{08}\u{0C}", #""\n\r\t\b\f""#),
        ("\u{00}\u{1F}\u{7F}\u{80}", #""\u0000\u001f\u007f\u0080""#),
        ("é—", #""\u00e9\u2014""#),
        ("😀𝄞", #""\ud83d\ude00\ud834\udd1e""#),
        ("\u{FEFF}\u{FFFF}", #""\ufeff\uffff""#),
        ("e\u{301}", #""e\u0301""#),
        ("\r\n", #""\r\n""#),
    ])
    func escapes(_ input: String, _ expected: String) {
        #expect(JSONString.encode(input).sameBytes(expected))
    }

    @Test("lines meet nanochat's CustomJSON loader: an array of role/content objects that parses back")
    func loaderShape() throws {
        let messages = [ChatMessage(role: "user", content: "hi ☃"), ChatMessage(role: "assistant", content: "hello\n\"there\"")]
        let line = JSONLine.encode(messages)
        let parsed = try JSONParser.parse(line)
        guard case .array(let elements) = parsed else { Issue.record("not an array"); return }
        #expect(elements.count == 2)
        #expect(elements.map { $0.objectValue?.map(\.0) ?? [] } == [["role", "content"], ["role", "content"]])
        #expect(elements[1]["content"]?.stringValue == "hello\n\"there\"")
        #expect(!line.contains("\n"))
    }
}

@Suite("JSON values")
struct JSONValueTests {
    @Test("numbers are written as Python writes them", arguments: [
        // json.dumps([1.0, 0.7, 1e-05, 1e16, 1e15, 0.1+0.2, 5e-324, -0.0, 123456789.123, 2.5e-7, 1e22, 100.0])
        (1.0, "1.0"), (0.7, "0.7"), (1e-05, "1e-05"), (1e16, "1e+16"), (1e15, "1000000000000000.0"),
        (0.1 + 0.2, "0.30000000000000004"), (Double.leastNonzeroMagnitude, "5e-324"), (-0.0, "-0.0"),
        (123456789.123, "123456789.123"), (2.5e-7, "2.5e-07"), (1e22, "1e+22"), (100.0, "100.0"),
    ])
    func doubles(_ value: Double, _ expected: String) {
        #expect(JSONValue.double(value).jsonText == expected)
    }

    @Test("parsing keeps key order, integer versus float, and re-encodes in json.dumps style")
    func roundTrip() throws {
        let text = #"{"z": 1, "a": [true, false, null, 1.0, -2, 1e2, "\u00e9\ud83d\ude00\/"], "m": {}}"#
        let value = try JSONParser.parse(text)
        #expect(value.objectValue?.map(\.0) == ["z", "a", "m"])
        #expect(value.jsonText == #"{"z": 1, "a": [true, false, null, 1.0, -2, 100.0, "\u00e9\ud83d\ude00/"], "m": {}}"#)
    }

    @Test("invalid JSON is rejected with a line and column", arguments: [
        ("{\"a\": 1,}", "line 1, column 9"),
        ("{\n  \"a\": tru\n}", "line 2, column 8"),
        ("{\"a\": 1, \"a\": 2}", "duplicate key"),
        ("[1] x", "unexpected text"),
        ("\"\\ud800\"", "unpaired surrogate"),
        ("\"tab\there\"", "control character"),
        ("01", "unexpected text"),
        ("", "unexpected end"),
        (String(repeating: "[", count: 600), "nested more than"),
    ])
    func invalid(_ text: String, _ fragment: String) {
        #expect {
            _ = try JSONParser.parse(text)
        } throws: { error in
            String(describing: error).contains(fragment)
        }
    }
}
