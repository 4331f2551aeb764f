#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One writer per ledger *file*: an exclusive `flock` on the ledger file itself, so the lock
/// holds however the file is named (a symbolic or hard link, `..` in the path, a bind mount)
/// and goes away with the process, even under `kill -9`. A second writer is told the holder's
/// pid (found in `/proc/locks` by device and inode, or in the `.lock` file the holder wrote).
///
/// The descriptor must outlive the process's SQLite connections to the file: closing any
/// descriptor of a file drops every POSIX lock the process holds on it, SQLite's included.
/// `Ledger` closes its connection first.
final class WriterLock {
    private let descriptor: Int32

    init(ledgerPath path: String) throws(LedgerError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw LedgerError(.io, "cannot open the ledger \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = FileIdentity(descriptor: fd).flatMap(WriterLock.holder(of:)) ?? WriterLock.recordedHolder(path)
            close(fd)
            let who = holder.map { "another process (pid \($0))" } ?? "another process"
            throw LedgerError(
                .locked,
                "\(who) holds the ledger \(path) for writing (possibly under another name); wait for it to finish or stop it. Reading commands (status, export) work meanwhile."
            )
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// The pid holding an exclusive flock on `file`, from `/proc/locks` (Linux).
    static func holder(of file: FileIdentity) -> Int? {
        guard let text = readSmallFile("/proc/locks") else { return nil }
        let major = ((file.device >> 8) & 0xfff) | ((file.device >> 32) & ~UInt64(0xfff))
        let minor = (file.device & 0xff) | ((file.device >> 12) & ~UInt64(0xff))
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // "1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF"; waiters have "->" after the number.
            guard fields.count >= 6, fields[1] == "FLOCK", fields[3] == "WRITE" else { continue }
            let id = fields[5].split(separator: ":")
            guard id.count == 3, UInt64(id[0], radix: 16) == major, UInt64(id[1], radix: 16) == minor,
                  UInt64(id[2]) == file.inode else { continue }
            return Int(fields[4])
        }
        return nil
    }

    /// The pid in `<ledger>.lock` (written by the holder), through the path given or resolved.
    private static func recordedHolder(_ path: String) -> Int? {
        for spelling in [path, PathParts.resolved(path)].compactMap({ $0 }) {
            if let text = readSmallFile(spelling + ".lock"),
               let pid = Int(text.filter { $0.isNumber }), pid > 0 {
                return pid
            }
        }
        return nil
    }

    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while bytes.count < 4 << 20 {
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { break }
            bytes += chunk.prefix(count)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
