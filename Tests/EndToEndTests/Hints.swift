import Foundation

/// The commands batch suggests in its output, and the one change a test makes to them.
enum Hints {
    /// The commands in `output`: the indented lines under a line starting with `Next:`, and
    /// the `backticked` commands of `finished:` lines.
    static func commands(in output: String) -> [String] {
        var commands: [String] = []
        var underNext = false
        for line in output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("Next:") {
                underNext = true
                continue
            }
            if underNext, line.hasPrefix("  ") {
                commands.append(line.trimmingCharacters(in: .whitespaces))
                continue
            }
            underNext = false
            if line.hasPrefix("finished: ") {
                commands += backticked(line)
            }
        }
        return commands
    }

    /// The `...` parts of `line`.
    static func backticked(_ line: String) -> [String] {
        line.split(separator: "`", omittingEmptySubsequences: false).enumerated()
            .filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// `command` pointed at a local simulator: `--base-url URL` after each `batch run`, the only
    /// change (the key in the command, if any, is left as it is: a loopback URL needs none).
    static func local(_ command: String, baseURL: String) -> String {
        command.replacingOccurrences(
            of: #"\bbatch run\b"#, with: "batch run --base-url '\(baseURL)'", options: .regularExpression)
    }
}
