import Foundation
import Testing
import TestSupport
import Wire

/// The `.utf8` escaping of the simulator's answers and the batch API's bodies (the `.ascii`
/// escaping of export lines is in `JSONLineTests`).
@Suite("JSON strings, compact")
struct JSONStringTests {
    @Test("quotes, backslashes and controls are escaped; DEL and non-ASCII are copied", arguments: [
        ("plain", #""plain""#),
        ("a/b", #""a/b""#),
        ("q\"b\\", #""q\"b\\""#),
        ("\n\r\t", #""\n\r\t""#),
        ("\u{08}\u{0C}\u{00}\u{1F}", #""\u0008\u000c\u0000\u001f""#),
        ("\u{7F}é—😀", "\"\u{7F}é—😀\""),
        ("e\u{301}", "\"e\u{301}\""),
    ])
    func escapes(_ input: String, _ expected: String) {
        #expect(JSONString.encode(input, .utf8).sameBytes(expected))
        var appended: [UInt8] = [UInt8(ascii: "x")]
        JSONString.append(input, .utf8, to: &appended)
        #expect(appended == [UInt8(ascii: "x")] + Array(expected.utf8))
    }

    @Test("JSON strings escape quotes, backslashes and control characters")
    func roundTrip() throws {
        let text = "a\"b\\c\nd\u{01}é"
        let literal = JSONString.encode(text, .utf8)
        let decoded = try JSONDecoder().decode(String.self, from: Data(literal.utf8))
        #expect(decoded == text)
    }

    @Test("content without quotes is the literal's inside, in both escapings")
    func content() {
        for escaping in [JSONString.Escaping.ascii, .utf8] {
            var inside: [UInt8] = []
            JSONString.appendContent("a\"é\u{1}", escaping, to: &inside)
            #expect([UInt8(ascii: "\"")] + inside + [UInt8(ascii: "\"")] == Array(JSONString.encode("a\"é\u{1}", escaping).utf8))
        }
    }
}
