import ArgumentParser

// Placeholder, replaced by the provider/simulator work (issue 4).
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "simulate", abstract: "Not built yet.")
    func run() async throws { throw ValidationError("batch simulate is not built yet") }
}
