/// From `atSeconds` after the server started, it serves `capacity` requests at once.
public struct CapacityStep: Sendable, Equatable {
    public var atSeconds: Double
    public var capacity: Int
    public init(atSeconds: Double, capacity: Int) {
        self.atSeconds = atSeconds
        self.capacity = capacity
    }
}

/// An inference server's admission: at most `capacity` requests served at once, the rest
/// waiting first in, first out, and past `queueLimit` waiting, refused (503). The capacity may
/// change on a schedule (seconds since start -> capacity), as when a server loses a GPU.
///
/// Pure bookkeeping over opaque jobs: the simulator starts a job's service when this says so,
/// and reports its end; times are passed in. Not thread-safe (the simulator holds its lock).
struct CapacityQueue<Job> {
    enum Admission { case serveNow, queued, refused }

    /// (seconds since start, capacity), sorted by time; the first entry's time is 0.
    let schedule: [CapacityStep]
    let queueLimit: Int?
    private(set) var serving = 0
    private var waiting: [Job] = []
    private var head = 0
    private(set) var peakWaiting = 0

    init(schedule: [CapacityStep], queueLimit: Int?) {
        precondition(!schedule.isEmpty, "a capacity queue needs a capacity")
        self.schedule = schedule.sorted { $0.atSeconds < $1.atSeconds }
        self.queueLimit = queueLimit
    }

    var waitingCount: Int { waiting.count - head }

    /// The capacity in force `secondsSinceStart` after the server started.
    func capacity(at secondsSinceStart: Double) -> Int {
        var current = schedule[0].capacity
        for entry in schedule where entry.atSeconds <= secondsSinceStart { current = entry.capacity }
        return max(0, current)
    }

    /// A new request: served at once if there is room, else queued (or refused past the limit).
    mutating func arrive(_ job: Job, at secondsSinceStart: Double) -> Admission {
        if serving < capacity(at: secondsSinceStart) && waitingCount == 0 {
            serving += 1
            return .serveNow
        }
        if let queueLimit, waitingCount >= queueLimit { return .refused }
        waiting.append(job)
        peakWaiting = max(peakWaiting, waitingCount)
        return .queued
    }

    /// A request's service ended: returns the waiting jobs that may start now (oldest first).
    mutating func finish(at secondsSinceStart: Double) -> [Job] {
        serving = max(0, serving - 1)
        return admitWaiting(at: secondsSinceStart)
    }

    /// Starts waiting jobs while there is room (also after a capacity rise).
    mutating func admitWaiting(at secondsSinceStart: Double) -> [Job] {
        var started: [Job] = []
        let room = capacity(at: secondsSinceStart)
        while serving < room, head < waiting.count {
            started.append(waiting[head])
            head += 1
            serving += 1
        }
        if head > 1_024, head * 2 > waiting.count {
            waiting.removeFirst(head)
            head = 0
        } else if head == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            head = 0
        }
        return started
    }
}

/// Parses `--capacity`: a number, or "0:48,60:24" (seconds since start : capacity pairs, the first at 0).
public func parseCapacitySchedule(_ text: String) -> [CapacityStep]? {
    if let single = Int(text), single > 0 { return [CapacityStep(atSeconds: 0, capacity: single)] }
    var entries: [CapacityStep] = []
    for part in text.split(separator: ",") {
        let pair = part.split(separator: ":")
        guard pair.count == 2, let at = Double(pair[0]), at >= 0, let capacity = Int(pair[1]), capacity > 0 else { return nil }
        entries.append(CapacityStep(atSeconds: at, capacity: capacity))
    }
    guard !entries.isEmpty else { return nil }
    entries.sort { $0.atSeconds < $1.atSeconds }
    if entries[0].atSeconds > 0 { return nil }
    return entries
}
