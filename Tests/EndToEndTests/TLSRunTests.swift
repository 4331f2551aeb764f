import Foundation
import Testing
import TestSupport

/// Whole runs over the wire hosted providers have: HTTPS through a real TLS server (nginx in
/// front of `batch simulate`, with a CA made for the test), HTTP/2 by default and HTTP/1.1 on
/// request, through a real forward proxy, and the errors a misconfigured network gives.
@Suite("Runs over HTTPS (nginx, HTTP/2 and HTTP/1.1)", .serialized, .enabled(if: TLSFront.isAvailable, "needs nginx and openssl (Debian: nginx-light)"))
struct TLSRunTests {
    /// A simulator behind nginx, and the folder the test works in.
    struct Wire {
        let dir: TemporaryDirectory
        let sim: SimulatorProcess
        let tls: TLSFront
        let log: String

        static func start(_ label: String, _ simulatorArguments: [String] = []) async throws -> Wire {
            let dir = try TemporaryDirectory(label)
            let log = dir.path("sim.jsonl")
            let sim = try await SimulatorProcess(["--log", log] + simulatorArguments)
            let tls = try await TLSFront(upstreamRoot: sim.rootURL, directory: dir.path("tls"))
            return Wire(dir: dir, sim: sim, tls: tls, log: log)
        }

        func stop() async {
            await tls.stop()
            await sim.stop()
            dir.remove()
        }

        func run(_ base: String, rows: Int, concurrency: Int, _ extra: [String] = [], environment: [String: String] = [:]) async throws -> BatchResult {
            try await runBatch(["run", "--ledger", dir.path("run.db"), "--recipe", RunSupport.recipePath, "--num", "\(rows)",
                                "--concurrency", "\(concurrency)", "--base-url", base + "/v1", "--ca-cert", tls.caFile]
                               + RunSupport.fastRetries + extra, environment: environment)
        }

        /// Every index exported once, each row the answer the simulator sent for its own prompt.
        func expectExportedExactlyOnce(_ rows: Int) async throws {
            let export = try await RunSupport.export([dir.path("run.db")], in: dir)
            #expect(export.indices == (0..<Int64(rows)).map { $0 })
            let served = try RunSupport.servedOK(log)
            var foreign = 0
            for (line, index) in zip(export.lines, export.indices) {
                guard let id = RunSupport.generationID(of: line, answering: index), served.contains(id) else { foreign += 1; continue }
            }
            #expect(foreign == 0, "\(foreign) rows hold content the simulator never sent for their index")
        }
    }

    @Test("a run over HTTPS HTTP/2 at 64 in flight, faults coming through the proxy, ends with every row done once, multiplexed on a few connections")
    func http2Run() async throws {
        let wire = try await Wire.start("tls-h2", [
            "--seed", "11", "--latency-ms", "20", "--retry-after", "1",
            "--fail-429", "0.02", "--fail-500", "0.03", "--fail-503", "0.02", "--fail-reset", "0.03", "--fail-malformed", "0.03",
            "--fail-bad-conversation", "0.02", "--fail-error-in-200", "0.02",
        ])
        // Before the fix of the receive buffer (CurlEventLoop.acquireHandle), this crashed with a
        // heap overflow inside libcurl as soon as two answers shared a connection.
        let run = try await wire.run(wire.tls.h2Root, rows: 400, concurrency: 64, ["--max-attempts", "20"])
        #expect(run.status == 0, "\(run.output)")
        try await wire.expectExportedExactlyOnce(400)
        let requests = wire.tls.accessLog()
        #expect(requests.count >= 400)
        #expect(requests.allSatisfy { $0.proto == "HTTP/2.0" }, "\(Set(requests.map(\.proto)))")
        let connections = Set(requests.map(\.connection)).count
        #expect(connections <= 8, "\(connections) connections for 64 requests in flight: HTTP/2 should multiplex them")
        let statuses = Set(requests.map(\.status))
        #expect(statuses.contains(500) && statuses.contains(429), "faults reached the client through nginx: \(statuses)")
        await wire.stop()
    }

    @Test("--http1.1 speaks HTTP/1.1 over TLS, and so does a server that offers only HTTP/1.1; connections are reused")
    func http11Run() async throws {
        let wire = try await Wire.start("tls-h1", ["--latency-ms", "10", "--seed", "4", "--fail-500", "0.02"])
        let forced = try await wire.run(wire.tls.h2Root, rows: 150, concurrency: 16, ["--http1.1"])
        #expect(forced.status == 0, "\(forced.output)")
        try await wire.expectExportedExactlyOnce(150)
        let forcedLog = wire.tls.accessLog()
        #expect(forcedLog.allSatisfy { $0.proto == "HTTP/1.1" }, "\(Set(forcedLog.map(\.proto)))")
        let forcedConnections = Set(forcedLog.map(\.connection)).count
        #expect(forcedConnections <= 24, "\(forcedConnections) connections for 16 in flight: keep-alive should reuse them")

        let ledger2 = wire.dir.path("h1only.db")
        let offered = try await runBatch(["run", "--ledger", ledger2, "--recipe", RunSupport.recipePath, "--num", "60",
                                          "--concurrency", "8", "--base-url", wire.tls.h1Root + "/v1", "--ca-cert", wire.tls.caFile]
                                         + RunSupport.fastRetries)
        #expect(offered.status == 0, "\(offered.output)")
        #expect(wire.tls.accessLog().dropFirst(forcedLog.count).allSatisfy { $0.proto == "HTTP/1.1" })
        // --http1.1 is stored: a resume without it keeps HTTP/1.1.
        let status = try await runBatch(["status", "--ledger", wire.dir.path("run.db"), "--json"])
        #expect(status.status == 0)
        await wire.stop()
    }

    @Test("a second signal over HTTPS abandons the requests in flight at once, every row pending again")
    func hardStop() async throws {
        let wire = try await Wire.start("tls-hard-stop", ["--latency-ms", "60000"])
        let ledger = wire.dir.path("run.db")
        let process = try BatchProcess(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "40", "--concurrency", "8",
                                        "--base-url", wire.tls.h2Root + "/v1", "--ca-cert", wire.tls.caFile, "--grace-period", "120"]
                                       + RunSupport.fastRetries)
        try await waitUntil { ((try? wire.sim.stats())?["requests"] as? Int ?? 0) >= 8 }
        process.signal(SIGINT)
        process.signal(SIGTERM)
        let code = await process.exitCode()
        #expect(code == 130 || code == 143, "\(process.standardError())")
        let stopped = try await RunSupport.status([ledger])
        #expect(RunSupport.int(stopped, "pending") == 40)
        #expect(RunSupport.int(stopped, "attempts") == 0, "abandoned requests are not attempts")
        await wire.stop()
    }

    @Test("requests the server holds past the deadline time out and are retried; the run still finishes")
    func heldRequests() async throws {
        let wire = try await Wire.start("tls-held", ["--seed", "21", "--fail-timeout", "0.1", "--latency-ms", "5"])
        let run = try await wire.run(wire.tls.h2Root, rows: 80, concurrency: 16, ["--request-timeout", "0.5", "--max-attempts", "30"])
        #expect(run.status == 0, "\(run.output)")
        let status = try await RunSupport.status([wire.dir.path("run.db")])
        #expect(RunSupport.int(status, "done") == 80)
        let errors = status["errors"] as? [String: Int] ?? [:]
        #expect(errors.keys.contains { $0.contains("timeout") }, "\(errors)")
        await wire.stop()
    }

    @Test("an IPv6 literal base URL works", .enabled(if: FileManager.default.fileExists(atPath: "/proc/net/if_inet6")))
    func ipv6() async throws {
        let wire = try await Wire.start("tls-ipv6", ["--latency-ms", "1"])
        let run = try await wire.run(wire.tls.ipv6Root(wire.tls.h2Root), rows: 20, concurrency: 4)
        #expect(run.status == 0, "\(run.output)")
        try await wire.expectExportedExactlyOnce(20)
        await wire.stop()
    }

    @Test("an untrusted certificate or a name mismatch stops the run at once with exit 3, saying what to do; no row is failed or charged")
    func certificateErrors() async throws {
        let wire = try await Wire.start("tls-cert", ["--latency-ms", "1"])
        // The system's CAs (no --ca-cert) do not know the test CA; nor does another CA.
        for (label, extra) in [("system", [String]()), ("other", ["--ca-cert", wire.tls.otherCAFile])] {
            let ledger = wire.dir.path("\(label).db")
            let run = try await runBatch(["run", "--ledger", ledger, "--recipe", RunSupport.recipePath, "--num", "20",
                                          "--base-url", wire.tls.h2Root + "/v1"] + extra + RunSupport.fastRetries)
            #expect(run.status == 3, "\(run.output)")
            #expect(run.stderr.contains("certificate"), "\(run.stderr)")
            #expect(run.stderr.contains("--ca-cert"), "the message says how to fix it: \(run.stderr)")
            let status = try await RunSupport.status([ledger])
            #expect(RunSupport.int(status, "failed") == 0 && RunSupport.int(status, "pending") == 20)
        }
        let mismatch = try await runBatch(["run", "--ledger", wire.dir.path("mismatch.db"), "--recipe", RunSupport.recipePath,
                                           "--num", "20", "--base-url", wire.tls.mismatchedRoot(wire.tls.h2Root) + "/v1",
                                           "--ca-cert", wire.tls.caFile] + RunSupport.fastRetries)
        #expect(mismatch.status == 3, "\(mismatch.output)")
        #expect(mismatch.stderr.contains("certificate") && mismatch.stderr.contains("127.0.0.2"), "\(mismatch.stderr)")
        #expect((try wire.sim.stats()["requests"] as? Int ?? -1) == 0, "nothing reached the server")

        let missing = try await wire.run(wire.tls.h2Root, rows: 5, concurrency: 1, ["--ca-cert", wire.dir.path("nope.pem"), "--ledger", wire.dir.path("missing.db")])
        #expect(missing.status == 1 && missing.stderr.contains("nope.pem"), "\(missing.output)")
        #expect(!FileManager.default.fileExists(atPath: wire.dir.path("missing.db")))

        // SSL_CERT_FILE is honoured when --ca-cert is not given.
        let viaEnvironment = try await runBatch(["run", "--ledger", wire.dir.path("env.db"), "--recipe", RunSupport.recipePath,
                                                 "--num", "10", "--base-url", wire.tls.h2Root + "/v1"] + RunSupport.fastRetries,
                                                environment: ["SSL_CERT_FILE": wire.tls.caFile])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.output)")
        await wire.stop()
    }

    @Test("HTTPS_PROXY: a run goes through a real proxy's CONNECT tunnels; NO_PROXY bypasses it; an unreachable proxy stops the run with exit 3",
          .enabled(if: ConnectProxy.isAvailable, "needs tinyproxy"))
    func proxy() async throws {
        let wire = try await Wire.start("tls-proxy", ["--latency-ms", "5"])
        let proxy = try await ConnectProxy(directory: wire.dir.path("proxy"))
        let through = try await wire.run(wire.tls.h2Root, rows: 60, concurrency: 8, environment: ["HTTPS_PROXY": proxy.url, "NO_PROXY": ""])
        #expect(through.status == 0, "\(through.output)")
        try await wire.expectExportedExactlyOnce(60)
        let port = wire.tls.h2Root.split(separator: ":").last.map(String.init) ?? "?"
        #expect(proxy.tunnels().contains("127.0.0.1:\(port)"), "the proxy served the tunnel: \(proxy.tunnels())")

        let bypass = try await runBatch(["run", "--ledger", wire.dir.path("bypass.db"), "--recipe", RunSupport.recipePath, "--num", "10",
                                         "--base-url", wire.tls.h2Root + "/v1", "--ca-cert", wire.tls.caFile] + RunSupport.fastRetries,
                                        environment: ["HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "localhost,127.0.0.1"])
        #expect(bypass.status == 0, "\(bypass.output)")

        let unreachable = try await runBatch(["run", "--ledger", wire.dir.path("unreachable.db"), "--recipe", RunSupport.recipePath,
                                              "--num", "10", "--base-url", wire.tls.h2Root + "/v1", "--ca-cert", wire.tls.caFile]
                                             + RunSupport.fastRetries, environment: ["HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""])
        #expect(unreachable.status == 3, "\(unreachable.output)")
        #expect(unreachable.stderr.contains("proxy") && unreachable.stderr.contains("HTTPS_PROXY"), "\(unreachable.stderr)")
        let status = try await RunSupport.status([wire.dir.path("unreachable.db")])
        #expect(RunSupport.int(status, "failed") == 0 && RunSupport.int(status, "pending") == 10)
        await proxy.stop()
        await wire.stop()
    }
}
