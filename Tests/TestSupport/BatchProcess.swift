import Foundation

/// A `batch` process started by a test: its output, its exit, and signals.
public final class BatchProcess: @unchecked Sendable {
    public let process = Process()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let lock = NSLock()
    private var exitStatus: Int32?
    private var waiters: [CheckedContinuation<Int32, Never>] = []
    /// Standard error as read so far (all of it once `stderrDone` is signalled).
    private var stderrData = Data()
    private var stderrClosed = false
    private let stderrDone = DispatchSemaphore(value: 0)

    /// Starts `batch arguments...` in `directory` with extra environment variables.
    public init(_ arguments: [String], directory: String? = nil, environment: [String: String] = [:]) throws {
        process.executableURL = BatchBinary.url
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.terminationHandler = { [self] process in
            lock.lock()
            exitStatus = process.terminationStatus
            let ready = waiters
            waiters = []
            lock.unlock()
            for waiter in ready { waiter.resume(returning: process.terminationStatus) }
        }
        try process.run()
        let handle = stderrPipe.fileHandleForReading
        // Read as it comes, so that a test can wait for a line while the process runs.
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                lock.lock()
                if chunk.isEmpty { stderrClosed = true } else { stderrData.append(chunk) }
                lock.unlock()
                if chunk.isEmpty { break }
            }
            stderrDone.signal()
        }
    }

    public var pid: Int32 { process.processIdentifier }

    /// Waits for the process to exit and returns its status (128+N when killed by signal N).
    public func exitCode() async -> Int32 {
        let status = await withCheckedContinuation { continuation in
            lock.lock()
            if let exitStatus {
                lock.unlock()
                continuation.resume(returning: exitStatus)
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
        return process.terminationReason == .uncaughtSignal ? 128 + status : status
    }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Everything the process wrote to standard output (waits for it to close).
    public func standardOutput() -> String {
        String(decoding: stdoutPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Everything written to standard error (call after exit).
    public func standardError() -> String {
        stderrDone.wait()
        stderrDone.signal()
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: stderrData, as: UTF8.self)
    }

    /// Waits until a line of standard error gives `match` a value (checked every 20 ms), while
    /// the process runs; fails after `seconds`, or once standard error closed without one.
    public func waitForStandardError<T>(seconds: Double = 60, _ match: (Substring) -> T?) async throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let (text, closed) = lock.withLock { (String(decoding: stderrData, as: UTF8.self), stderrClosed) }
            for line in text.split(separator: "\n") { if let found = match(line) { return found } }
            guard !closed, Date() < deadline else {
                throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no such line on standard error \(closed ? "before it closed" : "in \(seconds) s"):\n\(text)"])
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Reads standard output up to the next newline (blocking reads on a background thread).
    public func readLine() async throws -> String {
        let handle = stdoutPipe.fileHandleForReading
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                var bytes: [UInt8] = []
                while true {
                    let chunk = handle.readData(ofLength: 1)
                    if chunk.isEmpty {
                        continuation.resume(throwing: CocoaError(.fileReadUnknown))
                        return
                    }
                    if chunk.first == UInt8(ascii: "\n") { break }
                    bytes.append(contentsOf: chunk)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// The result of a `batch` command run to completion.
public struct BatchResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public var output: String { stdout + stderr }
}

/// Runs `batch arguments...` to completion.
public func runBatch(_ arguments: [String], directory: String? = nil, environment: [String: String] = [:]) async throws -> BatchResult {
    let process = try BatchProcess(arguments, directory: directory, environment: environment)
    // Read on a thread of its own: a blocking read here would hold one of the few cooperative
    // threads for the command's whole life and starve every other test running meanwhile.
    let stdout = await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: process.standardOutput()) }
    }
    let status = await process.exitCode()
    return BatchResult(status: status, stdout: stdout, stderr: process.standardError())
}

/// `batch simulate` in its own process on a free loopback port.
public final class SimulatorProcess: Sendable {
    public let process: BatchProcess
    /// `http://127.0.0.1:<port>/v1`.
    public let baseURL: String
    public let rootURL: String

    public init(_ extraArguments: [String] = []) async throws {
        process = try BatchProcess(["simulate", "--port", "0"] + extraArguments)
        let ready = try await process.readLine()
        guard ready.hasPrefix("listening on ") else { throw CocoaError(.fileReadCorruptFile) }
        rootURL = String(ready.dropFirst("listening on ".count))
        baseURL = rootURL + "/v1"
    }

    /// `GET /stats` as JSON.
    public func stats() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(string: rootURL + "/stats")!)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    public func stop() async {
        process.signal(SIGTERM)
        _ = await process.exitCode()
    }
}
