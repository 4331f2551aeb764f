import Foundation

/// A chat-completions request body like the seed's.
public func chatBody(prompt: String, model: String = "google/gemini-3-flash-preview") -> [UInt8] {
    let escaped = prompt.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    return Array("""
    {"model":"\(model)","stream":false,"temperature":1.0,\
    "response_format":{"type":"json_schema","json_schema":{"name":"conversation","strict":true,"schema":{"type":"object"}}},\
    "messages":[{"role":"user","content":"\(escaped)"}]}
    """.utf8)
}
