import Foundation

/// How status, live progress and the report write a length of time: `42s`, `3m07s`, `2h05m`.
/// (Not `Progress`: that name is Foundation's.)
public enum DurationText {
    public static func of(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3_600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3_600)h\(String(format: "%02d", (s % 3_600) / 60))m"
    }
}
