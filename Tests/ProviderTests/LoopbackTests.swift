import Foundation
import Testing
import TestSupport
@testable import Provider
@testable import Simulator
import Recipe

struct FaultCase: Sendable, CustomTestStringConvertible {
    var fault: SimulatorFault
    var decision: String
    var kind: String?
    var testDescription: String { "\(fault.rawValue) -> \(decision) \(kind ?? "")" }
}

@Suite("Client against the simulator over loopback", .serialized)
struct LoopbackTests {
    @Test("every fault kind reaches the client as the right decision", arguments: [
        FaultCase(fault: .ok, decision: "success", kind: nil),
        FaultCase(fault: .status429, decision: "retry_after", kind: "rate_limited"),
        FaultCase(fault: .status500, decision: "retry", kind: "server_error"),
        FaultCase(fault: .status502, decision: "retry", kind: "server_error"),
        FaultCase(fault: .status503, decision: "retry", kind: "unavailable"),
        FaultCase(fault: .timeout, decision: "retry", kind: "timeout"),
        FaultCase(fault: .reset, decision: "retry", kind: "connection_reset"),
        FaultCase(fault: .malformed, decision: "success", kind: nil),
        FaultCase(fault: .badConversation, decision: "success", kind: nil),
        FaultCase(fault: .truncated, decision: "fail_row", kind: "truncated"),
        FaultCase(fault: .errorIn200, decision: "retry", kind: "error_in_200"),
    ])
    func fault(_ row: FaultCase) async throws {
        let loop = try await Loopback.start(.always(row.fault), deadline: .milliseconds(800))
        let prompt = "Generate a conversation about \(row.fault.rawValue)"
        let outcome = try await withTimeout { await loop.client.complete(body: chatBody(prompt: prompt)) }
        #expect(outcome.decision == row.decision, "\(outcome)")
        #expect(outcome.failure?.kind == row.kind, "\(outcome)")

        let sha16 = String(SHA256.hex(Array(prompt.utf8)).prefix(16))
        switch (row.fault, outcome) {
        case (.ok, .success(let completion)):
            let object = try JSONSerialization.jsonObject(with: Data(completion.content.utf8)) as? [String: Any]
            let messages = try #require(object?["messages"] as? [[String: String]])
            #expect(messages.count >= 2 && messages.count <= 6)
            #expect(messages[1]["content"]?.hasPrefix("[sim gen-sim-1 prompt:\(sha16)]") == true)
            #expect(completion.generationID == "gen-sim-1")
            #expect(completion.model == "google/gemini-3-flash-preview")
            #expect((completion.promptTokens ?? 0) > 0 && (completion.completionTokens ?? 0) > 0)
            #expect((completion.cost ?? 0) > 0)
            #expect(completion.finishReason == "stop")
            #expect(completion.latency > .zero)
        case (.malformed, .success(let completion)):
            // The client does not validate content; the recipe will reject this.
            #expect((try? JSONSerialization.jsonObject(with: Data(completion.content.utf8))) == nil)
        case (.badConversation, .success(let completion)):
            let object = try JSONSerialization.jsonObject(with: Data(completion.content.utf8)) as? [String: Any]
            let messages = try #require(object?["messages"] as? [[String: String]])
            #expect(messages.first?["role"] == "assistant")
        case (.status429, .retryAfter(let wait, let failure)):
            #expect(wait == .seconds(1))
            #expect(failure.isRateLimit)
        default:
            break
        }
        let expectedOutcome = row.fault.rawValue
        try await withTimeout { await loop.server.waitForStats { $0[expectedOutcome] == 1 } }
        try await loop.close()
    }

    @Test("a silent server cannot hold a request past its deadline, and the connection is closed")
    func deadline() async throws {
        let loop = try await Loopback.start(.always(.timeout), deadline: .milliseconds(300))
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = try await withTimeout { await loop.client.complete(body: chatBody(prompt: "hold me")) }
        // Bounded (a silent server would hold it forever), with room for a loaded CI machine.
        #expect(started.duration(to: clock.now) < .seconds(20))
        #expect(outcome.failure?.kind == "timeout")
        try await withTimeout { await loop.server.waitForStats { $0.held == 0 && $0.connectionsClosed == 1 } }
        try await loop.close()
    }

    @Test("cancelling the awaiting task aborts the transfer and closes the connection")
    func cancellation() async throws {
        let loop = try await Loopback.start(.always(.timeout), deadline: .seconds(120))
        let client = loop.client
        let task = Task { await client.complete(body: chatBody(prompt: "cancel me")) }
        try await withTimeout { await loop.server.waitForStats { $0.held == 1 } }
        task.cancel()
        let outcome = try await withTimeout { await task.value }
        #expect(outcome.failure?.kind == "cancelled", "\(outcome)")
        try await withTimeout { await loop.server.waitForStats { $0.held == 0 && $0.connectionsClosed == 1 } }
        try await loop.close()
    }

    @Test("a task cancelled before sending never reaches the server")
    func cancelledBeforeSend() async throws {
        let loop = try await Loopback.start(.always(.ok))
        let client = loop.client
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await client.complete(body: chatBody(prompt: "never sent"))
        }
        let outcome = await task.value
        #expect(outcome.failure?.kind == "cancelled")
        #expect(loop.server.stats().requests == 0)
        try await loop.close()
    }

    @Test("256 concurrent requests all succeed, each with its own generation id")
    func concurrency() async throws {
        var config = SimulatorConfig.always(.ok)
        config.latency = .fixed(.milliseconds(20))
        let loop = try await Loopback.start(config)
        let client = loop.client
        let ids = try await withTimeout(60) {
            await withTaskGroup(of: String?.self) { group in
                for index in 0..<256 {
                    group.addTask {
                        if case .success(let completion) = await client.complete(body: chatBody(prompt: "row \(index)")) {
                            return completion.generationID
                        }
                        return nil
                    }
                }
                var ids: [String?] = []
                for await id in group { ids.append(id) }
                return ids
            }
        }
        #expect(ids.count == 256)
        #expect(ids.allSatisfy { $0 != nil })
        #expect(Set(ids.compactMap { $0 }).count == 256)
        let stats = loop.server.stats()
        #expect(stats.responses == 256)
        #expect(stats.connectionsOpened <= 256)
        try await loop.close()
    }

    @Test("start() hands each answer to its callback, and each 12 KB body arrives intact")
    func callbackStartFreesSentBodies() async throws {
        var config = SimulatorConfig.always(.ok)
        config.latency = .fixed(.milliseconds(20))
        let loop = try await Loopback.start(config)
        let filler = String(repeating: "knowledge line with \"quotes\" and ünïcode. ", count: 300)
        let prompts = (0..<64).map { "row \($0): " + filler }
        let contents = try await withTimeout {
            await withTaskGroup(of: (Int, String?).self) { group in
                for (index, prompt) in prompts.enumerated() {
                    group.addTask {
                        await withCheckedContinuation { (done: CheckedContinuation<(Int, String?), Never>) in
                            _ = loop.client.start(body: chatBody(prompt: prompt)) { answer in
                                if case .success(let completion) = loop.client.outcome(of: answer) { done.resume(returning: (index, completion.content)) }
                                else { done.resume(returning: (index, nil)) }
                            }
                        }
                    }
                }
                var contents: [Int: String?] = [:]
                for await (index, content) in group { contents[index] = content }
                return contents
            }
        }
        #expect(contents.count == 64)
        for (index, prompt) in prompts.enumerated() {
            let sha = SHA256.hex(Array(prompt.utf8))
            #expect(contents[index]??.contains("prompt:\(sha.prefix(16))]") == true, "row \(index)")
        }
        try await loop.close()
    }

    @Test("sequential requests reuse one kept-alive connection")
    func keepAlive() async throws {
        let loop = try await Loopback.start(.always(.ok))
        for index in 0..<10 {
            let outcome = await loop.client.complete(body: chatBody(prompt: "seq \(index)"))
            #expect(outcome.decision == "success")
        }
        #expect(loop.server.stats().connectionsOpened == 1)
        try await loop.close()
    }

    @Test("a required API key: missing or wrong aborts the run, right succeeds")
    func requiredKey() async throws {
        var config = SimulatorConfig.always(.ok)
        config.requiredAPIKey = "sim-key-123"
        for (key, decision) in [(nil, "abort_run"), ("wrong-key", "abort_run"), ("sim-key-123", "success")] {
            let loop = try await Loopback.start(config, apiKey: key)
            let outcome = await loop.client.complete(body: chatBody(prompt: "auth"))
            #expect(outcome.decision == decision, "\(outcome)")
            if decision == "abort_run" {
                #expect(outcome.failure?.kind == "auth")
                #expect(outcome.failure?.message.contains("OPENROUTER_API_KEY") == true)
                #expect(!(outcome.failure?.message.contains("wrong-key") ?? true))
                #expect(loop.server.stats()["unauthorized"] == 1)
            }
            try await loop.close()
        }
    }

    @Test("a requests-per-minute limit answers 429 with Retry-After, slowing every worker")
    func requestsPerMinute() async throws {
        var config = SimulatorConfig()
        config.requestsPerMinute = 2
        let loop = try await Loopback.start(config)
        for index in 0..<2 {
            #expect(await loop.client.complete(body: chatBody(prompt: "rpm \(index)")).decision == "success")
        }
        let outcome = await loop.client.complete(body: chatBody(prompt: "rpm 3"))
        guard case .retryAfter(let wait, let failure) = outcome else { Issue.record("\(outcome)"); return }
        #expect(wait > .seconds(50) && wait <= .seconds(60))
        #expect(failure.kind == "rate_limited" && failure.isRateLimit)
        #expect(loop.server.stats()["rpm_429"] == 1)
        try await loop.close()
    }

    @Test("GET /stats returns counts by outcome")
    func statsEndpoint() async throws {
        var config = SimulatorConfig()
        config.rate500 = 0.5
        config.seed = 7
        let loop = try await Loopback.start(config)
        for index in 0..<10 { _ = await loop.client.complete(body: chatBody(prompt: "stats \(index)")) }
        let response = try await loop.transport.send(HTTPRequest(url: loop.server.rootURL + "/stats", method: .get))
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "application/json")
        let stats = try JSONDecoder().decode(SimulatorStats.self, from: Data(response.body))
        #expect(stats.requests == 10)
        #expect(stats["ok"] + stats["500"] == 10)
        #expect(stats["500"] > 0 && stats["ok"] > 0)
        #expect(stats == loop.server.stats())
        try await loop.close()
    }

    @Test("the same seed and order give the same faults")
    func reproducible() async throws {
        var config = SimulatorConfig(rate429: 0.1, rate500: 0.2, rate502: 0.1, rateTruncated: 0.1, rateErrorIn200: 0.1)
        config.seed = 2024
        var runs: [[String]] = []
        for _ in 0..<2 {
            let loop = try await Loopback.start(config)
            var decisions: [String] = []
            for index in 0..<40 {
                let outcome = await loop.client.complete(body: chatBody(prompt: "seeded \(index)"))
                decisions.append(outcome.failure?.kind ?? "success")
            }
            runs.append(decisions)
            try await loop.close()
        }
        #expect(runs[0] == runs[1])
        #expect(Set(runs[0]).count >= 3)
    }

    @Test("the log has one line per response, naming its serial, outcome and prompt hash")
    func responseLog() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var config = SimulatorConfig(rate500: 0.3, seed: 3)
        config.logPath = dir.path("sim.jsonl")
        let loop = try await Loopback.start(config)
        var answered: [String: String] = [:]  // generation id -> prompt sha
        for index in 0..<12 {
            let prompt = "logged prompt \(index)"
            if case .success(let completion) = await loop.client.complete(body: chatBody(prompt: prompt)) {
                let sha = SHA256.hex(Array(prompt.utf8))
                answered[completion.generationID ?? ""] = sha
                #expect(completion.content.contains("[sim \(completion.generationID ?? "") prompt:\(sha.prefix(16))]"))
            }
        }
        try await loop.close()
        let lines = try String(contentsOfFile: dir.path("sim.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 12)
        for (index, line) in lines.enumerated() {
            let entry = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(entry["serial"] as? Int == index + 1)
            #expect(entry["generation_id"] as? String == "gen-sim-\(index + 1)")
            if entry["outcome"] as? String == "ok" {
                #expect(answered["gen-sim-\(index + 1)"] == entry["prompt_sha256"] as? String)
            }
        }
        #expect(answered.count > 0)
    }
}

@Suite("Curl transport")
struct CurlTransportTests {
    @Test("a refused connection is a connect failure")
    func refused() async throws {
        let server = try await SimulatorServer.start(SimulatorConfig())
        let url = server.baseURL + "/chat/completions"
        try await server.stop()
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        await #expect {
            try await transport.send(HTTPRequest(url: url, body: chatBody(prompt: "x")))
        } throws: { error in
            (error as? TransportError)?.kind == .connect
        }
    }

    @Test("an unusable URL aborts the run, naming --base-url")
    func badURL() async throws {
        let transport = try CurlTransport()
        defer { transport.shutdown() }
        let client = ChatClient(transport: transport, config: ProviderConfig(baseURL: "htp:/nowhere"))
        let outcome = await client.complete(body: [])
        #expect(outcome.decision == "abort_run")
        #expect(outcome.failure?.kind == "bad_url")
        #expect(outcome.failure?.message.contains("--base-url") == true)
    }

    @Test("after shutdown, requests fail fast")
    func afterShutdown() async throws {
        let transport = try CurlTransport()
        transport.shutdown()
        transport.shutdown()
        await #expect {
            try await transport.send(HTTPRequest(url: "http://127.0.0.1:1/"))
        } throws: { error in
            (error as? TransportError)?.kind == .shutdown
        }
    }

    @Test("shutting down fails requests in flight")
    func shutdownInFlight() async throws {
        let server = try await SimulatorServer.start(.always(.timeout))
        let transport = try CurlTransport()
        let url = server.baseURL + "/chat/completions"
        let task = Task { try await transport.send(HTTPRequest(url: url, body: chatBody(prompt: "held"), deadline: .seconds(120))) }
        try await withTimeout { await server.waitForStats { $0.held == 1 } }
        transport.shutdown()
        let result = try await withTimeout { await task.result }
        #expect(throws: TransportError.self) { try result.get() }
        if case .failure(let error as TransportError) = result { #expect(error.kind == .shutdown) }
        try await withTimeout { await server.waitForStats { $0.held == 0 } }
        try await server.stop()
    }

    @Test("a closing shutdown has closed its kept-alive connections when it returns; one for the process exit leaves them to it",
          arguments: [true, false])
    func shutdownConnections(closing: Bool) async throws {
        // An address of its own in 127/8: the tests of this process share it, and a connection
        // another test left open to an earlier server on the same port would count too.
        let server = try await SimulatorServer.start(SimulatorConfig(host: "127.0.0.\(Int.random(in: 2...254))"))
        let transport = try CurlTransport()
        _ = try await transport.send(HTTPRequest(url: server.baseURL + "/chat/completions", body: chatBody(prompt: "kept alive")))
        #expect(establishedConnections(to: server) == 1)
        transport.shutdown(closingConnections: closing)
        #expect(establishedConnections(to: server) == (closing ? 0 : 1))
        await #expect {
            try await transport.send(HTTPRequest(url: server.baseURL + "/chat/completions", body: chatBody(prompt: "too late")))
        } throws: { error in
            (error as? TransportError)?.kind == .shutdown
        }
        try await server.stop()
    }

    @Test("4xx and 5xx are responses, not errors")
    func statusIsNotError() async throws {
        let server = try await SimulatorServer.start(SimulatorConfig())
        let transport = try CurlTransport()
        let response = try await transport.send(HTTPRequest(url: server.rootURL + "/nope", method: .get))
        #expect(response.status == 404)
        #expect(response.headers["Content-Length"] == "\(response.body.count)")
        transport.shutdown()
        try await server.stop()
    }
}

/// This process's established TCP connections to `server` (an IPv4 address: other servers,
/// nginx for one, may listen on the same port at another loopback address), from /proc/net/tcp.
func establishedConnections(to server: SimulatorServer) -> Int {
    let ownSockets = Set(((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { fd in
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")).flatMap { link in
            link.hasPrefix("socket:[") ? String(link.dropFirst(8).dropLast()) : nil
        }
    })
    // /proc/net/tcp writes 127.0.0.1:8080 as 0100007F:1F90 (the address's bytes reversed).
    let octets = server.host.split(separator: ".").compactMap { UInt8($0) }
    precondition(octets.count == 4, "an IPv4 server address")
    let remote = octets.reversed().map { String(format: "%02X", $0) }.joined() + String(format: ":%04X", server.port)
    // Read to the end: /proc files report a size of 0, which a read by size takes at its word.
    guard let handle = FileHandle(forReadingAtPath: "/proc/net/tcp") else { return 0 }
    let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    handle.closeFile()
    // Distinct sockets: /proc/net/tcp is no snapshot. The kernel writes it a page at a time, and
    // a socket that moves in its hash table between two pages (while other tests open and close
    // hundreds) may be listed twice: a CI run counted 2 for the 1 connection.
    var sockets = Set<Substring>()
    for line in text.split(separator: "\n").dropFirst() {
        let fields = line.split(separator: " ")
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
        guard fields.count > 9, fields[2] == remote, fields[3] == "01", ownSockets.contains(String(fields[9])) else { continue }
        sockets.insert(fields[9])
    }
    return sockets.count
}
