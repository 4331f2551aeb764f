/// `--max-cost` that holds with many requests in flight: each request reserves its expected cost
/// before it is sent and settles to the real cost when it answers, so the spend never passes the
/// budget by more than one request's deviation from the estimate.
///
/// The estimate is the 90th percentile of the last answers' costs. Before any cost is known one
/// request goes at a time (its answer gives the first estimate); a provider whose answers carry
/// no cost cannot be held to a budget, and the estimate is then 0. Pure value.
struct CostReservations: Equatable {
    /// The budget; a Slurm array task's share of the array's moves as its siblings finish.
    var budget: Double
    /// Expected cost of the requests in flight.
    private(set) var reserved: Double = 0
    /// Requests in flight holding a reservation.
    private(set) var holders = 0
    private var recent: [Double] = []
    private var next = 0
    private let memory: Int
    private var answeredWithoutCost = false

    init(budget: Double, memory: Int = 256) {
        self.budget = budget
        self.memory = max(1, memory)
    }

    /// What one more request is expected to cost: nil until the first answer.
    var estimate: Double? {
        if recent.isEmpty { return answeredWithoutCost ? 0 : nil }
        let sorted = recent.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.9).rounded(.up)) - 1)]
    }

    /// Whether one more request may go out with `spent` already recorded.
    func allows(spent: Double) -> Bool {
        guard let estimate else { return holders == 0 && spent < budget }
        return spent + reserved + estimate <= budget + 1e-9 * max(1, budget)  // sums of float costs
    }

    /// Reserves one request's expected cost; nil when the budget does not allow it.
    mutating func reserve(spent: Double) -> Double? {
        guard allows(spent: spent) else { return nil }
        let amount = estimate ?? 0
        reserved += amount
        holders += 1
        return amount
    }

    /// A request that held `reservation` ended; `actual` is what it cost (nil: nothing recorded).
    mutating func settle(_ reservation: Double, actual: Double?) {
        reserved = max(0, reserved - reservation)
        holders = max(0, holders - 1)
        guard let actual else { return }
        if actual <= 0 && recent.isEmpty {
            answeredWithoutCost = true
            return
        }
        if recent.count < memory {
            recent.append(actual)
        } else {
            recent[next] = actual
            next = (next + 1) % memory
        }
    }
}
