import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// `batch simulate` as a real process: ready line, a request, /stats, SIGTERM.
@Suite("batch simulate (the binary)")
struct SimulateCommandTests {
    @Test("--help documents the fault flags and the ready line")
    func help() async throws {
        let result = try await runBatch(["simulate", "--help"])
        #expect(result.status == 0)
        for flag in ["--port", "--latency-ms", "--latency-sigma", "--fail-429", "--fail-timeout", "--fail-error-in-200", "--rpm", "--require-key-env", "--seed", "--log", "listening on"] {
            #expect(result.output.contains(flag), "help lacks \(flag)")
        }
    }

    @Test("an invalid rate is refused with a message saying what is allowed")
    func invalidRate() async throws {
        let result = try await runBatch(["simulate", "--port", "0", "--fail-500", "2"])
        #expect(result.status != 0)
        #expect(result.output.contains("between 0 and 1"))
    }

    @Test("prints its ready line, answers a chat request, reports /stats, and exits 0 on SIGTERM")
    func serve() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let process = try BatchProcess(["simulate", "--port", "0", "--seed", "1", "--log", dir.path("sim.jsonl")])
        let ready = try await process.readLine()
        let prefix = "listening on http://127.0.0.1:"
        #expect(ready.hasPrefix(prefix))
        let root = try #require(URL(string: String(ready.dropFirst("listening on ".count))))
        #expect(Int(ready.dropFirst(prefix.count)) ?? 0 > 0)

        var request = URLRequest(url: root.appendingPathComponent("v1/chat/completions"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"model":"m/x","messages":[{"role":"user","content":"abc"}]}"#.utf8)
        let (body, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        let completion = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(completion["id"] as? String == "gen-sim-1")
        #expect(completion["model"] as? String == "m/x")
        let choices = try #require(completion["choices"] as? [[String: Any]])
        let content = try #require((choices.first?["message"] as? [String: Any])?["content"] as? String)
        // The first 16 hex digits of SHA-256("abc").
        #expect(content.contains("[sim gen-sim-1 prompt:ba7816bf8f01cfea]"))

        let (statsBody, _) = try await URLSession.shared.data(from: root.appendingPathComponent("stats"))
        let stats = try #require(try JSONSerialization.jsonObject(with: statsBody) as? [String: Any])
        #expect(stats["requests"] as? Int == 1)
        #expect((stats["outcomes"] as? [String: Int])?["ok"] == 1)

        process.signal(SIGTERM)
        let status = await process.exitCode()
        #expect(status == 0)
        let rest = process.standardOutput()
        #expect(rest.contains("stopped (SIGTERM) after 1 requests"))
        let log = try String(contentsOfFile: dir.path("sim.jsonl"), encoding: .utf8)
        #expect(log.contains("\"generation_id\":\"gen-sim-1\""))
    }
}

