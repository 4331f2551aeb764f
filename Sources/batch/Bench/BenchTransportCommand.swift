import ArgumentParser

// Placeholder, replaced by the provider work (issue 4).
struct BenchTransportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "transport", abstract: "Not built yet.")
    func run() async throws { throw ValidationError("not built yet") }
}
