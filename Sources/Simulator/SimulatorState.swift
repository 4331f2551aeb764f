import Foundation
import Recipe
import Wire

/// Everything the event loops share: the seeded generator, counters, the request-rate
/// window, the response log and the stats waiters. All of it behind one lock.
final class SimulatorState: @unchecked Sendable {
    /// What to do with one admitted request, drawn from the seeded generator at arrival.
    struct Plan: Sendable {
        var fault: SimulatorFault
        var delay: Duration
        /// Messages in the generated conversation: 2, 4 or 6.
        var messageCount: Int
        /// Picks the wording of the generated conversation.
        var variant: UInt64
    }

    enum Admission {
        case plan(Plan)
        case rateLimited(retryAfterSeconds: Int)
    }

    let config: SimulatorConfig
    private let lock = NSLock()
    private var generator: SeededRandom
    private var stats = SimulatorStats()
    private var window: [UInt64] = []
    private var windowHead = 0
    private var promptCache = Set<UInt64>()
    private var logFile: UnsafeMutablePointer<FILE>?
    private var waiters: [UInt64: Waiter] = [:]
    private var nextWaiterID: UInt64 = 0
    /// The capacity model's queue of requests waiting to be served (their start actions).
    private var capacityQueue: CapacityQueue<@Sendable () -> Void>?
    private let startedNanos = DispatchTime.now().uptimeNanoseconds

    private struct Waiter {
        var predicate: @Sendable (SimulatorStats) -> Bool
        var continuation: CheckedContinuation<Void, Never>
    }

    /// The Batch APIs' batches and files.
    private(set) var batches: BatchStore!
    /// `--varied`: conversations that follow their prompt (nil: the canned ones).
    let conversations: VariedConversations?

    init(config: SimulatorConfig) throws(SimulatorError) {
        self.config = config
        generator = SeededRandom(seed: config.seed)
        conversations = config.variedContent ? VariedConversations(rates: config.dataFaultRates) : nil
        batches = BatchStore(config: config) { [unowned self] cost, requests in self.billBatch(cost, requests: requests) }
        if let schedule = config.capacity {
            capacityQueue = CapacityQueue(schedule: schedule, queueLimit: config.queueLimit)
        }
        if let path = config.logPath {
            guard let file = fopen(path, "a") else {
                throw SimulatorError("cannot open the log file \(path) for appending: \(String(cString: strerror(errno)))")
            }
            logFile = file
        }
    }

    deinit { closeLog() }

    func closeLog() {
        lock.lock()
        if let logFile { fclose(logFile) }
        logFile = nil
        lock.unlock()
    }

    // MARK: requests

    /// Counts a chat request and either rate-limits it or draws its plan.
    /// `now` is a monotonic time in nanoseconds.
    func admit(now: UInt64) -> Admission {
        lock.lock()
        stats.requests += 1
        if let limit = config.requestsPerMinute {
            let minute: UInt64 = 60_000_000_000
            if window.count < limit {
                window.append(now)
            } else if now &- window[windowHead] >= minute {
                window[windowHead] = now
                windowHead = (windowHead + 1) % limit
            } else {
                let waitNanos = window[windowHead] &+ minute &- now
                let seconds = Int((waitNanos + 999_999_999) / 1_000_000_000)
                bump("rpm_429")
                lock.unlock()
                return .rateLimited(retryAfterSeconds: max(1, seconds))
            }
        }
        let plan = drawPlan()
        lock.unlock()
        notify()
        return .plan(plan)
    }

    private func drawPlan() -> Plan {
        // Always the same number of draws per request, so one fault's rate never shifts
        // another request's choices.
        let faultDraw = generator.unit()
        let latencyDraw1 = generator.unit()
        let latencyDraw2 = generator.unit()
        let countDraw = generator.next()
        let variant = generator.next()
        var fault = SimulatorFault.ok
        var cumulative = 0.0
        for (candidate, rate) in config.faultRates where rate > 0 {
            cumulative += rate
            if faultDraw < cumulative { fault = candidate; break }
        }
        let delay: Duration
        switch config.latency {
        case .fixed(let value):
            delay = value
        case .lognormal(let median, let sigma):
            // Box-Muller: a standard normal from two uniforms in (0, 1].
            let z = (-2 * log(1 - latencyDraw1)).squareRoot() * cos(2 * Double.pi * latencyDraw2)
            let seconds = median / .seconds(1) * exp(sigma * z)
            delay = .nanoseconds(Int64(min(seconds, 3600) * 1e9))
        }
        return Plan(fault: fault, delay: delay, messageCount: 2 + 2 * Int(countDraw % 3), variant: variant)
    }

    /// Counts a chat request refused for a missing or wrong API key.
    func admitUnauthorized() -> Bool {
        lock.lock()
        stats.requests += 1
        bump("unauthorized")
        lock.unlock()
        notify()
        return true
    }

    /// Counts an outcome that writes no response body with a serial (401, 404, rate limit...).
    func record(_ outcome: String) {
        lock.lock()
        bump(outcome)
        lock.unlock()
        notify()
    }

    /// The prompt cache: how many leading bytes of a prompt with these block hashes an earlier
    /// request already sent; then remembers this prompt's blocks too (as a provider caches a
    /// prompt when it arrives). Forgets everything past a million blocks.
    func readPromptCache(_ prefixHashes: [UInt64]) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let hits = prefixHashes.prefix { promptCache.contains($0) }.count
        if promptCache.count > 1_000_000 { promptCache.removeAll() }
        promptCache.formUnion(prefixHashes)
        let bytes = hits * ChatRequestSummary.cacheBlockBytes
        stats.cachedPromptTokens += bytes / 4
        return bytes
    }

    /// Counts a batch created, or a create answered with the batch of an earlier one (same key).
    func batchCreated(repeated: Bool = false) {
        lock.lock()
        if repeated { stats.batchCreatesRepeated += 1 } else { stats.batchesCreated += 1 }
        lock.unlock()
    }

    /// A batch ended: its answers, billed.
    func billBatch(_ cost: Double, requests: Int) {
        lock.lock()
        stats.billed += cost
        stats.batchBilledRequests += requests
        lock.unlock()
        notify()
    }

    /// The content of a valid answer to `prompt` under `--varied` (nil: the canned content), its
    /// data fault counted.
    func variedContent(prompt: String, variant: UInt64) -> String? {
        guard let conversations else { return nil }
        let (json, fault) = conversations.conversation(prompt: prompt, variant: variant)
        if let fault {
            lock.lock()
            stats.dataFaults[fault.rawValue, default: 0] += 1
            lock.unlock()
        }
        return json
    }

    /// Adds an answer's cost to what the account has spent.
    func bill(_ cost: Double) {
        lock.lock()
        stats.billed += cost
        lock.unlock()
    }

    /// Issues the next serial for a response about to be written, counts it and logs it.
    func recordResponse(_ outcome: String, promptSHA256: String) -> Int {
        lock.lock()
        stats.responses += 1
        let serial = stats.responses
        bump(outcome)
        if let logFile {
            let line = "{\"serial\":\(serial),\"outcome\":\"\(outcome)\",\"prompt_sha256\":\"\(promptSHA256)\",\"generation_id\":\"gen-sim-\(serial)\"}\n"
            fputs(line, logFile)
            fflush(logFile)
        }
        lock.unlock()
        notify()
        return serial
    }

    func holdStarted() {
        lock.lock()
        bump(SimulatorFault.timeout.rawValue)
        stats.held += 1
        lock.unlock()
        notify()
    }

    func connectionOpened() {
        lock.lock()
        stats.connectionsOpened += 1
        lock.unlock()
        notify()
    }

    func connectionClosed(wasHolding: Bool) {
        lock.lock()
        stats.connectionsClosed += 1
        if wasHolding { stats.held -= 1 }
        lock.unlock()
        notify()
    }

    private func bump(_ outcome: String) {
        stats.outcomes[outcome, default: 0] += 1
    }

    // MARK: stats

    // MARK: capacity model

    private var secondsSinceStart: Double { Double(DispatchTime.now().uptimeNanoseconds &- startedNanos) / 1e9 }

    /// Whether the capacity model is on.
    var hasCapacity: Bool { capacityQueue != nil }

    /// A request asks to be served: `start` runs now (on this thread) if there is room, later
    /// (on the thread that ends another service) if it queues; false: refused, queue full.
    func requestService(_ start: @escaping @Sendable () -> Void) -> Bool {
        lock.lock()
        guard var queue = capacityQueue else { lock.unlock(); start(); return true }
        let admission = queue.arrive(start, at: secondsSinceStart)
        capacityQueue = queue
        updateCapacityStats(queue)
        lock.unlock()
        switch admission {
        case .serveNow: start(); return true
        case .queued: return true
        case .refused: return false
        }
    }

    /// A service ended (answered, or its client left): the next waiting requests start.
    func endService() {
        lock.lock()
        guard var queue = capacityQueue else { lock.unlock(); return }
        let next = queue.finish(at: secondsSinceStart)
        capacityQueue = queue
        updateCapacityStats(queue)
        lock.unlock()
        for start in next { start() }
    }

    private func updateCapacityStats(_ queue: CapacityQueue<@Sendable () -> Void>) {
        stats.serving = queue.serving
        stats.queued = queue.waitingCount
        stats.peakQueued = queue.peakWaiting
    }

    func snapshot() -> SimulatorStats {
        lock.lock()
        defer { lock.unlock() }
        return stats
    }

    /// Returns once `predicate` holds for the stats (checked now and after every change),
    /// or when the calling task is cancelled.
    func wait(until predicate: @escaping @Sendable (SimulatorStats) -> Bool) async {
        let id: UInt64 = {
            lock.lock()
            defer { lock.unlock() }
            nextWaiterID += 1
            return nextWaiterID
        }()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                if predicate(stats) || Task.isCancelled {
                    lock.unlock()
                    continuation.resume()
                    return
                }
                waiters[id] = Waiter(predicate: predicate, continuation: continuation)
                lock.unlock()
            }
        } onCancel: {
            lock.lock()
            let waiter = waiters.removeValue(forKey: id)
            lock.unlock()
            waiter?.continuation.resume()
        }
    }

    private func notify() {
        lock.lock()
        guard !waiters.isEmpty else { lock.unlock(); return }
        var ready: [CheckedContinuation<Void, Never>] = []
        for (id, waiter) in waiters where waiter.predicate(stats) {
            ready.append(waiter.continuation)
            waiters[id] = nil
        }
        lock.unlock()
        for continuation in ready { continuation.resume() }
    }

    /// Resumes every waiter (the server is stopping).
    func releaseWaiters() {
        lock.lock()
        let all = waiters.values.map(\.continuation)
        waiters.removeAll()
        lock.unlock()
        for continuation in all { continuation.resume() }
    }
}
