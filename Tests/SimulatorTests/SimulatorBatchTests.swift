import Foundation
import Testing
import TestSupport
@testable import Provider
@testable import Simulator

/// The simulator's Batch APIs (OpenRouter inline batches, OpenAI file batches) over real HTTP.
@Suite("batch simulate: the provider Batch APIs")
struct SimulatorBatchTests {
    static func config(_ change: (inout SimulatorConfig) -> Void = { _ in }) -> SimulatorConfig {
        var config = SimulatorConfig(seed: 3)
        config.batchTurnaround = .milliseconds(200)
        change(&config)
        return config
    }

    struct Exchange {
        let status: Int
        let headers: Provider.HTTPHeaders
        let json: [String: Any]
        let body: [UInt8]
    }

    static func call(_ loop: Loopback, _ method: HTTPMethod, _ path: String, json: Any? = nil, body: [UInt8]? = nil,
                     headers: [(String, String)] = []) async throws -> Exchange {
        var all = headers
        var bytes = body ?? []
        if let json {
            bytes = Array(try JSONSerialization.data(withJSONObject: json))
            all.append(("Content-Type", "application/json"))
        }
        let response = try await loop.transport.send(HTTPRequest(url: loop.server.baseURL + path, method: method, headers: all, body: bytes))
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return Exchange(status: response.status, headers: response.headers, json: object, body: response.body)
    }

    static var body: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(chatBody(prompt: String(repeating: "facts ", count: 400))))) as? [String: Any] ?? [:]
    }

    static func inline(_ count: Int, prefix: String = "r") -> [String: Any] {
        ["endpoint": "/v1/chat/completions", "model": "google/gemini-3-flash-preview",
         "requests": (0..<count).map { ["custom_id": "\(prefix)-\($0)", "body": body] }]
    }

    /// Polls (the simulator's batches run on the wall clock, 200 ms here) until the batch is terminal.
    static func waitTerminal(_ loop: Loopback, _ id: String) async throws -> [String: Any] {
        let bytes = try await withTimeout(30) {
            while true {
                let got = try await call(loop, .get, "/batches/\(id)")
                if let status = got.json["status"] as? String, ["completed", "failed", "expired", "cancelled"].contains(status) { return got.body }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        return (try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]) ?? [:]
    }

    @Test("OpenRouter: 202 validating, the same Idempotency-Key gives back the same batch, results inline at half price")
    func openRouterInline() async throws {
        let loop = try await Loopback.start(Self.config())
        let created = try await Self.call(loop, .post, "/batches", json: Self.inline(3), headers: [("Idempotency-Key", "k-1")])
        #expect(created.status == 202 && created.json["status"] as? String == "validating")
        let id = try #require(created.json["id"] as? String)
        let again = try await Self.call(loop, .post, "/batches", json: Self.inline(3), headers: [("Idempotency-Key", "k-1")])
        #expect(again.status == 200 && again.json["id"] as? String == id)
        let done = try await Self.waitTerminal(loop, id)
        #expect(done["status"] as? String == "completed")
        let results = try #require(done["results"] as? [[String: Any]])
        #expect(Set(results.compactMap { $0["custom_id"] as? String }) == ["r-0", "r-1", "r-2"])
        var billed = 0.0
        for result in results {
            let completion = try #require((result["response"] as? [String: Any])?["body"] as? [String: Any])
            let usage = try #require(completion["usage"] as? [String: Any])
            let tokens = (usage["prompt_tokens"] as? Int ?? 0) + (usage["completion_tokens"] as? Int ?? 0)
            let cost = usage["cost"] as? Double ?? 0
            #expect(abs(cost - Double(tokens) * 0.5e-6) < 1e-12, "half the online price")
            billed += cost
        }
        let page = try await Self.call(loop, .get, "/batches/\(id)/results?limit=2")
        #expect((page.json["data"] as? [Any])?.count == 2 && page.json["next_cursor"] as? String == "2")
        let stats = loop.server.stats()
        #expect(stats.batchesCreated == 1 && stats.batchBilledRequests == 3)
        #expect(abs(stats.billed - billed) < 1e-12)
        try await loop.close()
    }

    @Test("OpenAI: a JSONL uploaded as multipart, a batch with metadata, listed, results in output and error files")
    func openAIFiles() async throws {
        let loop = try await Loopback.start(Self.config { $0.batchRequestErrorRate = 0.5 })
        let lines = (0..<20).map { n in
            String(decoding: try! JSONSerialization.data(withJSONObject: [
                "custom_id": "o-\(n)", "method": "POST", "url": "/v1/chat/completions", "body": Self.body]), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
        let boundary = "sim-boundary"
        let form = "--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--\(boundary)\r\n"
            + "Content-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n\(lines)\r\n--\(boundary)--\r\n"
        let file = try await Self.call(loop, .post, "/files", body: Array(form.utf8),
                                       headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")])
        #expect(file.status == 200 && file.json["purpose"] as? String == "batch")
        let fileID = try #require(file.json["id"] as? String)
        #expect(try await Self.call(loop, .get, "/files/\(fileID)/content").body == Array(lines.utf8))
        let created = try await Self.call(loop, .post, "/batches", json: [
            "input_file_id": fileID, "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": ["batch_run": "run-7"]])
        let id = try #require(created.json["id"] as? String)
        let listed = try await Self.call(loop, .get, "/batches?limit=10")
        let entry = try #require((listed.json["data"] as? [[String: Any]])?.first { $0["id"] as? String == id })
        #expect((entry["metadata"] as? [String: String]) == ["batch_run": "run-7"])
        let done = try await Self.waitTerminal(loop, id)
        #expect(done["status"] as? String == "completed")
        let counts = try #require(done["request_counts"] as? [String: Int])
        var seen: [String] = []
        for key in ["output_file_id", "error_file_id"] {
            guard let fileID = done[key] as? String else { continue }
            let content = try await Self.call(loop, .get, "/files/\(fileID)/content").body
            for line in content.split(separator: UInt8(ascii: "\n")) {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
                seen.append(object["custom_id"] as? String ?? "")
                #expect((object["error"] is NSNull) == (key == "output_file_id"))
            }
        }
        #expect(seen.sorted() == (0..<20).map { "o-\($0)" }.sorted(), "every request once, in one of the two files")
        #expect(counts["completed"]! + counts["failed"]! == 20 && counts["failed"]! > 0 && counts["completed"]! > 0)
        #expect(loop.server.stats().batchBilledRequests == counts["completed"])
        try await loop.close()
    }

    @Test("fates: validation failure bills nothing; expiry answers half; a stuck batch cancelled keeps what it finished")
    func fates() async throws {
        let failing = try await Loopback.start(Self.config { $0.batchFailRate = 1 })
        let failed = try await Self.waitTerminal(failing, try #require(try await Self.call(failing, .post, "/batches", json: Self.inline(4)).json["id"] as? String))
        #expect(failed["status"] as? String == "failed" && (failed["error"] as? [String: Any])?["message"] != nil)
        #expect(failing.server.stats().batchBilledRequests == 0)
        try await failing.close()

        let expiring = try await Loopback.start(Self.config { $0.batchExpireRate = 1 })
        let expired = try await Self.waitTerminal(expiring, try #require(try await Self.call(expiring, .post, "/batches", json: Self.inline(10)).json["id"] as? String))
        #expect(expired["status"] as? String == "expired")
        let results = try #require(expired["results"] as? [[String: Any]])
        let errors = results.compactMap { ($0["error"] as? [String: Any])?["code"] as? String }
        #expect(results.count == 10 && errors == Array(repeating: "batch_expired", count: 5))
        #expect(expiring.server.stats().batchBilledRequests == 5)
        try await expiring.close()

        let stuck = try await Loopback.start(Self.config { $0.batchStuckRate = 1 })
        let id = try #require(try await Self.call(stuck, .post, "/batches", json: Self.inline(10)).json["id"] as? String)
        try await withTimeout(30) {
            while (try await Self.call(stuck, .get, "/batches/\(id)").json["request_counts"] as? [String: Int])?["completed"] != 10 {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(try await Self.call(stuck, .get, "/batches/\(id)").json["status"] as? String == "in_progress", "past its turnaround, still running")
        #expect(try await Self.call(stuck, .post, "/batches/\(id)/cancel").json["status"] as? String == "cancelling")
        let cancelled = try await Self.waitTerminal(stuck, id)
        #expect(cancelled["status"] as? String == "cancelled")
        #expect(stuck.server.stats().batchBilledRequests == 10, "what it finished is kept and billed")
        try await stuck.close()
    }

    @Test("faults and limits: 429 with Retry-After on create, 500 on poll, over 5,000 requests or a repeated custom_id refused")
    func faultsAndLimits() async throws {
        let limited = try await Loopback.start(Self.config { $0.batchCreate429Rate = 1; $0.batchPoll5xxRate = 1 })
        let refused = try await Self.call(limited, .post, "/batches", json: Self.inline(1))
        #expect(refused.status == 429 && refused.headers["retry-after"] == "1")
        #expect(try await Self.call(limited, .get, "/batches/none").status == 500)
        #expect(limited.server.stats().batchesCreated == 0)
        try await limited.close()

        let loop = try await Loopback.start(Self.config())
        #expect(try await Self.call(loop, .post, "/batches", json: Self.inline(5_001)).status == 400)
        var duplicate = Self.inline(2)
        duplicate["requests"] = [["custom_id": "same", "body": Self.body], ["custom_id": "same", "body": Self.body]]
        #expect(try await Self.call(loop, .post, "/batches", json: duplicate).status == 400)
        #expect(try await Self.call(loop, .get, "/batches/nope").status == 404)
        try await loop.close()
    }
}
