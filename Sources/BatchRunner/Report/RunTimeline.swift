import Ledger

/// What happened in one time bucket of a run.
public struct TimelineBucket: Sendable {
    public var rowsDone = 0
    /// Attempts that ended in the bucket, by outcome (done, retry, failed, abandoned, orphaned).
    public var outcomes: [String: Int] = [:]
    /// Attempts that ended in the bucket with an error, by kind.
    public var errors: [String: Int] = [:]
    public var rateLimited = 0
    /// Seconds of Retry-After the 429s in the bucket asked for.
    public var retryAfterSeconds = 0.0
    public var started = 0
    public var promptTokens = 0
    public var completionTokens = 0
    public var cachedTokens = 0
    public var cost = 0.0
    public var latency = Histogram.milliseconds()
}

/// A run's history from its ledgers' attempts, in buckets of equal width: read in one pass
/// over the attempts (streamed) and one grouped count of done rows per ledger.
public struct RunTimeline: Sendable {
    public var originMs: Int64
    public var widthMs: Int64
    public var buckets: [TimelineBucket]
    /// Requests in flight at the end of each bucket (attempts started minus attempts ended).
    public var inFlight: [Int]
    /// Rows done per bucket for each ledger (the shards), in the order given.
    public var rowsDoneByLedger: [[Int]]
    /// The concurrency window's recorded changes, every ledger's, by time.
    public var windowChanges: [(atMs: Int64, size: Int, reason: String)]
    /// Latency of every attempt that got an answer (not abandoned or orphaned).
    public var latency = Histogram.milliseconds()
    public var attempts = 0

    public var endMs: Int64 { originMs + widthMs * Int64(buckets.count) }

    /// A bucket width that splits `spanMs` into at most `maximumBuckets`: 1, 2, 5, 10, 15, 30 s,
    /// 1, 2, 5, 10, 15, 30 min, 1, 2, 6, 12 h, 1 day.
    public static func bucketWidth(spanMs: Int64, maximumBuckets: Int = 120) -> Int64 {
        let steps: [Int64] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 21_600, 43_200, 86_400]
        for seconds in steps where spanMs <= seconds * 1_000 * Int64(maximumBuckets) { return seconds * 1_000 }
        return (spanMs / Int64(maximumBuckets) / 86_400_000 + 1) * 86_400_000
    }

    public static func read(_ readers: [LedgerReader]) throws -> RunTimeline? {
        var first: Int64?, last: Int64?
        for reader in readers {
            guard let span = try reader.attemptSpan() else { continue }
            first = min(first ?? span.firstStartMs, span.firstStartMs)
            last = max(last ?? span.lastEndMs, span.lastEndMs)
        }
        guard let origin = first, let end = last else { return nil }
        let width = bucketWidth(spanMs: max(end - origin, 1))
        let count = Int((end - origin) / width) + 1
        var timeline = RunTimeline(
            originMs: origin, widthMs: width, buckets: Array(repeating: TimelineBucket(), count: count),
            inFlight: [], rowsDoneByLedger: [], windowChanges: [])
        var starts = [Int](repeating: 0, count: count), ends = [Int](repeating: 0, count: count)
        func bucket(_ ms: Int64) -> Int { min(max(Int((ms - origin) / width), 0), count - 1) }
        for reader in readers {
            try reader.forEachAttempt { attempt in
                timeline.attempts += 1
                let s = bucket(attempt.startedAtMs), e = bucket(attempt.endedAtMs)
                starts[s] += 1
                ends[e] += 1
                timeline.buckets[s].started += 1
                record(attempt, into: &timeline.buckets[e])
            }
            var done = [Int](repeating: 0, count: count)
            for (n, rows) in try reader.doneRowsPerBucket(originMs: origin, widthMs: width) {
                let i = min(max(Int(n), 0), count - 1)
                done[i] += rows
                timeline.buckets[i].rowsDone += rows
            }
            timeline.rowsDoneByLedger.append(done)
            timeline.windowChanges += try reader.windowChanges()
        }
        timeline.windowChanges.sort { $0.atMs < $1.atMs }
        for bucket in timeline.buckets { timeline.latency.merge(bucket.latency) }
        var open = 0
        timeline.inFlight = (0..<count).map { i in
            open += starts[i] - ends[i]
            return open
        }
        return timeline
    }

    /// Adds an ended attempt to its bucket (in place: the bucket's dictionaries are not copied).
    private static func record(_ attempt: RecordedAttempt, into b: inout TimelineBucket) {
        b.outcomes[attempt.outcome, default: 0] += 1
        if let kind = attempt.errorKind { b.errors[kind, default: 0] += 1 }
        if attempt.httpStatus == 429 {
            b.rateLimited += 1
            b.retryAfterSeconds += Double(attempt.retryAfterMs ?? 0) / 1_000
        }
        b.promptTokens += attempt.promptTokens ?? 0
        b.completionTokens += attempt.completionTokens ?? 0
        b.cachedTokens += attempt.cachedTokens ?? 0
        b.cost += attempt.cost ?? 0
        if attempt.outcome != "abandoned" && attempt.outcome != "orphaned" {
            b.latency.add(Int(attempt.endedAtMs - attempt.startedAtMs))
        }
    }
}
