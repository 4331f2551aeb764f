import BatchRunner

/// A command's `--metrics-listen`: the metrics its runs feed and the server that shows them.
struct MetricsEndpoint {
    let metrics: RunMetrics
    let server: MetricsServer

    /// Starts serving and says where on standard error; nil without the flag. Commands call it
    /// before they create or change anything, so that a port in use leaves nothing behind.
    static func start(_ flag: String?) async throws -> MetricsEndpoint? {
        guard let flag else { return nil }
        guard let address = MetricsAddress(flag) else { return nil }  // refused by SettingsOptions.validate()
        let metrics = RunMetrics()
        let server = try await MetricsServer.start(address, metrics: metrics)
        Terminal.error("batch: metrics on \(server.url)")
        return MetricsEndpoint(metrics: metrics, server: server)
    }

    /// What `RunDriver` hands the run.
    var observer: any RunObserver { metrics }

    /// Closes the socket without waiting (for `defer`: the process is about to exit).
    func stop() { server.stop() }
}
