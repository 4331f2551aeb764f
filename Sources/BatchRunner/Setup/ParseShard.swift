import Ledger

/// Parses `K/N` (0 <= K < N).
public func parseShard(_ text: String) throws -> Shard {
    let parts = text.split(separator: "/")
    guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 0, k < n else {
        throw RunSetupError("--shard must be K/N with 0 <= K < N (for example 0/4), not \(text)")
    }
    return Shard(index: k, count: n)
}
