/// Counts since the server started, by outcome. `GET /stats` returns these as JSON.
public struct SimulatorStats: Sendable, Equatable, Codable {
    /// Chat-completion requests received.
    public var requests: Int = 0
    /// Responses written (each got a serial and a generation id `gen-sim-<serial>`).
    public var responses: Int = 0
    /// Outcomes: "ok", "429", "500", "502", "503", "timeout", "reset", "malformed",
    /// "bad_conversation", "truncated", "error_in_200", "rpm_429", "unauthorized",
    /// "bad_request", "not_found", "abandoned" (the client left before the answer).
    public var outcomes: [String: Int] = [:]
    public var connectionsOpened: Int = 0
    public var connectionsClosed: Int = 0
    /// Requests the timeout fault is holding right now.
    public var held: Int = 0
    /// Under the capacity model: requests being served, waiting, and the most that waited at once.
    public var serving: Int = 0
    public var queued: Int = 0
    public var peakQueued: Int = 0
    /// With the prompt cache: prompt tokens found in it, over every request received.
    public var cachedPromptTokens: Int = 0
    /// What the answers cost, summed (every completion's `usage.cost`, and batches' answers).
    public var billed: Double = 0
    /// Requests answered (and billed) inside batches.
    public var batchBilledRequests: Int = 0
    /// Batches created.
    public var batchesCreated: Int = 0
    /// Creates answered with the batch an earlier create made under the same Idempotency-Key.
    public var batchCreatesRepeated: Int = 0
    /// Valid answers carrying a data fault (`--data-*`), by fault.
    public var dataFaults: [String: Int] = [:]

    public init() {}

    public subscript(outcome: String) -> Int { outcomes[outcome] ?? 0 }

    enum CodingKeys: String, CodingKey {
        case requests, responses, outcomes, held, serving, queued
        case peakQueued = "peak_queued"
        case cachedPromptTokens = "cached_prompt_tokens"
        case billed
        case batchBilledRequests = "batch_billed_requests"
        case batchesCreated = "batches_created"
        case batchCreatesRepeated = "batch_creates_repeated"
        case dataFaults = "data_faults"
        case connectionsOpened = "connections_opened"
        case connectionsClosed = "connections_closed"
    }
}
