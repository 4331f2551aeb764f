import ArgumentParser

// Placeholder, replaced by the seed-parity work (issue 3).
struct PreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "preview", abstract: "Not built yet.")
    func run() async throws { throw ValidationError("batch preview is not built yet") }
}
