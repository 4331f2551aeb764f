/// Pulls done rows in index order one at a time (for merging several ledgers by index).
/// Holds a read transaction open until it is exhausted or released.
public final class DoneRowCursor {
    private let statement: Statement
    private var finished = false

    init(_ db: Connection, from start: Int64) throws(LedgerError) {
        statement = try db.prepare("""
            SELECT idx, line, topic, persona, dynamic, model, generation_id, finish_reason, latency_ms,
                   prompt_tokens, completion_tokens, cost
            FROM results WHERE idx >= ? ORDER BY idx
            """)
        statement.bind(1, start)
    }

    public func next() throws(LedgerError) -> DoneRow? {
        guard !finished else { return nil }
        let s = statement
        guard try s.step(doing: "reading done rows") else {
            finished = true
            s.reset()
            return nil
        }
        let result = RowResult(
            line: s.text(1), topic: s.optionalText(2), persona: s.optionalText(3), dynamic: s.optionalText(4),
            model: s.optionalText(5), generationID: s.optionalText(6), finishReason: s.optionalText(7),
            latencyMs: s.isNull(8) ? nil : s.int64(8))
        return DoneRow(
            index: s.int64(0), result: result, promptTokens: s.optionalInt(9), completionTokens: s.optionalInt(10),
            cost: s.optionalDouble(11))
    }
}
