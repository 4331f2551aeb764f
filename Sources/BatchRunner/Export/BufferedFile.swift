import Foundation

/// Writes a file under a temporary name and renames it into place on `commit()`, so a crash
/// never leaves half a file where the user expects a whole one.
final class AtomicFileWriter {
    let path: String
    private let temporary: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var committed = false

    init(path: String) throws {
        self.path = path
        temporary = path + ".partial-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw RunSetupError("cannot write \(path): its folder must exist and be writable")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ bytes: [UInt8]) throws {
        buffer += bytes
        if buffer.count >= 1 << 20 { try flush() }
    }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, syncs and renames the file into place.
    func commit() throws {
        try flush()
        try handle.synchronize()
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw RunSetupError("cannot move the finished file into place at \(path): \(String(cString: strerror(errno)))")
        }
        committed = true
    }

    deinit {
        if !committed {
            try? handle.close()
            unlink(temporary)
        }
    }
}
