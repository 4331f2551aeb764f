import Foundation
import Testing
@testable import Provider
@testable import Simulator

struct TimedOut: Error, CustomStringConvertible {
    var description: String { "the test's safety timeout passed (an awaited event never happened)" }
}

/// Runs `operation`, failing with `TimedOut` if it takes longer than `seconds`. A guard
/// against hangs, not a wait: tests never pass by sleeping.
func withTimeout<T: Sendable>(_ seconds: Int = 30, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimedOut()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// A chat-completions request body like the seed's.
func chatBody(prompt: String, model: String = "google/gemini-3-flash-preview") -> [UInt8] {
    let escaped = prompt.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    return Array("""
    {"model":"\(model)","stream":false,"temperature":1.0,\
    "response_format":{"type":"json_schema","json_schema":{"name":"conversation","strict":true,"schema":{"type":"object"}}},\
    "messages":[{"role":"user","content":"\(escaped)"}]}
    """.utf8)
}

/// A simulator and a client talking to it over loopback; `close()` stops both.
struct Loopback: Sendable {
    let server: SimulatorServer
    let transport: CurlTransport
    let client: ChatClient

    static func start(
        _ config: SimulatorConfig,
        apiKey: String? = nil,
        deadline: Duration = .seconds(30),
        maxConnections: Int = 1024
    ) async throws -> Loopback {
        let server = try await SimulatorServer.start(config)
        let transport = try CurlTransport(maxConnections: maxConnections)
        let client = ChatClient(transport: transport, config: ProviderConfig(
            baseURL: server.baseURL, apiKey: apiKey.map(APIKey.init), connectTimeout: .seconds(5), requestDeadline: deadline
        ))
        return Loopback(server: server, transport: transport, client: client)
    }

    func close() async throws {
        transport.shutdown()
        try await server.stop()
    }
}
