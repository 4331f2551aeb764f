import Foundation
import Recipe
import TestSupport

/// Shared pieces of the run tests: the shipped recipe, status and export readers, and the
/// check that an exported row answers its own index's prompt.
enum RunSupport {
    static let recipePath = Fixtures.repositoryRoot.appendingPathComponent("recipes/nanochat-identity/recipe.json").path
    static let recipe: Recipe = try! Recipe.load(path: recipePath)

    /// Flags that make retries fast in tests (the defaults back off for seconds).
    static let fastRetries = ["--backoff-base", "0.02", "--backoff-cap", "0.2", "--api-key-env", "BATCH_TEST_NO_KEY"]

    static func status(_ ledgers: [String]) async throws -> [String: Any] {
        let result = try await runBatch(["status", "--json"] + ledgers.flatMap { ["--ledger", $0] })
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: result.output])
        }
        return object
    }

    static func int(_ object: [String: Any], _ key: String) -> Int { object[key] as? Int ?? -1 }

    /// Starts `batch run` of the shipped recipe against `simulator` in the background.
    static func startRun(ledger: String, rows: Int, concurrency: Int, simulator: SimulatorProcess, _ extra: [String] = []) throws -> BatchProcess {
        try BatchProcess(["run", "--ledger", ledger, "--recipe", recipePath, "--num", "\(rows)", "--concurrency", "\(concurrency)",
                          "--base-url", simulator.baseURL] + extra + fastRetries)
    }

    /// Runs `batch run` of the shipped recipe against `simulator` to its end.
    static func run(ledger: String, rows: Int, simulator: SimulatorProcess, _ extra: [String] = []) async throws -> BatchResult {
        try await runBatch(["run", "--ledger", ledger, "--recipe", recipePath, "--num", "\(rows)", "--base-url", simulator.baseURL]
                           + extra + fastRetries)
    }

    /// Waits until `ledger` exists and has at least `rows` done (a run started in the background is under way).
    static func waitUntilDone(_ ledger: String, atLeast rows: Int = 1) async throws {
        try await waitUntil {
            guard FileManager.default.fileExists(atPath: ledger), let status = try? await status([ledger]) else { return false }
            return int(status, "done") >= rows
        }
    }

    /// A 2 MB tmpfs mounted at `folder` (created), to fill up; nil with a printed reason when
    /// mounting is not permitted here. Unmount it with `unmount(_:)`.
    /// Fills the disk holding `folder` to its last block with `folder/filler`.
    static func fill(_ folder: String) {
        _ = shell("dd if=/dev/zero of='\(folder)/filler' bs=4k 2>/dev/null")
    }

    static func smallDisk(at folder: String, for test: String) throws -> String? {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard shell("mount -t tmpfs -o size=2m tmpfs '\(folder)'") else {
            print("\(test): skipped: cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
            return nil
        }
        return folder
    }

    static func unmount(_ folder: String) { _ = shell("umount '\(folder)'") }

    /// The exported lines and their metadata indices.
    static func export(_ ledgers: [String], in dir: TemporaryDirectory, name: String = "out") async throws -> (lines: [String], indices: [Int64], result: BatchResult) {
        let output = dir.path("\(name).jsonl"), metadata = dir.path("\(name).meta.jsonl")
        let result = try await runBatch(["export", "--output", output, "--metadata", metadata] + ledgers.flatMap { ["--ledger", $0] })
        let lines = ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        let indices = ((try? String(contentsOfFile: metadata, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line -> Int64? in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return (object?["index"] as? NSNumber)?.int64Value
        }
        return (lines, indices, result)
    }

    /// The simulator marks each answer with its generation id and the SHA-256 of the prompt it
    /// answered; returns the generation id when `line` answers index `index`'s prompt, else nil.
    static func generationID(of line: String, answering index: Int64) -> String? {
        let expected = String(SHA256.hex(recipe.sample(index: UInt64(index)).prompt.utf8).prefix(16))
        guard let range = line.range(of: #"\[sim (gen-sim-\d+) prompt:([0-9a-f]{16})\]"#, options: .regularExpression) else { return nil }
        let marker = line[range].dropFirst(5).dropLast()
        let parts = marker.split(separator: " ")
        guard parts.count == 2, parts[1] == "prompt:" + expected else { return nil }
        return String(parts[0])
    }

    /// Generation ids the simulator logged as successful answers.
    static func servedOK(_ logPath: String) throws -> Set<String> {
        var ids = Set<String>()
        for line in try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["outcome"] as? String == "ok", let id = object["generation_id"] as? String else { continue }
            ids.insert(id)
        }
        return ids
    }

    /// Runs `/bin/sh -c command` (its errors silenced); true when it exits 0. For mounts.
    static func shell(_ command: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command + " 2>/dev/null"]
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
