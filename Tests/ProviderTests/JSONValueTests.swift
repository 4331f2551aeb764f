import Foundation
import Testing
@testable import Provider

@Suite("JSON parsing of provider bodies")
struct JSONValueTests {
    @Test("valid documents parse to the same values Foundation reads", arguments: [
        #"{}"#, #"[]"#, #"  {"a": 1}  "#, "\n\n  \n{\"a\":[1,2.5,-3e2,true,false,null]}",
        #"{"s":"plain","e":"q\"b\\s\/n\nt\tu\u00e9 \ud83d\ude00"}"#,
        #"{"nested":{"deeper":[{"x":{}}, []]}}"#, #"[0, -0, 0.5, 1E3, 1e-2]"#,
        #"{"dup":1,"dup":2}"#,
    ])
    func valid(_ text: String) throws {
        let value = try #require(JSONValue.parse(Array(text.utf8)))
        let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        #expect(matches(value, foundation), "\(value)")
    }

    @Test("invalid documents are rejected", arguments: [
        "", "   ", "null", "\"just a string\"", "42", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "[01]", "[1.]", "[1e]",
        "{\"a\":1} trailing", "[\"unterminated]", "[\"bad \\x escape\"]", "[\"raw\ncontrol\"]", "[tru]", "<html></html>",
        String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
    ])
    func invalid(_ text: String) {
        #expect(JSONValue.parse(Array(text.utf8)) == nil)
    }

    @Test("accessors read what the classifier needs")
    func accessors() throws {
        let value = try #require(JSONValue.parse(Array(#"{"n":3,"s":"4","f":1.5,"b":true,"a":[1],"z":null}"#.utf8)))
        #expect(value["n"]?.int == 3)
        #expect(value["s"]?.int == 4)
        #expect(value["f"]?.int == nil)
        #expect(value["f"]?.number == 1.5)
        #expect(value["b"]?.bool == true)
        #expect(value["a"]?[0]?.int == 1)
        #expect(value["z"]?.isNull == true)
        #expect(value["missing"] == nil)
    }

    private func matches(_ value: JSONValue, _ other: Any) -> Bool {
        switch value {
        case .null: return other is NSNull
        case .bool(let b): return (other as? NSNumber).map { $0.boolValue == b } ?? false
        case .number(let n): return (other as? NSNumber).map { $0.doubleValue == n } ?? false
        case .string(let s): return (other as? String) == s
        case .array(let items):
            guard let others = other as? [Any], others.count == items.count else { return false }
            return zip(items, others).allSatisfy { matches($0, $1) }
        case .object(let members):
            guard let others = other as? [String: Any], others.count == members.count else { return false }
            return members.allSatisfy { key, member in others[key].map { matches(member, $0) } ?? false }
        }
    }
}
