import Foundation
import Testing
import TestSupport
@testable import Provider
@testable import Simulator

/// The libcurl transport against nginx terminating TLS in front of an in-process simulator:
/// how many connections it opens, and how many handshakes at once.
@Suite("Transport over HTTPS: connection ramp and multiplexing", .serialized,
       .enabled(if: TLSFront.isAvailable, "needs nginx and openssl (Debian: nginx-light)"))
struct TLSTransportTests {
    /// Sends `count` chat requests at once, `rounds` times over, and returns the transport's
    /// connection statistics.
    static func burst(
        _ count: Int, rounds: Int = 1, http1: Bool, connectBurst: Int = 16, label: String
    ) async throws -> (ok: Int, stats: ConnectionStatistics) {
        let dir = try TemporaryDirectory(label)
        defer { dir.remove() }
        let server = try await SimulatorServer.start(SimulatorConfig(latency: .fixed(.milliseconds(300))))
        let tls = try await TLSFront(upstreamRoot: server.rootURL, directory: dir.path("tls"), accessLog: false)
        let transport = try CurlTransport(options: CurlTransportOptions(
            maxConnections: count, caFile: tls.caFile, httpVersion: http1 ? .http1_1 : .automatic, connectBurst: connectBurst))
        let client = ChatClient(transport: transport, config: ProviderConfig(
            baseURL: (http1 ? tls.h1Root : tls.h2Root) + "/v1", connectTimeout: .seconds(20), requestDeadline: .seconds(60)))
        let body = chatBody(prompt: "hello")
        var ok = 0
        for _ in 0..<rounds {
            ok += try await withTimeout(120) {
                await withTaskGroup(of: Bool.self) { group in
                    for _ in 0..<count { group.addTask { if case .success = await client.complete(body: body) { true } else { false } } }
                    return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
            }
        }
        let stats = transport.connectionStatistics
        print("\(label): \(ok)/\(count * rounds) ok, \(stats)")
        transport.shutdown()
        await tls.stop()
        try await server.stop()
        return (ok, stats)
    }

    @Test("HTTP/1.1: 400 requests at once open their connections at most 64 handshakes at a time, not all at once")
    func rampHTTP1() async throws {
        let ramped = try await Self.burst(400, http1: true, label: "ramp-h1")
        #expect(ramped.ok == 400)
        #expect(ramped.stats.peakConnecting <= 64, "\(ramped.stats)")
        #expect(ramped.stats.socketsOpened >= 100 && ramped.stats.socketsOpened <= 420, "one connection per request in flight: \(ramped.stats)")
        // The same without the ramp: every handshake starts in the same instant.
        // (How many of the storm's requests get through depends on the machine's load: on a busy
        // one, none do, which is the ramp's reason to exist. Only the pile-up is asserted.)
        let storm = try await Self.burst(400, http1: true, connectBurst: 0, label: "storm-h1")
        #expect(storm.stats.peakConnecting > 64, "without the ramp the handshakes pile up: \(storm.stats)")
    }

    @Test("HTTP/2: 400 requests at once share multiplexed connections, 16 streams each, opened up to 16 at a time; a second round reuses every handle, and each body's upload buffer is freed once sent")
    func multiplexHTTP2() async throws {
        let result = try await Self.burst(400, rounds: 2, http1: false, label: "mux-h2")
        #expect(result.ok == 800)
        #expect(result.stats.socketsOpened >= 400 / 16 && result.stats.socketsOpened <= 400 / 16 + 8, "\(result.stats)")
        #expect(result.stats.peakConnecting <= ConnectionRamp.multiplexedConnects, "\(result.stats)")
        // Once HTTP/2 is known the needed connections open 16 at a time (it was 4: 16 rounds of
        // handshakes for 1,024 requests in flight).
        #expect(result.stats.peakConnecting >= 8, "several handshakes at once once HTTP/2 is known: \(result.stats)")
        // libcurl 7.88 keeps a handle's buffers while its HTTP/2 connection is busy: handles must
        // be reused without curl_easy_reset (which broke the buffer size) and the upload buffer
        // freed by the loop, or each request in flight holds 16 KB it no longer needs.
        #expect(result.stats.handlesCreated <= 400, "\(result.stats)")
        #expect(result.stats.uploadBuffersReleased == 800, "\(result.stats)")
    }
}
