#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive OS lock (`flock`) on `<ledger>.lock`, held for as long as a process writes the
/// ledger. The file holds the holder's pid so a second writer can say who has it. The lock goes
/// away with the process, even under `kill -9`; the file itself is left in place on purpose
/// (removing it would race with a process that has just opened it).
final class FileLock {
    private let descriptor: Int32
    let path: String

    init(ledgerPath: String) throws(LedgerError) {
        path = ledgerPath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw LedgerError(.io, "cannot create the lock file \(path): \(reason); the ledger's folder must be writable")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = FileLock.readHolder(fd)
            close(fd)
            let who = holder.map { "another process (pid \($0))" } ?? "another process"
            throw LedgerError(
                .locked,
                "\(who) holds the ledger \(ledgerPath) for writing; wait for it to finish or stop it. Reading commands (status, export) work meanwhile."
            )
        }
        descriptor = fd
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    private static func readHolder(_ fd: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, 31, 0)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer.prefix(count), as: UTF8.self).trimmingCharacters(in: " \n")
        return Int(text)
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
