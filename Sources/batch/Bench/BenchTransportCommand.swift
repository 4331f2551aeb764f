import ArgumentParser
import Foundation
import Provider
import Simulator

/// `batch bench transport`: throughput, CPU and memory of the libcurl transport.
struct BenchTransportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport",
        abstract: "Send N requests at concurrency C through the libcurl transport and report throughput, CPU and memory.",
        discussion: """
        Targets --url (a `batch simulate` in another process, so this process's CPU is the client's alone), or starts a simulator in-process. Reports requests/s, the share of the ideal C / latency, CPU-seconds (user+system, getrusage) per 1,000 requests, peak RSS, and RSS after each round: with --rounds 2 or more, growth between rounds reveals a leak. ops/bench-transport.sh runs the standard measurement.
        """
    )

    @Option(help: "The API base URL of a running simulator, e.g. http://127.0.0.1:8089/v1. Default: an in-process simulator.")
    var url: String?

    @Option(help: "Requests per round.")
    var requests = 20_000

    @Option(help: "Requests in flight at once.")
    var concurrency = 1024

    @Option(name: .customLong("latency-ms"), help: "The server's latency in milliseconds (set on the in-process simulator; with --url, pass the simulator's).")
    var latencyMs: Double = 200

    @Option(name: .customLong("prompt-bytes"), help: "Size of the user message in each request body.")
    var promptBytes = 8192

    @Option(name: .customLong("max-connections"), help: "The transport's connection cap. Default: the concurrency.")
    var maxConnections: Int?

    @Option(help: "Rounds of --requests each, in one process (RSS is reported after each).")
    var rounds = 1

    @Flag(help: "Go through ChatClient and the response classifier, not the bare transport.")
    var client = false

    @Option(help: ArgumentHelp("A PEM file of certificate authorities to trust (for an https --url).", valueName: "file"))
    var caCert: String?

    @Flag(name: .customLong("http1.1"), help: "HTTP/1.1 only, never HTTP/2.")
    var http11 = false

    @Option(name: .customLong("sim-threads"), help: "Event-loop threads of the in-process simulator.")
    var simThreads = 1

    @Option(name: .customLong("max-streams"), help: "HTTP/2 streams per connection at most (the transport's default when not given).")
    var maxStreams: Int?

    func validate() throws {
        guard requests > 0, concurrency > 0, rounds > 0 else { throw ValidationError("--requests, --concurrency and --rounds must be positive") }
        guard latencyMs >= 0 else { throw ValidationError("--latency-ms must not be negative") }
    }

    func run() async throws {
        raiseOpenFileLimit()
        var server: SimulatorServer?
        let baseURL: String
        if let url {
            baseURL = url
        } else {
            let started = try await SimulatorServer.start(SimulatorConfig(threads: simThreads, latency: .fixed(.milliseconds(latencyMs))))
            server = started
            baseURL = started.baseURL
        }
        let transport = try CurlTransport(options: CurlTransportOptions(
            maxConnections: maxConnections ?? concurrency, maxConcurrentStreams: maxStreams ?? CurlTransportOptions().maxConcurrentStreams,
            caFile: caCert, httpVersion: http11 ? .http1_1 : .automatic))
        let chat = ChatClient(transport: transport, config: ProviderConfig(baseURL: baseURL, requestDeadline: .seconds(120)))
        let body = Self.requestBody(promptBytes: promptBytes)

        let inFlight = min(concurrency, requests)
        let ideal = latencyMs > 0 ? Double(inFlight) / (latencyMs / 1000) : nil
        print("transport bench: \(requests) requests x \(rounds) round(s), concurrency \(concurrency), latency \(latencyMs) ms, "
              + "prompt \(promptBytes) B, \(client ? "ChatClient+classifier" : "bare CurlTransport"), "
              + "server \(url == nil ? "in-process (its CPU counts here)" : url!)")
        print("libcurl: \(curlVersionDescription)")

        var rssAfterRounds: [Double] = []
        var totals = (requests: 0, seconds: 0.0, cpu: 0.0, errors: 0)
        for round in 1...rounds {
            let cpuBefore = cpuSeconds()
            let clock = ContinuousClock()
            let started = clock.now
            let errors = await Self.drive(
                requests: requests, concurrency: concurrency, body: body, baseURL: baseURL,
                transport: transport, chat: client ? chat : nil
            )
            let seconds = started.duration(to: clock.now).inSeconds
            let cpu = cpuSeconds() - cpuBefore
            let rss = residentMB()
            rssAfterRounds.append(rss)
            let rate = Double(requests) / seconds
            let share = ideal.map { String(format: "%.1f%% of ideal %.0f req/s", 100 * rate / $0, $0) } ?? "ideal n/a at zero latency"
            let errorText = errors.isEmpty ? "0 errors" : "errors: " + errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print(String(format: "round %d: %.2f s, %.0f req/s (%@), CPU %.3f s = %.4f CPU-s per 1000 requests, RSS %.1f MB, %@",
                         round, seconds, rate, share, cpu, cpu / Double(requests) * 1000, rss, errorText))
            totals.requests += requests
            totals.seconds += seconds
            totals.cpu += cpu
            totals.errors += errors.values.reduce(0, +)
        }
        transport.shutdown()
        try await server?.stop()

        let rate = Double(totals.requests) / totals.seconds
        let growth = (rssAfterRounds.last ?? 0) - (rssAfterRounds.first ?? 0)
        print(String(format: "RESULT requests=%d seconds=%.2f requests_per_s=%.0f ideal_per_s=%@ share_of_ideal=%@ cpu_s_per_1000=%.4f peak_rss_mb=%.1f rss_growth_mb=%.1f errors=%d",
                     totals.requests, totals.seconds, rate,
                     ideal.map { String(format: "%.0f", $0) } ?? "n/a",
                     ideal.map { String(format: "%.1f%%", 100 * rate / $0) } ?? "n/a",
                     totals.cpu / Double(totals.requests) * 1000, peakRSSMB(), growth, totals.errors))
        fflush(nil)
    }

    /// Runs `requests` requests with `concurrency` workers; returns error counts by kind.
    private static func drive(
        requests: Int, concurrency: Int, body: [UInt8], baseURL: String,
        transport: CurlTransport, chat: ChatClient?
    ) async -> [String: Int] {
        let request = HTTPRequest(
            url: ProviderConfig(baseURL: baseURL).chatCompletionsURL, method: .post,
            headers: [("Content-Type", "application/json")], body: body, deadline: .seconds(120)
        )
        return await withTaskGroup(of: [String: Int].self) { group in
            for worker in 0..<min(concurrency, requests) {
                group.addTask {
                    var errors: [String: Int] = [:]
                    for _ in stride(from: worker, to: requests, by: concurrency) {
                        if let chat {
                            let outcome = await chat.complete(body: body)
                            if let failure = outcome.failure { errors[failure.kind, default: 0] += 1 }
                        } else {
                            do {
                                let response = try await transport.send(request)
                                if response.status != 200 { errors["http_\(response.status)", default: 0] += 1 }
                            } catch let error as TransportError {
                                errors["\(error.kind)", default: 0] += 1
                            } catch {
                                errors["other", default: 0] += 1
                            }
                        }
                    }
                    return errors
                }
            }
            var all: [String: Int] = [:]
            for await errors in group { all.merge(errors, uniquingKeysWith: +) }
            return all
        }
    }

    static func requestBody(promptBytes: Int) -> [UInt8] {
        let sentence = "Write a realistic multi-turn conversation between a user and nanochat. "
        var prompt = ""
        while prompt.utf8.count < promptBytes { prompt += sentence }
        prompt = String(prompt.prefix(promptBytes))
        return Array("""
        {"model":"google/gemini-3-flash-preview","stream":false,"temperature":1.0,\
        "response_format":{"type":"json_schema","json_schema":{"name":"conversation","strict":true,"schema":{"type":"object"}}},\
        "messages":[{"role":"user","content":"\(prompt)"}]}
        """.utf8)
    }
}

private func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF_VALUE, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

/// Peak resident memory so far (ru_maxrss, kilobytes on Linux).
private func peakRSSMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF_VALUE, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Resident memory now, from /proc/self/statm (0 where unavailable).
private func residentMB() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

/// Lets this process open as many sockets as the hard limit allows.
private func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(RLIMIT_NOFILE_VALUE, &limit)
}

#if os(Linux)
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
private let RUSAGE_SELF_VALUE = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
private let RUSAGE_SELF_VALUE = RUSAGE_SELF
#endif

