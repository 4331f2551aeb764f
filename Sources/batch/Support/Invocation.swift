import Foundation

/// How a hint should spell this program so it works when pasted: `batch` when that name on the
/// PATH is this very binary (after `make install`), else the binary's own path.
enum Invocation {
    static var command: String {
        guard let me = realPath("/proc/self/exe") ?? realPath(CommandLine.arguments[0]) else { return "batch" }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for folder in path.split(separator: ":") where !folder.isEmpty {
            if let found = realPath(String(folder) + "/batch") {
                return found == me ? "batch" : shortened(me)
            }
        }
        return shortened(me)
    }

    /// True when hints can say plain `batch`.
    static var isOnPath: Bool { command == "batch" }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `path` relative to the working directory when it lies below it, else as it is.
    private static func shortened(_ path: String) -> String {
        let cwd = realPath(FileManager.default.currentDirectoryPath) ?? FileManager.default.currentDirectoryPath
        return path.hasPrefix(cwd + "/") ? String(path.dropFirst(cwd.count + 1)) : path
    }
}
