import CSQLite
import Foundation

/// How hard a commit tries to reach the disk.
public enum Durability: String, Sendable, CaseIterable {
    /// `synchronous=NORMAL` in WAL mode: a killed process loses nothing; a power cut may lose the last commits.
    case normal
    /// `synchronous=FULL`: every commit survives a power cut, at the price of an fsync per commit.
    case full
}

/// The writer side of a ledger: one SQLite file holding a run's plan, every index's state, its
/// results and an audit trail of attempts.
///
/// One process writes a ledger at a time (an OS lock on the ledger file itself, see `WriterLock`,
/// and the holder's pid in `<path>.lock`); every state transition is
/// one transaction, so a row is `done` exactly when it has a result, whenever the process dies.
/// All methods are synchronous and serialised on an internal lock; call them off the cooperative
/// thread pool if latency matters.
public final class Ledger: @unchecked Sendable {
    public let path: String
    let db: Connection
    /// Checkpoints the WAL off the writer's thread (``WALCheckpointer``).
    private let checkpointer: WALCheckpointer
    private let lock: FileLock
    private let writerLock: WriterLock
    private let mutex = NSLock()

    // MARK: Opening and creating

    /// Opens an existing ledger for writing, upgrading its schema to the latest version.
    /// Fails without changing the file if it is not a ledger, is damaged, or is newer than this binary.
    ///
    /// Every page is verified first (`PRAGMA quick_check`, whose time grows with the file): a damaged page
    /// that the run's queries would never read (an old result, say) is reported here, instead of
    /// the run saying "finished" over it.
    public convenience init(openForWriting path: String, durability: Durability = .normal) throws(LedgerError) {
        try self.init(openForWriting: path, durability: durability, verify: true)
    }

    init(openForWriting path: String, durability: Durability, verify: Bool) throws(LedgerError) {
        try LedgerFile.preflight(path)
        let writerLock = try WriterLock(ledgerPath: path)
        let lock = try FileLock(ledgerPath: PathParts.resolved(path) ?? path)
        try Ledger.checkVersion(path)
        let db = try Connection(path: path, flags: SQLITE_OPEN_READWRITE)
        if verify { try Ledger.verify(db) }
        try Ledger.configure(db, durability: durability)
        try Migrator.migrate(db)
        _ = try Queries.run(db)
        let checkpointer = try WALCheckpointer(path: path, synchronous: Ledger.synchronous(durability))
        checkpointer.install(on: db)
        self.path = path
        self.db = db
        self.checkpointer = checkpointer
        self.lock = lock
        self.writerLock = writerLock
    }

    deinit {
        // The checkpointer's connection first, so that the writer's is the last one and its
        // close checkpoints the whole WAL and removes it; both before the writer lock's
        // descriptor closes (which would drop SQLite's POSIX locks).
        sqlite3_wal_hook(db.handle, nil, nil)
        checkpointer.stop()
        db.close()
    }

    /// Checkpoints completed by the background checkpointer (for tests).
    var backgroundCheckpoints: Int { checkpointer.completed }

    /// The most rows one ledger plans. Each index becomes a row of the ledger (some 50 bytes, as
    /// the run reaches it: ``LazyPlan``), so a larger run is split into shards (`--shard K/N`),
    /// each with its own ledger.
    public static let maximumPlannedRows: Int64 = 10_000_000

    /// Creates a ledger at `path` for `run`, planning `indices`, and opens it for writing.
    ///
    /// The file is built under a temporary name (`<path>.creating-<pid>`) and linked into place
    /// only when complete, so a crash during creation never leaves a half-made ledger; an
    /// existing file is never replaced. Temporary files of creations that were killed are
    /// removed by the next creation at the same path.
    /// The file is readable and writable by its owner only (0600).
    ///
    /// A plan that is an index progression (`0..<N`, or a shard's share) gets its first
    /// `initialRows` rows now and the rest as claims reach them (``LazyPlan``).
    public static func create(
        at path: String, run: RunRecord, indices: some Sequence<Int64>, durability: Durability = .normal,
        nowMs: Int64, initialRows: Int64 = initialPlanRows
    ) throws(LedgerError) -> Ledger {
        try create(at: path, run: run, indices: indices, schemaVersion: Migrator.latestVersion, nowMs: nowMs, initialRows: initialRows)
        return try Ledger(openForWriting: path, durability: durability, verify: false)
    }

    /// Rows a new ledger's plan gets at creation; the rest is written as the run claims it.
    public static let initialPlanRows: Int64 = 1_024

    /// Creation at a given schema version: the upgrade tests build old ledgers with it.
    static func create(
        at path: String, run: RunRecord, indices: some Sequence<Int64>, schemaVersion: Int, nowMs: Int64,
        initialRows: Int64 = initialPlanRows
    ) throws(LedgerError) {
        let lock = try FileLock(ledgerPath: path)
        guard !LedgerFile.exists(path) else {
            throw LedgerError(.alreadyExists, "\(path) already exists; choose another path", path: path)
        }
        let (folder, name) = PathParts.split(path)
        AbandonedFiles.remove(in: folder, stem: name + ".creating-")
        let temporary = path + ".creating-\(getpid())"
        try createEmptyFile(temporary, for: path)
        do throws(LedgerError) {
            do {
                // Nobody else sees the file until it is linked into place, and a crash before
                // that leaves only a temporary file: so no journal on disk and no syncs while it
                // is built (the plan is written once, straight into the file, instead of into a
                // WAL and then copied), and one fsync before the link makes it durable.
                let db = try Connection(path: temporary, flags: SQLITE_OPEN_READWRITE)
                try db.execute("PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF", doing: "creating the ledger")
                try Migrator.migrate(db, to: schemaVersion)
                try db.transaction(doing: "planning the run") { () throws(LedgerError) in
                    try insertRun(db, run)
                    if schemaVersion >= 7, let plan = lazyPlan(indices, run: run), plan.underestimatedCount > max(0, initialRows) {
                        // Only a progression is left to claims: `LazyPlan` continues it from where this stops.
                        let first = plan.start + max(0, initialRows) * plan.step
                        try insertItems(db, IndexProgression(from: plan.start, to: first, by: plan.step), nowMs: nowMs)
                        try LazyPlan.setUnplannedFrom(db, first)
                    } else {
                        try insertItems(db, indices, nowMs: nowMs)
                    }
                }
                try db.execute("PRAGMA journal_mode = WAL", doing: "creating the ledger")
            }  // the connection closes here
            try syncFile(temporary, for: path)
            guard link(temporary, path) == 0 else {
                let reason = errno == EEXIST ? "it appeared meanwhile" : String(cString: strerror(errno))
                throw LedgerError(.alreadyExists, "cannot create \(path): \(reason)")
            }
            unlink(temporary)
            FolderSync.sync(folder)
        } catch {
            unlink(temporary)
            unlink(temporary + "-wal")
            unlink(temporary + "-shm")
            throw error
        }
        _ = lock
    }

    /// `indices` as the progression `LazyPlan` continues (the run's `0..<planned_rows`, or its
    /// shard's share), or nil when it is anything else (then it is planned whole).
    private static func lazyPlan(_ indices: some Sequence<Int64>, run: RunRecord) -> IndexProgression? {
        let expected = shardIndices(num: run.plannedRows, shard: run.shard)
        if let progression = indices as? IndexProgression, progression == expected { return progression }
        if let range = indices as? Range<Int64>, run.shard == nil, range == 0..<run.plannedRows { return expected }
        return nil
    }

    /// Makes the finished temporary file durable before it is linked into place.
    private static func syncFile(_ temporary: String, for path: String) throws(LedgerError) {
        let fd = open(temporary, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 else {
            let code = errno
            if fd >= 0 { close(fd) }
            if code == ENOSPC || code == EDQUOT {
                throw LedgerError(.diskFull, "the disk holding \(path) is full while creating the ledger; nothing of it was written")
            }
            throw LedgerError(.io, "cannot create the ledger \(path): \(String(cString: strerror(code)))")
        }
        close(fd)
    }

    private static func createEmptyFile(_ temporary: String, for path: String) throws(LedgerError) {
        let fd = open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let folder = (path as NSString).deletingLastPathComponent
            throw LedgerError(
                .io,
                "cannot create the ledger \(path): \(String(cString: strerror(errno))); check that the folder \(folder.isEmpty ? "." : folder) exists and is writable")
        }
        fchmod(fd, 0o600)
        close(fd)
    }

    private static func checkVersion(_ path: String) throws(LedgerError) {
        let reader = try Connection(path: path, flags: SQLITE_OPEN_READONLY)
        try Migrator.checkKnown(try Migrator.version(of: reader), path: path)
    }

    /// Refuses a ledger with a damaged page, naming the first problem SQLite found.
    private static func verify(_ db: Connection) throws(LedgerError) {
        let check = try db.prepare("PRAGMA quick_check(1)")
        try check.step(doing: "verifying the ledger")
        let verdict = check.isNull(0) ? "ok" : check.text(0).split(whereSeparator: \.isNewline).joined(separator: " ")
        guard verdict == "ok" else {
            throw LedgerError(.damaged, "\(db.path) is damaged (\(verdict)); restore it from a copy or start a new ledger")
        }
    }

    private static func configure(_ db: Connection, durability: Durability) throws(LedgerError) {
        try db.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = \(synchronous(durability))", doing: "opening the ledger")
    }

    private static func synchronous(_ durability: Durability) -> String { durability == .full ? "FULL" : "NORMAL" }

    private static func insertRun(_ db: Connection, _ run: RunRecord) throws(LedgerError) {
        let s = try db.statement("""
            INSERT INTO run (id, run_id, created_at_ms, planned_rows, shard_index, shard_count, recipe_sha256, recipe_snapshot, config)
            VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        s.bind(1, run.runID)
        s.bind(2, run.createdAtMs)
        s.bind(3, run.plannedRows)
        s.bind(4, run.shard?.index)
        s.bind(5, run.shard?.count)
        s.bind(6, run.recipeSHA256)
        s.bind(7, run.recipeSnapshot)
        s.bind(8, run.config)
        try s.run(doing: "writing the run record")
    }

    /// Plans `indices` as pending rows (ones already planned are left alone); returns how many were added.
    @discardableResult
    static func insertItems(_ db: Connection, _ indices: some Sequence<Int64>, nowMs: Int64) throws(LedgerError) -> Int {
        if let range = indices as? Range<Int64> {
            return try insertProgression(db, from: range.lowerBound, to: range.upperBound, by: 1, nowMs: nowMs)
        }
        if let progression = indices as? IndexProgression {
            return try insertProgression(db, from: progression.start, to: progression.end, by: progression.step, nowMs: nowMs)
        }
        let s = try db.statement("INSERT OR IGNORE INTO items (idx, updated_at_ms) VALUES (?, ?)")
        var added = 0
        for index in indices {
            s.reset()
            s.bind(1, index)
            s.bind(2, nowMs)
            try s.run(doing: "planning row \(index)")
            added += db.changes
        }
        return added
    }

    /// `start, start + step, ... < end` planned by SQLite itself (a recursive CTE), 65,536 rows a
    /// statement: a row-by-row loop from Swift is slower (BENCHMARKS.md).
    private static func insertProgression(
        _ db: Connection, from start: Int64, to end: Int64, by step: Int64, nowMs: Int64
    ) throws(LedgerError) -> Int {
        let s = try db.statement("""
            WITH RECURSIVE s(i) AS (SELECT ?1 UNION ALL SELECT i + ?3 FROM s WHERE i + ?3 < ?2)
            INSERT OR IGNORE INTO items (idx, updated_at_ms) SELECT i, ?4 FROM s
            """)
        let chunk: Int64 = 65_536
        var added = 0
        var next = start
        while next < end {
            let (span, overflow) = chunk.multipliedReportingOverflow(by: step)
            let (limit, overflow2) = next.addingReportingOverflow(span)
            let chunkEnd = overflow || overflow2 ? end : min(end, limit)
            s.reset()
            s.bind(1, next)
            s.bind(2, chunkEnd)
            s.bind(3, step)
            s.bind(4, nowMs)
            try s.run(doing: "planning rows \(next)..<\(chunkEnd)")
            added += db.changes
            next = chunkEnd
        }
        return added
    }

    func locked<T>(_ body: () throws(LedgerError) -> T) throws(LedgerError) -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try body()
    }

    // MARK: Transitions

    /// Atomically moves up to `limit` due pending rows (lowest index first) to in flight, adding one
    /// to each row's attempt count.
    public func claim(limit: Int, nowMs: Int64, owner: String) throws(LedgerError) -> [ClaimedRow] {
        guard limit > 0 else { return [] }
        return try locked { () throws(LedgerError) in
            try db.transaction(doing: "claiming rows") { () throws(LedgerError) in
                try claimRows(limit: limit, nowMs: nowMs, owner: owner)
            }
        }
    }

    /// Applies `transitions` and then claims up to `limit` due rows, in one transaction: the
    /// runner's way of paying one commit for many rows.
    public func apply(_ transitions: [Transition], thenClaim limit: Int, nowMs: Int64, owner: String) throws(LedgerError) -> [ClaimedRow] {
        try locked { () throws(LedgerError) in
            try db.transaction(doing: "recording outcomes and claiming rows") { () throws(LedgerError) in
                _ = try applyUnlocked(transitions, nowMs: nowMs)
                return limit > 0 ? try claimRows(limit: limit, nowMs: nowMs, owner: owner) : []
            }
        }
    }

    private func claimRows(limit: Int, nowMs: Int64, owner: String) throws(LedgerError) -> [ClaimedRow] {
        try claimDue(limit: limit, nowMs: nowMs, owner: owner, doing: "claiming rows")
    }

    /// Moves up to `limit` due pending rows, lowest index first, to in flight for `owner`, inside
    /// the caller's transaction; writes more of a lazy plan when the written rows run short
    /// (``LazyPlan``), so the rows are those an eager plan would give.
    func claimDue(limit: Int, nowMs: Int64, owner: String, doing what: String) throws(LedgerError) -> [ClaimedRow] {
        var rows: [ClaimedRow] = []
        while rows.count < limit {
            let s = try db.statement("""
                UPDATE items SET state = 'in_flight', attempts = attempts + 1, lease_owner = ?1, updated_at_ms = ?2
                WHERE idx IN (SELECT idx FROM items WHERE state = 'pending' AND next_attempt_ms <= ?2 ORDER BY idx LIMIT ?3)
                RETURNING idx, attempts
                """)
            s.bind(1, owner)
            s.bind(2, nowMs)
            s.bind(3, limit - rows.count)
            while try s.step(doing: what) {
                rows.append(ClaimedRow(index: s.int64(0), attempt: s.int(1)))
            }
            guard rows.count < limit, try LazyPlan.planMore(db, rows: limit - rows.count, nowMs: nowMs) > 0 else { break }
        }
        return rows.sorted { $0.index < $1.index }
    }

    /// Marks an in-flight row done and stores its result in the same transaction.
    public func complete(_ index: Int64, result: RowResult, attempt: AttemptRecord, nowMs: Int64) throws(LedgerError) {
        try apply([.complete(index, result, attempt)], nowMs: nowMs)
    }

    /// Puts in-flight rows back to pending without counting the unfinished attempt (a graceful
    /// shutdown abandoned them). Rows not in flight are left alone. Returns how many moved.
    @discardableResult
    public func release(_ rows: [ClaimedRow], startedAtMs: Int64? = nil, nowMs: Int64) throws(LedgerError) -> Int {
        try apply(rows.map { .release($0, startedAtMs: startedAtMs ?? nowMs) }, nowMs: nowMs)
    }

    /// Applies several transitions in one transaction (one commit for many rows: the runner's
    /// group commit). All or none are applied. Completing, retrying or failing a row that is not
    /// in flight is an error; releasing one is skipped. Returns how many rows changed state.
    @discardableResult
    public func apply(_ transitions: [Transition], nowMs: Int64) throws(LedgerError) -> Int {
        guard !transitions.isEmpty else { return 0 }
        return try locked { () throws(LedgerError) in
            try db.transaction(doing: "recording \(transitions.count) row outcomes") { () throws(LedgerError) in
                try applyUnlocked(transitions, nowMs: nowMs)
            }
        }
    }

    /// Applies `transitions` inside a transaction the caller holds (with the lock).
    func applyInTransaction(_ transitions: [Transition], nowMs: Int64) throws(LedgerError) -> Int {
        try applyUnlocked(transitions, nowMs: nowMs)
    }

    private func applyUnlocked(_ transitions: [Transition], nowMs: Int64) throws(LedgerError) -> Int {
        var changed = 0
        for transition in transitions {
            switch transition {
            case let .complete(index, result, attempt):
                try moveInFlight(index, to: .done, nextAttemptMs: nil, error: nil, nowMs: nowMs)
                try insertResult(index, result, attempt, nowMs: nowMs)
                try recordAttempt(index, attempt, outcome: "done")
            case let .retry(index, retryAtMs, attempt):
                try moveInFlight(index, to: .pending, nextAttemptMs: retryAtMs, error: attempt.error, nowMs: nowMs)
                try recordAttempt(index, attempt, outcome: "retry")
            case let .fail(index, attempt):
                try moveInFlight(index, to: .failed, nextAttemptMs: nil, error: attempt.error, nowMs: nowMs)
                try recordAttempt(index, attempt, outcome: "failed")
            case let .release(row, startedAtMs):
                guard try releaseOne(row, startedAtMs: startedAtMs, nowMs: nowMs, audit: true) else { continue }
            case let .unclaim(row):
                guard try releaseOne(row, startedAtMs: nowMs, nowMs: nowMs, audit: false) else { continue }
            case let .window(size, reason, atMs):
                let s = try db.statement("INSERT INTO window_changes (at_ms, size, reason) VALUES (?, ?, ?)")
                s.bind(1, atMs)
                s.bind(2, size)
                s.bind(3, reason)
                try s.run(doing: "recording the concurrency window")
                continue
            }
            changed += 1
        }
        return changed
    }

    private func insertResult(_ index: Int64, _ result: RowResult, _ attempt: AttemptRecord, nowMs: Int64) throws(LedgerError) {
        let s = try db.statement("""
            INSERT INTO results (idx, line, topic, persona, dynamic, model, generation_id, finish_reason,
                                 prompt_tokens, completion_tokens, cost, latency_ms, finished_at_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        s.bind(1, index)
        s.bind(2, result.line)
        s.bind(3, result.topic)
        s.bind(4, result.persona)
        s.bind(5, result.dynamic)
        s.bind(6, result.model)
        s.bind(7, result.generationID)
        s.bind(8, result.finishReason)
        s.bind(9, attempt.promptTokens)
        s.bind(10, attempt.completionTokens)
        s.bind(11, attempt.cost)
        s.bind(12, result.latencyMs)
        s.bind(13, nowMs)
        try s.run(doing: "storing the result of row \(index)")
    }

    private func releaseOne(_ row: ClaimedRow, startedAtMs: Int64, nowMs: Int64, audit: Bool) throws(LedgerError) -> Bool {
        let s = try db.statement("""
            UPDATE items SET state = 'pending', attempts = MAX(attempts - 1, 0), lease_owner = NULL, updated_at_ms = ?
            WHERE idx = ? AND state = 'in_flight'
            """)
        s.bind(1, nowMs)
        s.bind(2, row.index)
        try s.run(doing: "releasing row \(row.index)")
        guard db.changes == 1 else { return false }
        guard audit else { return true }
        let record = AttemptRecord(
            attempt: row.attempt, startedAtMs: startedAtMs, endedAtMs: nowMs, errorKind: "abandoned",
            error: "abandoned at shutdown")
        try recordAttempt(row.index, record, outcome: "abandoned")
        return true
    }

    /// Puts every in-flight row back to pending: on open, such rows are orphans of a process that
    /// died. Their unfinished attempt is recorded as `orphaned` and not counted. Returns how many moved.
    /// Rows held by a Batch API submission are not orphans: their batch still runs (see `Submission`).
    @discardableResult
    public func releaseOrphans(nowMs: Int64) throws(LedgerError) -> Int {
        try locked { () throws(LedgerError) in
            try db.transaction(doing: "releasing orphaned rows") { () throws(LedgerError) in
                let audit = try db.statement("""
                    INSERT INTO attempts (idx, attempt, started_at_ms, ended_at_ms, outcome, error_kind, error)
                    SELECT idx, attempts, updated_at_ms, ?, 'orphaned', 'orphaned', 'in flight when its process stopped'
                    FROM items WHERE state = 'in_flight' AND NOT \(Self.inSubmission)
                    """)
                audit.bind(1, nowMs)
                try audit.run(doing: "recording orphaned rows")
                let s = try db.statement("""
                    UPDATE items SET state = 'pending', attempts = MAX(attempts - 1, 0), lease_owner = NULL, updated_at_ms = ?
                    WHERE state = 'in_flight' AND NOT \(Self.inSubmission)
                    """)
                s.bind(1, nowMs)
                try s.run(doing: "releasing orphaned rows")
                return db.changes
            }
        }
    }

    /// Puts failed rows back to pending with a fresh attempt count: all of them, or those of
    /// `indices` that are failed. Done rows are never touched. Returns how many moved.
    @discardableResult
    public func resetFailed(_ indices: [Int64]? = nil, nowMs: Int64) throws(LedgerError) -> Int {
        try locked { () throws(LedgerError) in
            try db.transaction(doing: "resetting failed rows") { () throws(LedgerError) in
                let reset = """
                    UPDATE items SET state = 'pending', attempts = 0, next_attempt_ms = 0, lease_owner = NULL, updated_at_ms = ?
                    WHERE state = 'failed'
                    """
                guard let indices else {
                    let s = try db.statement(reset)
                    s.bind(1, nowMs)
                    try s.run(doing: "resetting failed rows")
                    return db.changes
                }
                let s = try db.statement(reset + " AND idx = ?")
                var moved = 0
                for index in indices {
                    s.reset()
                    s.bind(1, nowMs)
                    s.bind(2, index)
                    try s.run(doing: "resetting row \(index)")
                    moved += db.changes
                }
                return moved
            }
        }
    }

    private func moveInFlight(
        _ index: Int64, to state: ItemState, nextAttemptMs: Int64?, error: String?, nowMs: Int64
    ) throws(LedgerError) {
        let s = try db.statement("""
            UPDATE items SET state = ?, next_attempt_ms = COALESCE(?, next_attempt_ms), last_error = ?, lease_owner = NULL,
                             updated_at_ms = ?
            WHERE idx = ? AND state = 'in_flight'
            """)
        s.bind(1, state.rawValue)
        s.bind(2, nextAttemptMs)
        s.bind(3, error)
        s.bind(4, nowMs)
        s.bind(5, index)
        try s.run(doing: "moving row \(index) to \(state.rawValue)")
        guard db.changes == 1 else {
            let current = try Queries.state(db, of: index)
            let what = current.map { "it is \($0.state.rawValue)" } ?? "it is not planned"
            throw LedgerError(.invalidTransition, "row \(index) cannot become \(state.rawValue): \(what), not in flight")
        }
    }

    private func recordAttempt(_ index: Int64, _ a: AttemptRecord, outcome: String) throws(LedgerError) {
        let s = try db.statement("""
            INSERT INTO attempts (idx, attempt, started_at_ms, ended_at_ms, outcome, error_kind, http_status, error,
                                  retry_after_ms, prompt_tokens, completion_tokens, cost, cached_tokens, cache_discount)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        s.bind(1, index)
        s.bind(2, a.attempt)
        s.bind(3, a.startedAtMs)
        s.bind(4, a.endedAtMs)
        s.bind(5, outcome)
        s.bind(6, a.errorKind)
        s.bind(7, a.httpStatus)
        s.bind(8, a.error)
        s.bind(9, a.retryAfterMs)
        s.bind(10, a.promptTokens)
        s.bind(11, a.completionTokens)
        s.bind(12, a.cost)
        s.bind(13, a.cachedTokens)
        s.bind(14, a.cacheDiscount)
        try s.run(doing: "recording an attempt of row \(index)")
        guard outcome != "abandoned" else { return }
        let totals = try db.statement("""
            UPDATE usage_totals SET attempts = attempts + 1, prompt_tokens = prompt_tokens + ?,
                                    completion_tokens = completion_tokens + ?, cost = cost + ?,
                                    cached_tokens = cached_tokens + ?, cache_discount = cache_discount + ?
            WHERE id = 1
            """)
        totals.bind(1, a.promptTokens ?? 0)
        totals.bind(2, a.completionTokens ?? 0)
        totals.bind(3, a.cost ?? 0)
        totals.bind(4, a.cachedTokens ?? 0)
        totals.bind(5, a.cacheDiscount ?? 0)
        try totals.run(doing: "adding up usage")
    }

    // MARK: Reading

    public func run() throws(LedgerError) -> RunRecord { try locked { () throws(LedgerError) in try Queries.run(db) } }
    public func counts() throws(LedgerError) -> StateCounts { try locked { () throws(LedgerError) in try Queries.counts(db) } }
    public func usage() throws(LedgerError) -> UsageTotals { try locked { () throws(LedgerError) in try Queries.usage(db) } }
    public func nextDueMs() throws(LedgerError) -> Int64? { try locked { () throws(LedgerError) in try Queries.nextDue(db) } }

    public func failedRows(limit: Int = 100) throws(LedgerError) -> [FailedRow] {
        try locked { () throws(LedgerError) in try Queries.failedRows(db, limit: limit) }
    }

    /// Done rows in index order, one at a time (the writer stays locked meanwhile; readers use `LedgerReader`).
    public func forEachDone(from start: Int64 = .min, _ body: (DoneRow) throws -> Void) throws {
        mutex.lock()
        defer { mutex.unlock() }
        try Queries.forEachDone(db, from: start, body)
    }
}
