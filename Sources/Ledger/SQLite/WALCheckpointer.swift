import CSQLite
import Foundation

/// Checkpoints a ledger's WAL on a thread of its own, so that the writer's commits never wait
/// for a checkpoint's fsyncs and page copies.
///
/// SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1,000 pages: in a
/// run, every half second or so, the run loop stopped there for 10-50 ms (two fdatasyncs and a
/// few MB copied) while answers waited and slots stood empty (BENCHMARKS.md, session 9). Instead
/// the writer's connection has automatic checkpoints off and a WAL hook that, after a commit
/// that leaves `thresholdFrames` or more in the WAL, wakes this thread; its own connection runs
/// a PASSIVE checkpoint, which never blocks the writer. Nothing about durability changes: the
/// same checkpoint, with the same `synchronous` setting, only on another thread. A checkpoint
/// that fails (a full disk) leaves its frames in the WAL for the next one, as SQLite's own does.
///
/// A WAL is only rewound when a checkpoint has copied all of it before the writer's next
/// transaction; a writer that never pauses would outrun the checkpoints and grow it without end.
/// So past `limitFrames` the commit waits for a checkpoint begun after it: with the writer
/// still, that one copies everything, and the next transaction starts the WAL over.
final class WALCheckpointer: @unchecked Sendable {
    /// SQLite's own default (`wal_autocheckpoint`).
    static let thresholdFrames: Int32 = 1_000
    /// Past this many frames (some 16 MB), a commit waits for a whole checkpoint.
    static let limitFrames: Int32 = 4_000
    /// The longest a commit waits for that checkpoint.
    static let limitWait: TimeInterval = 2

    private let connection: Connection
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var requested = false
    private var stopping = false
    /// Checkpoints begun and finished (one at a time, in order).
    private var begun = 0
    private var checkpoints = 0
    private let finished = DispatchSemaphore(value: 0)

    /// Opens a second connection to `path` (a ledger in WAL mode) and starts the thread.
    init(path: String, synchronous: String) throws(LedgerError) {
        connection = try Connection(path: path, flags: SQLITE_OPEN_READWRITE)
        // Never wait on a lock: a checkpoint that cannot run now is simply asked for again
        // after the next commit (the writer, or `stop`, must never wait seconds behind it).
        sqlite3_busy_timeout(connection.handle, 0)
        // One read now, before the run writes: it opens the WAL for this connection, which a
        // first checkpoint would otherwise do with a query of its own, under the writer's load.
        try connection.execute("PRAGMA synchronous = \(synchronous); SELECT COUNT(*) FROM run", doing: "opening the ledger's checkpointer")
        let thread = Thread { [self] in run() }
        thread.name = "ledger-checkpoint"
        thread.start()
    }

    /// Turns off `writer`'s automatic checkpoints and has its commits wake this thread instead.
    func install(on writer: Connection) {
        sqlite3_wal_hook(writer.handle, { context, _, _, frames in
            if let context, frames >= WALCheckpointer.thresholdFrames {
                Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().request(wait: frames >= WALCheckpointer.limitFrames)
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Checkpoints finished so far (for tests).
    var completed: Int {
        condition.lock()
        defer { condition.unlock() }
        return checkpoints
    }

    /// Asks for a checkpoint; with `wait`, returns once one begun after this call has finished.
    private func request(wait: Bool) {
        condition.lock()
        let target = begun + 1
        if !requested {
            requested = true
            condition.broadcast()
        }
        let until = Date(timeIntervalSinceNow: Self.limitWait)
        while wait && checkpoints < target && !stopping {
            if !condition.wait(until: until) { break }
        }
        condition.unlock()
    }

    /// Stops the thread after the checkpoint under way, if any, and closes its connection. The
    /// writer's hook must be gone (its connection closed, or `sqlite3_wal_hook` cleared) first.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        finished.wait()
        connection.close()
    }

    private func run() {
        while true {
            condition.lock()
            while !requested && !stopping { condition.wait() }
            let stop = stopping
            requested = false
            if !stop { begun += 1 }
            condition.unlock()
            if stop { break }
            var logFrames: Int32 = 0, copiedFrames: Int32 = 0
            _ = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, &logFrames, &copiedFrames)
            condition.lock()
            checkpoints += 1
            condition.broadcast()
            condition.unlock()
        }
        finished.signal()
    }
}
