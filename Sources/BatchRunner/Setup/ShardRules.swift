import Foundation
import Ledger

/// Which shard of a Slurm array a command is for, where its ledger is, and when its shards share
/// their limits: the rules behind `--shard K/N` and `{shard}` in `--ledger`.
public enum ShardRules {
    /// Parses `K/N` (0 <= K < N).
    public static func parse(_ text: String) throws -> Shard {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 0, k < n else {
            throw RunSetupError("--shard must be K/N with 0 <= K < N (for example 0/4), not \(text)")
        }
        return Shard(index: k, count: n)
    }

    /// `--shard K/N` when given, else the Slurm array task's (`SLURM_ARRAY_TASK_ID` of
    /// `SLURM_ARRAY_TASK_COUNT`, both needed); nil when neither: the run is not sharded.
    public static func shard(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Shard? {
        if let flag { return try parse(flag) }
        if let id = environment["SLURM_ARRAY_TASK_ID"].flatMap(Int.init),
           let count = environment["SLURM_ARRAY_TASK_COUNT"].flatMap(Int.init) {
            return try parse("\(id)/\(count)")
        }
        return nil
    }

    /// `{shard}` in a ledger path becomes the shard's index. A placeholder without a shard is a
    /// usage error.
    public static func ledgerPath(_ path: String, shard: Shard?) throws -> String {
        guard path.contains("{shard}") else { return path }
        guard let shard else {
            throw RunSetupError(
                "--ledger \(path) has a {shard} placeholder but no --shard was given (nor SLURM_ARRAY_TASK_ID)", usage: true)
        }
        return path.replacingOccurrences(of: "{shard}", with: String(shard.index))
    }

    /// The array a new run's shard belongs to, so that `--rpm`, `--tpm` and `--max-cost` hold for
    /// all its shards together: only with more than one shard and `{shard}` in the ledger path
    /// (each shard must find its siblings' ledgers); nil otherwise, and the limits are the
    /// ledger's own. A relative pattern is made absolute against `workingDirectory`.
    public static func array(ledgerPattern: String, shard: Shard?, num: Int64, workingDirectory: String) -> ArrayRun? {
        guard let shard, shard.count > 1, ledgerPattern.contains("{shard}") else { return nil }
        let pattern = ledgerPattern.hasPrefix("/") ? ledgerPattern : workingDirectory + "/" + ledgerPattern
        return ArrayRun(ledgerPattern: pattern, shard: shard.index, shards: shard.count, num: num)
    }

    /// Refuses a ledger that holds another shard than the one asked for (a usage error).
    public static func check(ledgerPath path: String, holds stored: Shard?, expected: Shard?) throws {
        guard let expected, stored != expected else { return }
        throw RunSetupError(
            "\(path) holds shard \(stored?.description ?? "none (unsharded)"), not \(expected); point --ledger at shard \(expected)'s ledger",
            usage: true)
    }
}
