/// Where an index is in its life: `pending --claim--> in_flight --> done | pending (retry) | failed`.
public enum ItemState: String, Sendable, CaseIterable {
    case pending
    case inFlight = "in_flight"
    case done
    case failed
}

/// Shard K of N: the indices a job-array task owns.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }
}

/// The run a ledger belongs to: written once at creation, never holds a secret.
public struct RunRecord: Sendable, Equatable {
    public var runID: String
    public var createdAtMs: Int64
    /// N: the run covers indices `0..<N`; a shard's ledger plans only its subset of them.
    public var plannedRows: Int64
    public var shard: Shard?
    public var recipeSHA256: String
    /// The recipe and knowledge text, so a resume renders the same prompts whatever changed on disk.
    public var recipeSnapshot: String
    /// Model, limits and endpoint as JSON.
    public var config: String

    public init(
        runID: String, createdAtMs: Int64, plannedRows: Int64, shard: Shard? = nil,
        recipeSHA256: String, recipeSnapshot: String, config: String
    ) {
        self.runID = runID
        self.createdAtMs = createdAtMs
        self.plannedRows = plannedRows
        self.shard = shard
        self.recipeSHA256 = recipeSHA256
        self.recipeSnapshot = recipeSnapshot
        self.config = config
    }
}

/// A row handed to a worker by `claim`: its index and which attempt this is (1-based).
public struct ClaimedRow: Sendable, Equatable {
    public let index: Int64
    public let attempt: Int
}

/// What a finished index keeps: the exported line and what produced it.
public struct RowResult: Sendable, Equatable {
    /// The conversation exactly as `batch export` writes it.
    public var line: String
    public var topic: String?
    public var persona: String?
    public var dynamic: String?
    public var model: String?
    public var generationID: String?
    public var finishReason: String?
    public var latencyMs: Int64?

    public init(
        line: String, topic: String? = nil, persona: String? = nil, dynamic: String? = nil,
        model: String? = nil, generationID: String? = nil, finishReason: String? = nil, latencyMs: Int64? = nil
    ) {
        self.line = line
        self.topic = topic
        self.persona = persona
        self.dynamic = dynamic
        self.model = model
        self.generationID = generationID
        self.finishReason = finishReason
        self.latencyMs = latencyMs
    }
}

/// One HTTP attempt for one index, as the audit trail records it.
public struct AttemptRecord: Sendable, Equatable {
    public var attempt: Int
    public var startedAtMs: Int64
    public var endedAtMs: Int64
    /// A stable snake_case kind such as `rate_limited` or `timeout`; nil on success.
    public var errorKind: String?
    public var httpStatus: Int?
    /// A short description with no secrets and no full response bodies.
    public var error: String?
    public var retryAfterMs: Int64?
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var cost: Double?
    /// Prompt tokens the provider served from its cache.
    public var cachedTokens: Int?
    /// What the cache saved, in the provider's credits (negative for a cache write that cost extra).
    public var cacheDiscount: Double?

    public init(
        attempt: Int, startedAtMs: Int64, endedAtMs: Int64, errorKind: String? = nil, httpStatus: Int? = nil,
        error: String? = nil, retryAfterMs: Int64? = nil, promptTokens: Int? = nil, completionTokens: Int? = nil,
        cost: Double? = nil, cachedTokens: Int? = nil, cacheDiscount: Double? = nil
    ) {
        self.attempt = attempt
        self.startedAtMs = startedAtMs
        self.endedAtMs = endedAtMs
        self.errorKind = errorKind
        self.httpStatus = httpStatus
        self.error = error
        self.retryAfterMs = retryAfterMs
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cost = cost
        self.cachedTokens = cachedTokens
        self.cacheDiscount = cacheDiscount
    }
}

/// Rows by state.
public struct StateCounts: Sendable, Equatable {
    public var pending = 0
    public var inFlight = 0
    public var done = 0
    public var failed = 0

    public init(pending: Int = 0, inFlight: Int = 0, done: Int = 0, failed: Int = 0) {
        self.pending = pending
        self.inFlight = inFlight
        self.done = done
        self.failed = failed
    }

    public var total: Int { pending + inFlight + done + failed }

    public static func + (a: StateCounts, b: StateCounts) -> StateCounts {
        StateCounts(pending: a.pending + b.pending, inFlight: a.inFlight + b.inFlight, done: a.done + b.done, failed: a.failed + b.failed)
    }
}

/// Tokens and money spent over every attempt (failed ones cost too).
public struct UsageTotals: Sendable, Equatable {
    public var attempts = 0
    public var promptTokens = 0
    public var completionTokens = 0
    public var cost = 0.0
    /// Prompt tokens served from the provider's cache, and what that saved (in cost's unit).
    public var cachedTokens = 0
    public var cacheDiscount = 0.0

    public init(
        attempts: Int = 0, promptTokens: Int = 0, completionTokens: Int = 0, cost: Double = 0, cachedTokens: Int = 0,
        cacheDiscount: Double = 0
    ) {
        self.attempts = attempts
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cost = cost
        self.cachedTokens = cachedTokens
        self.cacheDiscount = cacheDiscount
    }

    /// Adds one attempt's usage.
    public mutating func add(_ attempt: AttemptRecord) {
        attempts += 1
        promptTokens += attempt.promptTokens ?? 0
        completionTokens += attempt.completionTokens ?? 0
        cost += attempt.cost ?? 0
        cachedTokens += attempt.cachedTokens ?? 0
        cacheDiscount += attempt.cacheDiscount ?? 0
    }
}

/// A done row as export reads it.
public struct DoneRow: Sendable, Equatable {
    public let index: Int64
    public let result: RowResult
    public let promptTokens: Int?
    public let completionTokens: Int?
    public let cost: Double?
}

/// A failed row and why.
public struct FailedRow: Sendable, Equatable {
    public let index: Int64
    public let attempts: Int
    public let lastError: String?
}

/// A state change of one in-flight row, for `Ledger.apply`.
public enum Transition: Sendable, Equatable {
    /// in flight -> done, storing the result.
    case complete(Int64, RowResult, AttemptRecord)
    /// in flight -> pending, due again at `atMs`.
    case retry(Int64, atMs: Int64, AttemptRecord)
    /// in flight -> failed.
    case fail(Int64, AttemptRecord)
    /// in flight -> pending without counting the attempt (abandoned at shutdown).
    case release(ClaimedRow, startedAtMs: Int64)
    /// in flight -> pending for a row claimed but never sent: no attempt is recorded.
    case unclaim(ClaimedRow)
    /// Not a row: the concurrency window became `size` at `atMs`, for `reason`.
    case window(size: Int, reason: String, atMs: Int64)
}
