#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file as the kernel knows it: device and inode. Two paths name the same file exactly when
/// their identities are equal, however they are spelled (symbolic links, hard links, `..`,
/// bind mounts), so every "is this the ledger?" question is answered with this, never with
/// path strings.
public struct FileIdentity: Hashable, Sendable, CustomStringConvertible {
    public let device: UInt64
    public let inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// The file `path` names, following symbolic links; nil when there is none.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    /// The file an open descriptor refers to.
    public init?(descriptor: Int32) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        self.init(info)
    }

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    public var description: String { "device \(device) inode \(inode)" }
}

/// A name inside a folder, the folder known by its identity: where a file that does not exist
/// yet would be created. Equal for `a/x`, `a/../a/x` and `link-to-a/x`.
public struct DirectoryEntry: Hashable, Sendable {
    public let folder: FileIdentity
    public let name: String

    public init(folder: FileIdentity, name: String) {
        self.folder = folder
        self.name = name
    }

    /// The entry `path` names (its folder resolved; the last component taken as is); nil when
    /// the folder does not exist.
    public init?(path: String) {
        let (folder, name) = PathParts.split(path)
        guard let identity = FileIdentity(path: folder) else { return nil }
        self.init(folder: identity, name: name)
    }
}
