import Foundation

/// nginx terminating TLS in front of a plain-HTTP server (`ops/tls/tls-proxy.sh`), with a CA
/// made for the test: the real wire a hosted provider has (HTTPS, HTTP/2 by ALPN).
public final class TLSFront: Sendable {
    /// `https://127.0.0.1:<port>`: HTTP/2 (ALPN h2, HTTP/1.1 for clients that ask).
    public let h2Root: String
    /// `https://127.0.0.1:<port>`: HTTP/1.1 only.
    public let h1Root: String
    /// The CA that signed the server's certificate (`--ca-cert`).
    public let caFile: String
    /// A CA that did not sign it.
    public let otherCAFile: String
    public let directory: String

    /// True when nginx and openssl are installed. CI (`CI` set) always runs the TLS tests, so
    /// a missing nginx fails them there instead of skipping.
    public static var isAvailable: Bool {
        ProcessInfo.processInfo.environment["CI"] != nil || (hasCommand("nginx") && hasCommand("openssl"))
    }

    /// Starts nginx in `directory` in front of `upstreamRoot` (`http://127.0.0.1:<port>`),
    /// allowing `maxStreams` HTTP/2 streams per connection (nginx's default: 128) and
    /// `maxRequests` requests per connection before closing it (HTTP/2: GOAWAY).
    public init(
        upstreamRoot: String, directory: String, accessLog: Bool = true, maxStreams: Int = 128, maxRequests: Int = 1_000_000
    ) async throws {
        guard let port = upstreamRoot.split(separator: ":").last.flatMap({ Int($0.prefix { $0.isNumber }) }) else {
            throw CocoaError(.fileReadInvalidFileName, userInfo: [NSLocalizedDescriptionKey: "no port in \(upstreamRoot)"])
        }
        self.directory = directory
        let output = try await Self.script("tls-proxy.sh", ["start", directory, "\(port)", "--max-streams", "\(maxStreams)", "--max-requests", "\(maxRequests)"] + (accessLog ? ["--access-log"] : []))
        var fields: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let h2 = fields["h2"], let h1 = fields["h1"], let ca = fields["ca"] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "tls-proxy.sh printed: \(output)"])
        }
        h2Root = h2
        h1Root = h1
        caFile = ca
        otherCAFile = (ca as NSString).deletingLastPathComponent + "/other-ca.pem"
    }

    /// The same port on 127.0.0.2, a loopback address the certificate does not name.
    public func mismatchedRoot(_ root: String) -> String { root.replacingOccurrences(of: "127.0.0.1", with: "127.0.0.2") }

    /// The same port as an IPv6 literal, `https://[::1]:<port>`.
    public func ipv6Root(_ root: String) -> String { root.replacingOccurrences(of: "127.0.0.1", with: "[::1]") }

    /// nginx's access log: one entry per request (protocol, status, connection number).
    public func accessLog() -> [(proto: String, status: Int, connection: Int)] {
        let text = (try? String(contentsOfFile: directory + "/access.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count >= 3, let status = Int(parts[1]), let connection = Int(parts[2]) else { return nil }
            return (String(parts[0]), status, connection)
        }
    }

    public func stop() async {
        _ = try? await Self.script("tls-proxy.sh", ["stop", directory])
    }

    /// Runs `ops/tls/<name>` and returns its standard output; throws with its standard error on failure.
    @discardableResult
    public static func script(_ name: String, _ arguments: [String]) async throws -> String {
        let result = try await runTool("/bin/bash", [Fixtures.repositoryRoot.appendingPathComponent("ops/tls/\(name)").path] + arguments)
        guard result.status == 0 else {
            throw CocoaError(.executableLoad, userInfo: [
                NSLocalizedDescriptionKey: "ops/tls/\(name) \(arguments.joined(separator: " ")) failed: \(result.stderr)"])
        }
        return result.stdout
    }

    static func hasCommand(_ name: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let dirs: [String] = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        return dirs.contains { FileManager.default.isExecutableFile(atPath: $0 + "/" + name) }
    }
}

/// tinyproxy on loopback (`ops/tls/connect-proxy.sh`): a real forward proxy for HTTPS_PROXY.
public final class ConnectProxy: Sendable {
    /// `http://127.0.0.1:<port>`.
    public let url: String
    public let directory: String

    public static var isAvailable: Bool {
        ProcessInfo.processInfo.environment["CI"] != nil || TLSFront.hasCommand("tinyproxy")
    }

    public init(directory: String) async throws {
        self.directory = directory
        let output = try await TLSFront.script("connect-proxy.sh", ["start", directory])
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("proxy ") }) else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "connect-proxy.sh printed: \(output)"])
        }
        url = String(line.dropFirst("proxy ".count))
    }

    /// The CONNECT requests the proxy served, as "host:port".
    public func tunnels() -> [String] {
        let text = (try? String(contentsOfFile: directory + "/tinyproxy.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "CONNECT ", options: .backwards) else { return nil }
            return line[range.upperBound...].split(separator: " ").first.map(String.init)
        }
    }

    public func stop() async { _ = try? await TLSFront.script("connect-proxy.sh", ["stop", directory]) }
}

/// Runs a program to completion without blocking a thread of the concurrency pool (its output
/// is read on threads of its own, and its exit awaited through `terminationHandler`).
public func runTool(_ path: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let exited = AsyncStream<Int32>.makeStream()
    process.terminationHandler = { exited.continuation.yield($0.terminationStatus); exited.continuation.finish() }
    try process.run()
    async let stdout = readToEnd(out.fileHandleForReading)
    async let stderr = readToEnd(err.fileHandleForReading)
    var status: Int32 = -1
    for await code in exited.stream { status = code }
    return (status, await stdout, await stderr)
}

private func readToEnd(_ handle: FileHandle) async -> String {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(returning: String(decoding: handle.readDataToEndOfFile(), as: UTF8.self))
        }
    }
}
