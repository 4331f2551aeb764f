import Foundation
import Testing
import TestSupport
import Wire

/// The tolerant reading of servers' answers (`JSONParser.parseBody`), which replaced the
/// provider's own parser: everything that parser read, it reads the same way.
@Suite("JSON parsing of provider bodies")
struct ProviderBodyTests {
    @Test("valid documents parse to the same values Foundation reads", arguments: [
        #"{}"#, #"[]"#, #"  {"a": 1}  "#, "\n\n  \n{\"a\":[1,2.5,-3e2,true,false,null]}",
        #"{"s":"plain","e":"q\"b\\s\/n\nt\tu\u00e9 \ud83d\ude00"}"#,
        #"{"nested":{"deeper":[{"x":{}}, []]}}"#, #"[0, -0, 0.5, 1E3, 1e-2]"#,
        #"{"dup":1,"dup":2}"#,
    ])
    func valid(_ text: String) throws {
        let value = try #require(JSONParser.parseBody(Array(text.utf8)))
        let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        #expect(matches(value, foundation), "\(value)")
    }

    @Test("invalid documents are rejected", arguments: [
        "", "   ", "null", "\"just a string\"", "42", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "[01]", "[1.]", "[1e]",
        "{\"a\":1} trailing", "[\"unterminated]", "[\"bad \\x escape\"]", "[\"raw\ncontrol\"]", "[tru]", "<html></html>",
        String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
    ])
    func invalid(_ text: String) {
        #expect(JSONParser.parseBody(Array(text.utf8)) == nil)
    }

    @Test("accessors read what the classifier needs")
    func accessors() throws {
        let value = try #require(JSONParser.parseBody(Array(#"{"n":3,"s":"4","f":1.5,"b":true,"a":[1],"z":null}"#.utf8)))
        #expect(value["n"]?.intValue == 3)
        #expect(value["s"]?.intValue == 4)
        #expect(value["f"]?.intValue == nil)
        #expect(value["f"]?.numberValue == 1.5)
        #expect(value["b"]?.boolValue == true)
        #expect(value["a"]?[0]?.intValue == 1)
        #expect(value["z"]?.isNull == true)
        #expect(value["missing"] == nil)
    }

    @Test("a chat completion answer: content, usage and ids")
    func completion() throws {
        let body = #"""
            {"id":"gen-1","provider":"P","model":"m/x","object":"chat.completion","created":1760000000,
             "choices":[{"logprobs":null,"finish_reason":"stop","index":0,
               "message":{"role":"assistant","content":"{\"messages\": [\"caf\u00e9 \ud83d\ude80\"]}","refusal":null}}],
             "usage":{"prompt_tokens":1234,"completion_tokens":56,"total_tokens":1290,"cost":0.00012345,
               "prompt_tokens_details":{"cached_tokens":1024},"cache_discount":9.216e-05}}
            """#
        let value = try #require(JSONParser.parseBody(Array(body.utf8)))
        let choice = try #require(value["choices"]?[0])
        #expect(choice["finish_reason"]?.stringValue == "stop")
        #expect(choice["message"]?["content"]?.stringValue == "{\"messages\": [\"café 🚀\"]}")
        #expect(choice["message"]?["refusal"]?.isNull == true)
        #expect(value["usage"]?["prompt_tokens"]?.intValue == 1234)
        #expect(value["usage"]?["completion_tokens"]?.intValue == 56)
        #expect(value["usage"]?["cost"]?.numberValue == 0.00012345)
        #expect(value["usage"]?["prompt_tokens_details"]?["cached_tokens"]?.intValue == 1024)
        #expect(value["usage"]?["cache_discount"]?.numberValue == 9.216e-05)
        #expect(value["id"]?.stringValue == "gen-1")
        #expect(value["created"]?.intValue == 1_760_000_000)
    }

    @Test("error bodies in OpenRouter's and OpenAI's shapes")
    func errors() throws {
        let openRouter = try #require(JSONParser.parseBody(Array(
            #"{"error":{"code":429,"message":"Rate limit exceeded","metadata":{"error_type":"rate_limit_exceeded","retry_after":"12.5"}}}"#.utf8)))
        #expect(openRouter["error"]?["code"]?.intValue == 429)
        #expect(openRouter["error"]?["metadata"]?["error_type"]?.stringValue == "rate_limit_exceeded")
        #expect(openRouter["error"]?["metadata"]?["retry_after"]?.numberValue == 12.5)
        let availability = try #require(JSONParser.parseBody(Array(
            #"{"error":{"error_type":"provider_unavailable","http_status":503,"availability":{"code":"no_capacity","retryable":false,"retry_after":30}}}"#.utf8)))
        #expect(availability["error"]?["http_status"]?.intValue == 503)
        #expect(availability["error"]?["availability"]?["retryable"]?.boolValue == false)
        #expect(availability["error"]?["availability"]?["retry_after"]?.numberValue == 30)
        let openAI = try #require(JSONParser.parseBody(Array(
            #"{"error":{"message":"The model `x` does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#.utf8)))
        #expect(openAI["error"]?["code"]?.stringValue == "model_not_found")
        #expect(openAI["error"]?["code"]?.intValue == nil)
        #expect(openAI["error"]?["param"]?.isNull == true)
    }

    @Test("numbers: integers beyond 64 bits and beyond Double's range are read, not refused")
    func numbers() throws {
        let value = try #require(JSONParser.parseBody(Array(
            #"{"big":123456789012345678901234567890,"huge":1e400,"neg":-1e400,"edge":999999999999999,"over":1000000000000000,"max":9223372036854775807,"min":-9223372036854775808,"spaced":" 7 ","zero":-0}"#.utf8)))
        #expect(value["big"] == .double(1.2345678901234568e29))
        #expect(value["big"]?.intValue == nil)
        #expect(value["huge"]?.numberValue == .infinity)
        #expect(value["neg"]?.numberValue == -.infinity)
        #expect(value["huge"]?.intValue == nil)
        #expect(value["edge"]?.intValue == 999_999_999_999_999)
        #expect(value["over"]?.intValue == nil)
        #expect(value["max"] == .int(.max))
        #expect(value["min"] == .int(.min))
        #expect(value["spaced"]?.intValue == 7)
        #expect(value["zero"]?.intValue == 0)
        // The strict reading refuses both.
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse("123456789012345678901234567890") }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse("1e400") }
    }

    @Test("unicode escapes: pairs combine, unpaired surrogates and invalid UTF-8 become U+FFFD", arguments: [
        (#"["\u00e9\u2014\ud834\udd1e"]"#, "é—𝄞"),
        (#"["a\ud800b"]"#, "a\u{FFFD}b"),
        (#"["\udc00"]"#, "\u{FFFD}"),
        (#"["\ud83d\u0041"]"#, "\u{FFFD}A"),
        (#"["\ud83d\ud83d\ude00"]"#, "\u{FFFD}😀"),
        (#"["\uD83D\uDE00"]"#, "😀"),
    ])
    func unicode(_ text: String, _ expected: String) throws {
        let value = try #require(JSONParser.parseBody(Array(text.utf8)))
        #expect(value[0]?.stringValue?.unicodeScalars.elementsEqual(expected.unicodeScalars) == true)
        if expected.contains("\u{FFFD}") {
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
        } else {
            #expect(try JSONParser.parse(text) == value)
        }
    }

    @Test("invalid UTF-8 inside a string becomes U+FFFD, and is refused when strict")
    func invalidUTF8() throws {
        let bytes: [UInt8] = Array(#"["ok "#.utf8) + [0xC3, 0x28] + Array(#" \n", "x"]"#.utf8)
        let value = try #require(JSONParser.parseBody(bytes))
        #expect(value[0]?.stringValue == "ok \u{FFFD}( \n")
        #expect(value[1]?.stringValue == "x")
        #expect {
            _ = try JSONParser.parse(bytes: bytes)
        } throws: { error in
            String(describing: error).contains("invalid UTF-8")
        }
    }

    @Test("a repeated key: the last value wins, in the first one's place, in small and large objects", arguments: [3, 40])
    func duplicates(_ width: Int) throws {
        let others = (0..<width).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let text = "{\"dup\":\"first\",\(others),\"dup\":\"last\"}"
        let value = try #require(JSONParser.parseBody(Array(text.utf8)))
        let members = try #require(value.objectValue)
        #expect(members.count == width + 1)
        #expect(members.first?.0 == "dup")
        #expect(value["dup"]?.stringValue == "last")
        #expect(value["k\(width - 1)"]?.intValue == width - 1)
        #expect {
            _ = try JSONParser.parse(text)
        } throws: { error in
            String(describing: error).contains("duplicate key \"dup\"")
        }
    }

    @Test("nesting: 256 levels in a body and 512 in a strict document, one more is refused")
    func depth() throws {
        func nested(_ levels: Int) -> String { String(repeating: "[", count: levels) + String(repeating: "]", count: levels) }
        #expect(JSONParser.parseBody(Array(nested(256).utf8)) != nil)
        #expect(JSONParser.parseBody(Array(nested(257).utf8)) == nil)
        #expect(try JSONParser.parse(nested(512)) != .null)
        #expect {
            _ = try JSONParser.parse(nested(513))
        } throws: { error in
            String(describing: error).contains("nested more than 512 levels deep")
        }
    }

    @Test("the compact form: no spaces, non-ASCII as it is, and it reads back the same")
    func compact() throws {
        let value = JSONValue.object([
            ("b", .array([.int(1), .double(2.5), .double(1.0), .null, .bool(true)])),
            ("a", .string("é \"q\" \u{08}\u{0C}\u{7F} 😀 \n")),
            ("c", .object([])),
        ])
        let expected = #"{"b":[1,2.5,1.0,null,true],"a":"é \"q\" \u0008\u000c"# + "\u{7F}" + #" 😀 \n","c":{}}"#
        #expect(String(decoding: value.encoded(.compact), as: UTF8.self).sameBytes(expected))
        #expect(JSONParser.parseBody(value.encoded(.compact)) == value)
        #expect(JSONValue.double(.infinity).encoded(.compact) == Array("null".utf8))
    }

    private func matches(_ value: JSONValue, _ other: Any) -> Bool {
        switch value {
        case .null: return other is NSNull
        case .bool(let b): return (other as? NSNumber).map { $0.boolValue == b } ?? false
        case .int(let n): return (other as? NSNumber).map { $0.doubleValue == Double(n) } ?? false
        case .double(let n): return (other as? NSNumber).map { $0.doubleValue == n } ?? false
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
