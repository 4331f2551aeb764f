#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum FolderSync {
    /// fsyncs `folder`, so that a name just linked or renamed into it survives a power cut.
    /// Best effort: a folder that cannot be opened or synced loses only that guarantee, not the
    /// file (the ledger's creation and an export's commit both go on).
    public static func sync(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
