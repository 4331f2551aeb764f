import Foundation
import Ledger

/// One file an export writes, buffered. A stream destination receives bytes as they come; a
/// replaced file is written to `.<name>.batch-export-<pid>.partial` beside its target and only
/// renamed into place by `ExportFile.commit`, which does the output and the metadata together.
final class ExportFile {
    let destination: ExportDestination
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var temporary: String?
    private var finished = false

    /// The stem of every temporary name an export uses for `name`; `AbandonedFiles` removes
    /// those a killed export left behind.
    static func temporaryStem(_ name: String) -> String { ".\(name).batch-export-" }

    init(_ destination: ExportDestination) throws {
        self.destination = destination
        switch destination {
        case let .stream(_, fd, _):
            descriptor = fd
        case let .replace(path, folder, name, mode):
            // Leftovers of exports that were killed: ours, and the older `<name>.partial-<pid>`.
            AbandonedFiles.remove(in: folder, stem: ExportFile.temporaryStem(name))
            AbandonedFiles.remove(in: folder, stem: "\(name).partial-")
            let temporary = "\(folder)/\(ExportFile.temporaryStem(name))\(getpid()).partial"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode ?? 0o644)
            guard fd >= 0 else {
                throw ExportError("cannot write \(path): \(String(cString: strerror(errno))); its folder \(folder) must be writable")
            }
            if let mode { fchmod(fd, mode) }
            descriptor = fd
            self.temporary = temporary
        }
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ bytes: [UInt8]) throws {
        buffer += bytes
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { raw in
                systemWrite(descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw ExportError("cannot write \(destination.path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Makes every file whole and in place, or throws with none of the replaced files changed.
    /// Streams are flushed; temporary files are flushed and synced, then renamed over their
    /// targets one right after the other. If a rename fails, the targets already renamed get
    /// their old contents back (kept as hard links until the end).
    static func commit(_ files: [ExportFile]) throws {
        for file in files { try file.flush() }
        for file in files where file.temporary != nil {
            guard fsync(file.descriptor) == 0 else {
                throw ExportError("cannot write \(file.destination.path): \(String(cString: strerror(errno)))")
            }
        }
        var backups: [(file: ExportFile, backup: String?, existed: Bool)] = []
        for file in files {
            guard let temporary = file.temporary, case let .replace(path, folder, name, _) = file.destination else { continue }
            let target = "\(folder)/\(name)"
            let backup = "\(folder)/\(ExportFile.temporaryStem(name))\(getpid()).old"
            let existed = FileIdentity(path: target) != nil
            let kept = link(target, backup) == 0 ? backup : nil
            guard rename(temporary, target) == 0 else {
                let reason = String(cString: strerror(errno))
                if let kept { unlink(kept) }
                for (done, old, existed) in backups.reversed() { done.restore(old, existed: existed) }
                throw ExportError("cannot move the finished file into place at \(path): \(reason); nothing was replaced")
            }
            file.temporary = nil
            backups.append((file, kept, existed))
        }
        for (file, backup, _) in backups {
            if let backup { unlink(backup) }
            if case let .replace(_, folder, _, _) = file.destination { FolderSync.sync(folder) }
        }
        for file in files { file.close() }
    }

    /// Puts back what the target held before a failed commit (or removes it if it was new).
    private func restore(_ backup: String?, existed: Bool) {
        guard case let .replace(_, folder, name, _) = destination else { return }
        if let backup {
            rename(backup, "\(folder)/\(name)")
        } else if !existed {
            unlink("\(folder)/\(name)")
        }
    }

    private func close() {
        guard !finished else { return }
        finished = true
        if case .stream(_, _, false) = destination { return }
        systemClose(descriptor)
    }

    deinit {
        close()
        if let temporary { unlink(temporary) }
    }
}

private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }
private func systemClose(_ fd: Int32) { close(fd) }
