import Foundation

/// A request body as libcurl reads it: bytes shared with other requests' bodies, then the
/// request's own. Immutable; owned by one ``Transfer``.
///
/// Every chat request of a run starts the same way: the model, then a prompt whose fixed part
/// (instructions, the recipe's knowledge base: ~11 KB of the ~12 KB) comes before the sampled
/// part. Kept whole, 1,024 requests in flight hold 12 MB of bodies; sharing the common prefix
/// leaves about 1 KB each.
final class RequestBody: @unchecked Sendable {
    let prefix: SharedBytes?
    let prefixCount: Int
    /// The bytes after the prefix.
    let own: UnsafeMutableRawBufferPointer
    let count: Int

    init(_ bytes: [UInt8], sharing cache: BodyPrefixCache?) {
        let (prefix, prefixCount) = cache?.prefix(for: bytes) ?? (nil, 0)
        self.prefix = prefix
        self.prefixCount = prefixCount
        count = bytes.count
        own = .allocate(byteCount: max(1, bytes.count - prefixCount), alignment: 1)
        bytes.withUnsafeBytes { own.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[prefixCount...])) }
    }

    deinit { own.deallocate() }

    /// The whole body in one piece, when nothing is shared (libcurl's CURLOPT_POSTFIELDS).
    var contiguous: UnsafeMutableRawPointer? { prefixCount == 0 ? own.baseAddress : nil }

    /// Copies up to `capacity` bytes from `offset` into `destination`; returns how many.
    func read(at offset: Int, into destination: UnsafeMutableRawPointer, capacity: Int) -> Int {
        var copied = 0
        var position = offset
        if position < prefixCount, let prefix {
            let n = min(capacity, prefixCount - position)
            destination.copyMemory(from: prefix.bytes.baseAddress! + position, byteCount: n)
            copied = n
            position += n
        }
        if copied < capacity, position < count {
            let n = min(capacity - copied, count - position)
            (destination + copied).copyMemory(from: own.baseAddress! + (position - prefixCount), byteCount: n)
            copied += n
        }
        return copied
    }
}

/// Bytes several request bodies begin with. Immutable.
final class SharedBytes: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer

    init(copying source: [UInt8]) {
        bytes = .allocate(byteCount: max(1, source.count), alignment: 1)
        source.withUnsafeBytes { bytes.copyMemory(from: $0) }
    }

    deinit { bytes.deallocate() }

    /// How many leading bytes `other` has in common with these.
    func commonPrefixCount(with other: [UInt8]) -> Int {
        other.withUnsafeBytes { theirs in
            let limit = min(bytes.count, theirs.count)
            var i = 0
            // Eight bytes at a time, then byte by byte from the first differing word.
            while i + 8 <= limit,
                  bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) == theirs.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                i += 8
            }
            while i < limit, bytes[i] == theirs[i] { i += 1 }
            return i
        }
    }
}

/// The prefix new bodies may share: the first body seen, until one arrives that shares less
/// than `minimumShared` bytes with it, which then takes its place. Any thread.
final class BodyPrefixCache: @unchecked Sendable {
    let minimumShared: Int
    private let lock = NSLock()
    private var current: SharedBytes?

    init(minimumShared: Int = 1_024) { self.minimumShared = minimumShared }

    /// The shared bytes `body` begins with, and how many of them.
    func prefix(for body: [UInt8]) -> (SharedBytes?, Int) {
        guard body.count >= minimumShared else { return (nil, 0) }
        lock.lock()
        let candidate = current
        lock.unlock()
        if let candidate {
            let common = candidate.commonPrefixCount(with: body)
            if common >= minimumShared { return (candidate, common) }
        }
        let fresh = SharedBytes(copying: body)
        lock.lock()
        current = fresh
        lock.unlock()
        return (fresh, body.count)
    }
}
