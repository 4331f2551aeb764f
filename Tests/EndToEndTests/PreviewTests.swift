import Foundation
import Testing
import TestSupport

/// `batch preview` run as a real binary.
@Suite("batch preview")
struct PreviewTests {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static let recipe = Fixtures.repositoryRoot.appendingPathComponent("recipes/nanochat-identity/recipe.json").path

    func preview(_ arguments: [String]) throws -> Run {
        let directory = try TemporaryDirectory("preview")
        defer { directory.remove() }
        // Standard error goes to a file so that only one pipe is read (no risk of a full pipe blocking).
        let errorPath = directory.path("stderr")
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        let errorFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        let process = Process()
        process.executableURL = BatchBinary.url
        process.arguments = ["preview"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = errorFile
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try errorFile.close()
        let errorData = FileManager.default.contents(atPath: errorPath) ?? Data()
        return Run(status: process.terminationStatus,
                   stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errorData, as: UTF8.self))
    }

    @Test("--json prints one object per index with the seed's prompt and the request body")
    func jsonRange() throws {
        let run = try preview(["--recipe", Self.recipe, "--knowledge", Fixtures.url("knowledge.md").path, "--index", "0-4", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        let seed = try Fixtures.lines("seed-samples.jsonl")
        for (i, line) in lines.enumerated() {
            #expect(line.hasPrefix("{\"index\": \(i), \"topic\": "))
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let expected = try JSONSerialization.jsonObject(with: Data(seed[i].utf8)) as? [String: Any]
            let prompt = object?["prompt"] as? String
            #expect(prompt != nil && prompt == expected?["prompt"] as? String)
            let payload = object?["payload"] as? [String: Any]
            #expect(payload?["model"] as? String == "google/gemini-3-flash-preview")
            let messages = payload?["messages"] as? [[String: Any]]
            #expect(messages?.first?["content"] as? String == prompt)
        }
    }

    @Test("without --json a readable block shows the sampled values and the prompt")
    func readable() throws {
        let run = try preview(["--recipe", Self.recipe, "--index", "0"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("=== index 0 ==="))
        #expect(run.stdout.contains("topic:    what optimizations worked vs didn't work"))
        #expect(run.stdout.contains("## KNOWLEDGE BASE"))
    }

    @Test("bad input fails with a clear message and no stack trace", arguments: [
        (["--recipe", "/nonexistent/recipe.json"], "/nonexistent/recipe.json: cannot read the recipe file"),
        (["--recipe", recipe, "--index", "9223372036854775808"], "too large"),
        (["--recipe", recipe, "--index", "9-3"], "after the end"),
        (["--recipe", recipe, "--knowledge", "/nonexistent/kb.md"], "knowledge_file: cannot read"),
    ])
    func failures(_ arguments: [String], _ fragment: String) throws {
        let run = try preview(arguments)
        #expect(run.status != 0)
        #expect(run.stderr.contains(fragment), "\(run.stderr)")
        #expect(!run.stderr.contains("Fatal error"))
        #expect(run.stdout.isEmpty)
    }

    @Test("--help explains the options")
    func help() throws {
        let run = try preview(["--help"])
        #expect(run.status == 0)
        for option in ["--recipe", "--index", "--knowledge", "--json", "A-B"] {
            #expect(run.stdout.contains(option))
        }
    }
}
