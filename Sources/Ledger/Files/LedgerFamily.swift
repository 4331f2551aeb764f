#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The files that make up a ledger: the database, SQLite's `-wal`, `-shm` and `-journal`, and
/// batch's `.lock`. Writing over any of them destroys the ledger (or, for the WAL, its latest
/// commits), so commands that write other files check their destinations against this.
public struct LedgerFamily: Sendable {
    public static let suffixes = ["", "-wal", "-shm", "-journal", ".lock"]

    /// The existing members, by identity (catches hard links and any spelling of the path).
    public private(set) var identities: Set<FileIdentity> = []
    /// Every member's name in its folder, existing or not (catches a `-wal` about to appear).
    public private(set) var entries: Set<DirectoryEntry> = []

    public init() {}

    /// Adds the ledger at `path` and its companions, as seen through the path given and
    /// through the path with every symbolic link resolved (SQLite names the WAL after the path
    /// it was opened with).
    public mutating func add(ledger path: String) {
        var spellings = [path]
        if let resolved = PathParts.resolved(path), resolved != path { spellings.append(resolved) }
        for spelling in spellings {
            for suffix in LedgerFamily.suffixes {
                if let identity = FileIdentity(path: spelling + suffix) { identities.insert(identity) }
                if let entry = DirectoryEntry(path: spelling + suffix) { entries.insert(entry) }
            }
        }
    }

    /// Why writing `path` would hit a ledger, or nil when it would not. Also recognises
    /// ledgers that were not added: any batch ledger or SQLite database, and a companion
    /// (`X-wal`, `X.lock`, ...) of a SQLite database `X`.
    public func conflict(_ path: String) -> String? {
        if let identity = FileIdentity(path: path), identities.contains(identity) {
            return "\(path) is the ledger being read or one of its files (the same file under another name)"
        }
        if let entry = DirectoryEntry(path: path), entries.contains(entry) {
            return "\(path) is one of the files of the ledger being read"
        }
        if LedgerFamily.isSQLiteFile(path) {
            return "\(path) is a SQLite database (a ledger?)"
        }
        for suffix in LedgerFamily.suffixes where !suffix.isEmpty && path.hasSuffix(suffix) {
            let owner = String(path.dropLast(suffix.count))
            if LedgerFamily.isSQLiteFile(owner) { return "\(path) belongs to the SQLite database \(owner)" }
        }
        return nil
    }

    /// True when `path` is a regular file that starts like a SQLite database or WAL.
    static func isSQLiteFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 16)
        let count = read(fd, &header, 16)
        if count == 16 && header.elementsEqual(Array("SQLite format 3".utf8) + [0]) { return true }
        let walMagic: [[UInt8]] = [[0x37, 0x7f, 0x06, 0x82], [0x37, 0x7f, 0x06, 0x83]]
        return count >= 4 && walMagic.contains { $0.elementsEqual(header.prefix(4)) }
    }
}
