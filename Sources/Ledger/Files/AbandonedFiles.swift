#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Temporary files carry the pid of the process that writes them (`<stem><pid><tail>`); when
/// that process was killed (`kill -9`, a lost node) nothing else removes them. The next process
/// that uses the same names calls `remove` to delete those whose writer is gone.
public enum AbandonedFiles {
    /// Deletes the entries of `folder` named `stem` + a pid + anything, whose pid is not a
    /// running process (nor this one). Returns the names removed.
    @discardableResult
    public static func remove(in folder: String, stem: String) -> [String] {
        guard let directory = opendir(folder) else { return [] }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            names.append(name)
        }
        closedir(directory)
        var removed: [String] = []
        for name in names where name.hasPrefix(stem) {
            let digits = name.dropFirst(stem.count).prefix { $0.isASCII && $0.isNumber }
            guard let pid = Int32(digits), pid > 0, pid != getpid(), !isRunning(pid) else { continue }
            let path = folder == "/" ? "/" + name : folder + "/" + name
            if unlink(path) == 0 { removed.append(name) }
        }
        return removed
    }

    /// True when `pid` is a live process (signal 0 reaches it, or it exists but is not ours).
    public static func isRunning(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
