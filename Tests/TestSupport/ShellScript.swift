import Foundation

/// A bash script run to completion, as a user would type it, with `batch` on the PATH.
public struct ShellResult: Sendable {
    public let status: Int32
    /// Standard output and standard error, interleaved as written.
    public let output: String
}

public enum ShellScript {
    /// Runs `script` with `bash -e -o pipefail` in `directory`, the built `batch` first on the
    /// PATH, and `environment` added. Output goes through a file, so no pipe can fill up.
    public static func run(_ script: String, directory: String, environment: [String: String] = [:]) async throws -> ShellResult {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("batch-shell-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-e", "-o", "pipefail", "-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = BatchBinary.url.deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return ShellResult(status: status, output: output)
    }
}
