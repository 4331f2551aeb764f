import ArgumentParser
import BatchRunner
import Foundation
import Provider
import Recipe

/// Fail fast on the account: before a run plans or sends anything, one round of cheap calls
/// checks the key, what it may still spend, and the model's prices (`ChatClient.checkAccount`).
/// A refused key, an account with nothing left, or a rough estimate above what is left stops
/// the run with exit 3 (nothing planned, nothing marked failed) unless `--ignore-credits`.
enum AccountGate {
    /// Returns what the provider said (nil when it says nothing), after refusing a run that cannot
    /// be paid, and takes the model's prices into `settings` when the provider lists them.
    ///   - client: the run's own client: the check's connection is the run's first.
    ///   - rows: rows still to generate.
    static func check(
        client: ChatClient, settings: inout RunSettings, recipe: Recipe, rows: Int64, ignoreCredits: Bool
    ) async throws -> AccountStatus? {
        let status: AccountStatus
        do {
            status = try await client.checkAccount(model: recipe.model)
        } catch let refused as AccountRefused {
            Terminal.error("batch: \(refused.description); nothing was planned or sent")
            throw ExitCode(BatchExitCode.providerRefused)
        }
        settings.prices = status.prices ?? settings.prices
        guard let spendable = status.spendable, !ignoreCredits else { return status }
        let rough = status.prices.map { Self.estimate(recipe: recipe, rows: rows, prices: $0) }
        if spendable <= 0 {
            try refuse("the key or account has \(String(format: "%.4f", spendable)) credits left")
        }
        if let rough, rough.cost > spendable {
            let money = { (value: Double) in String(format: "%.4f", value) }
            try refuse("a rough estimate of this run, \(money(rough.cost)) for \(rows) rows (\(rough.basis)), is above the \(money(spendable)) the key or account may still spend; add credits, or run a --pilot K for a measured projection")
        }
        return status
    }

    private static func refuse(_ reason: String) throws -> Never {
        Terminal.error("batch: \(reason). Nothing was planned or sent; pass --ignore-credits to start anyway (exit code \(BatchExitCode.providerRefused))")
        throw ExitCode(BatchExitCode.providerRefused)
    }

    /// Before any answer: each row's prompt (its request body's bytes / 4, as tokens) at the
    /// prompt price, plus the recipe's `max_tokens` at the completion price when it sets one (an
    /// upper bound), else no completion at all (a lower bound). The prompt cache is left out.
    static func estimate(recipe: Recipe, rows: Int64, prices: ModelPrices) -> (cost: Double, basis: String) {
        let promptTokens = recipe.requestBody(for: recipe.sample(index: 0)).count / 4
        let maxTokens = recipe.request.lazy.compactMap { field -> Int? in
            guard field.0 == "max_tokens" || field.0 == "max_completion_tokens", case .int(let n) = field.1 else { return nil }
            return Int(n)
        }.first
        let perRow = prices.cost(promptTokens: promptTokens, completionTokens: maxTokens ?? 0)
        let basis = maxTokens.map { "about \(promptTokens) prompt tokens and up to \($0) completion tokens a row" }
            ?? "about \(promptTokens) prompt tokens a row, completions not counted"
        return (perRow * Double(rows), basis)
    }

    /// After a pilot: refuses to go on when the rest of the run, as projected, costs more than is left.
    static func checkAfterPilot(status: AccountStatus?, spentInPilot: Double, restCost: Double, ignoreCredits: Bool) throws {
        guard !ignoreCredits, let spendable = status?.spendable else { return }
        let left = spendable - spentInPilot
        guard restCost > left else { return }
        Terminal.error(String(format: "batch: the rest of the run is projected to cost %.4f, above the %.4f the key or account has left after the pilot; add credits, or pass --ignore-credits to go on anyway (exit code %d). `batch resume` continues", restCost, left, BatchExitCode.providerRefused))
        throw ExitCode(BatchExitCode.providerRefused)
    }
}
