import Provider
import Simulator

/// A simulator and a client talking to it over loopback; `close()` stops both.
public struct Loopback: Sendable {
    public let server: SimulatorServer
    public let transport: CurlTransport
    public let client: ChatClient

    public static func start(
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

    public func close() async throws {
        transport.shutdown()
        try await server.stop()
    }
}
