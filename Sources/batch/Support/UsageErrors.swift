import ArgumentParser
import BatchRunner

/// Runs `body`, turning a `RunSetupError` that is a usage error (flags that do not fit together
/// or with the ledger) into ArgumentParser's `ValidationError`: exit 64 with the usage, as a bad
/// flag gets.
func reportingUsageErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as RunSetupError where error.isUsage {
        throw ValidationError(error.message)
    }
}
