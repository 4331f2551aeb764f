import Foundation
import Ledger

/// Where an export writes one of its files, decided before anything is written.
///
/// - `-`, `/dev/stdout`, `/dev/stderr` and anything that is not a regular file (a pipe, a
///   character device, a socket) are written through, streaming: the FIFO stays a FIFO and its
///   reader gets the rows.
/// - A regular file (or a new one) is replaced atomically: written beside its target under a
///   temporary name, then renamed over it. A symbolic link is followed, so its target is
///   replaced and the link stays.
/// - Nothing that is a ledger, or one of its `-wal`, `-shm`, `-journal`, `.lock` files, is ever
///   a destination, whatever the spelling of the path (files are compared by device and inode).
enum ExportDestination: Equatable {
    /// Written through an open descriptor (closed at the end when `owned`).
    case stream(path: String, descriptor: Int32, owned: Bool)
    /// Replaced atomically: `folder`/`name` with every symbolic link resolved; `mode` of the
    /// file it replaces, kept for the new one.
    case replace(path: String, folder: String, name: String, mode: mode_t?)

    /// The path as the user gave it.
    var path: String {
        switch self {
        case let .stream(path, _, _), let .replace(path, _, _, _): path
        }
    }

    /// Resolves `path` for writing, refusing members of `ledgers`. Opens a stream destination
    /// (a FIFO's open waits for its reader).
    static func resolve(_ path: String, flag: String, ledgers: LedgerFamily) throws -> ExportDestination {
        if let descriptor = standardStream(path) {
            return .stream(path: path, descriptor: descriptor, owned: false)
        }
        if let reason = ledgers.conflict(path) {
            throw ExportError("refusing to write \(flag) \(path): \(reason); an export never writes over a ledger. Choose another file")
        }
        var info = stat()
        if stat(path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                guard let resolved = PathParts.resolved(path) else {
                    throw ExportError("cannot resolve \(flag) \(path): \(String(cString: strerror(errno)))")
                }
                let (folder, name) = PathParts.split(resolved)
                return .replace(path: path, folder: folder, name: name, mode: info.st_mode & 0o7777)
            case S_IFDIR:
                throw ExportError("\(flag) \(path) is a folder; give a file name inside it")
            default:
                let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY)
                guard fd >= 0 else {
                    throw ExportError("cannot open \(flag) \(path) for writing: \(String(cString: strerror(errno)))")
                }
                return .stream(path: path, descriptor: fd, owned: true)
            }
        }
        var link = stat()
        if lstat(path, &link) == 0 && (link.st_mode & S_IFMT) == S_IFLNK {
            throw ExportError("\(flag) \(path) is a symbolic link to a missing file; give the target's path instead")
        }
        let (folder, name) = PathParts.split(path)
        guard let resolvedFolder = PathParts.resolved(folder) else {
            throw ExportError("cannot write \(flag) \(path): the folder \(folder) does not exist; create it first")
        }
        return .replace(path: path, folder: resolvedFolder, name: name, mode: nil)
    }

    /// Standard output or standard error, by any of their names (`-` is standard output).
    private static func standardStream(_ path: String) -> Int32? {
        switch path {
        case "-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1": STDOUT_FILENO
        case "/dev/stderr", "/dev/fd/2", "/proc/self/fd/2": STDERR_FILENO
        default: nil
        }
    }

    /// True when `path` would be written through rather than replaced: a standard stream, or an
    /// existing pipe, device or socket (there is no folder beside it to put another file in).
    static func isStream(_ path: String) -> Bool {
        if standardStream(path) != nil { return true }
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let type = info.st_mode & S_IFMT
        return type != S_IFREG && type != S_IFDIR
    }

    /// True when both name the same file (two streams to one pipe, or one file replaced twice).
    func sameTarget(as other: ExportDestination) -> Bool {
        switch (self, other) {
        case let (.stream(_, a, _), .stream(_, b, _)):
            return a == b || FileIdentity(descriptor: a) == FileIdentity(descriptor: b)
        case let (.replace(_, folderA, nameA, _), .replace(_, folderB, nameB, _)):
            return nameA == nameB && FileIdentity(path: folderA) == FileIdentity(path: folderB)
        default:
            return false
        }
    }
}
