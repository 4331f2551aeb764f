import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks on a ledger file made before SQLite touches it, so that bad input is refused with a
/// clear message and left exactly as it was.
enum LedgerFile {
    /// `PRAGMA application_id` of every batch ledger ("BTCH"), set by migration 0001.
    static let applicationID: Int32 = 0x4254_4348

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Refuses a file that is not a SQLite database, or one shorter than its header says.
    static func preflight(_ path: String) throws(LedgerError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT {
                throw LedgerError(.notFound, "no ledger at \(path)", path: path)
            }
            throw LedgerError(.io, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw LedgerError(.notALedger, "\(path) is not a batch ledger (not a regular file)")
        }
        let size = Int64(info.st_size)
        guard size > 0 else {
            throw LedgerError(.notALedger, "\(path) is empty, not a batch ledger; remove it or choose another path")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw LedgerError(.io, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 100)
        let read = pread(fd, &header, 100, 0)
        let magic = Array("SQLite format 3".utf8) + [0]
        let count = max(0, read)
        guard header.prefix(min(count, 16)).elementsEqual(magic.prefix(min(count, 16))) else {
            throw LedgerError(.notALedger, "\(path) is not a batch ledger (not a SQLite database); nothing was changed")
        }
        guard count == 100 else {
            throw LedgerError(.damaged, "\(path) is truncated (\(size) bytes, shorter than a SQLite header); restore it from a copy")
        }
        let pageSize = Int64(header[16]) << 8 | Int64(header[17])
        let effectivePageSize = pageSize == 1 ? 65_536 : pageSize
        let changeCounter = bigEndian(header, 24)
        let pageCount = Int64(bigEndian(header, 28))
        let validFor = bigEndian(header, 92)
        if validFor == changeCounter, pageCount > 0, size < pageCount * effectivePageSize, !sqliteVerifies(path) {
            throw LedgerError(
                .damaged,
                "\(path) is truncated: \(size) bytes, but its header says \(pageCount * effectivePageSize); restore it from a copy"
            )
        }
        let applicationID = Int32(bitPattern: bigEndian(header, 68))
        if applicationID != LedgerFile.applicationID {
            throw LedgerError(.notALedger, "\(path) is a SQLite database but not a batch ledger; nothing was changed")
        }
    }

    /// True when SQLite opens `path` and `PRAGMA quick_check` passes. A main file shorter than
    /// its header says is normal while its WAL holds pages not yet checkpointed (after a full
    /// disk stopped a checkpoint half way, for example): SQLite reads those pages from the WAL,
    /// and the ledger is whole. Only a file SQLite cannot verify is reported as truncated.
    /// Only called when the sizes disagree: the check reads every page.
    static func sqliteVerifies(_ path: String) -> Bool {
        var wal = stat()
        guard stat(path + "-wal", &wal) == 0, wal.st_size > 0 else { return false }
        guard let db = try? Connection(path: path, flags: SQLITE_OPEN_READONLY),
              let check = try? db.prepare("PRAGMA quick_check"),
              (try? check.step(doing: "verifying the ledger")) == true else { return false }
        return check.text(0) == "ok"
    }

    private static func bigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }
}
