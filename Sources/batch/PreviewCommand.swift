import ArgumentParser
import Foundation
import Provider
import Recipe

/// `batch preview`: what one index, or a range of them, would send, without any request.
struct PreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Show what an index would send: its sampled topic, persona, dynamic, examples and prompt.",
        discussion: """
        Index N gets exactly what nanochat's generator sends for random.Random(N). Nothing is sent and no API key is needed, so this is the way to check a new recipe.

        With --json each index is one JSON object per line, with the keys index, topic, persona, dynamic, first_message_examples, prompt and payload (the full request body).

        Examples:
          batch preview --index 7
          batch preview --recipe my-recipe/recipe.json --index 0-99 --json > p.jsonl
        """
    )

    @Option(name: .long, help: ArgumentHelp("The recipe file (JSON). Default: the built-in nanochat-identity recipe.", valueName: "path"))
    var recipe: String?

    @Option(name: .long, help: ArgumentHelp(
        "One index N, or an inclusive range A-B; from 0 to 9223372036854775807 (2^63-1).",
        valueName: "N|A-B"))
    var index: String = "0"

    @Option(name: .long, help: ArgumentHelp(
        "A knowledge file to use instead of the recipe's knowledge_file.", valueName: "path"))
    var knowledge: String?

    @Flag(name: .long, help: "Print one JSON object per index, one per line.")
    var json = false

    @Flag(name: .long, help: ArgumentHelp("Print sampling time to standard error.", visibility: .hidden))
    var timing = false

    func validate() throws {
        do {
            _ = try IndexRange(parsing: index)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let range = try IndexRange(parsing: index)
        let loaded: Recipe
        do {
            loaded = try Recipe.load(pathOrBuiltIn: recipe, knowledgePath: knowledge)
        } catch {
            FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
            throw ExitCode.failure
        }

        var output = OutputBuffer()
        let clock = ContinuousClock()
        var sampling = Duration.zero
        var formatting = Duration.zero
        var first = true
        for i in range {
            let start = clock.now
            let sample = loaded.sample(index: i)
            let sampled = clock.now
            let bytes = json ? loaded.previewJSONLine(for: sample) : Array(loaded.previewText(for: sample).utf8)
            sampling += sampled - start
            formatting += clock.now - sampled
            if !json && !first { output.append(Array("\n".utf8)) }
            first = false
            output.append(bytes)
            output.append([0x0A])
            try output.flushIfFull()
        }
        try output.flush()
        if timing {
            let n = Double(range.count)
            let line = String(
                format: "%llu indices: sampling and prompts %.3f s (%.1f us each), formatting output %.3f s (%.1f us each)\n",
                range.count, sampling.inSeconds, sampling.inSeconds * 1e6 / n, formatting.inSeconds, formatting.inSeconds * 1e6 / n)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}

/// Collects output and writes it to standard output in large chunks.
private struct OutputBuffer {
    private var bytes: [UInt8] = []
    private let limit = 1 << 20

    mutating func append(_ more: [UInt8]) { bytes.append(contentsOf: more) }

    mutating func flushIfFull() throws {
        if bytes.count >= limit { try flush() }
    }

    mutating func flush() throws {
        guard !bytes.isEmpty else { return }
        try FileHandle.standardOutput.write(contentsOf: bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}
