import Testing
@testable import BatchRunner

@Suite("Budget reservations (--max-cost with requests in flight)")
struct CostReservationsTests {
    @Test("before any cost is known, one request at a time; its answer sets the estimate")
    func oneAtFirst() {
        var budget = CostReservations(budget: 1.0)
        #expect(budget.estimate == nil)
        let first = budget.reserve(spent: 0)
        #expect(first == 0)
        #expect(budget.reserve(spent: 0) == nil, "a second request waits for the first cost")
        budget.settle(first!, actual: 0.01)
        #expect(budget.estimate == 0.01)
        #expect(budget.reserve(spent: 0.01) == 0.01)
    }

    @Test("reservations fill the budget and stop there: spend plus reserved never passes it", arguments: [0.003, 0.01, 0.25])
    func fillsBudget(cost: Double) {
        var budget = CostReservations(budget: 1.0)
        budget.settle(budget.reserve(spent: 0)!, actual: cost)
        var spent = cost
        var held: [Double] = []
        while let r = budget.reserve(spent: spent) { held.append(r) }
        #expect(spent + Double(held.count) * cost <= 1.0 + 1e-9)
        #expect(spent + Double(held.count + 1) * cost > 1.0 + 1e-9, "as many as fit, not fewer")
        // Every request answers at its estimate: the spend ends within the budget.
        for r in held {
            budget.settle(r, actual: cost)
            spent += cost
        }
        #expect(spent <= 1.0 + 1e-9)
        #expect(budget.reserved < 1e-9 && budget.holders == 0)
    }

    @Test("the estimate is the 90th percentile of recent costs, so a few dearer rows are covered")
    func percentile() {
        var budget = CostReservations(budget: 100)
        for cost in [1.0, 1, 1, 1, 1, 1, 1, 1, 1, 5] {
            budget.settle(budget.reserve(spent: 0) ?? 0, actual: cost)
        }
        #expect(budget.estimate == 1.0)
        for cost in [5.0, 5] { budget.settle(0, actual: cost) }
        #expect(budget.estimate == 5.0)
    }

    @Test("answers without a cost leave nothing to hold the budget to: the estimate is 0")
    func noCosts() {
        var budget = CostReservations(budget: 1.0)
        budget.settle(budget.reserve(spent: 0)!, actual: nil)
        #expect(budget.estimate == nil, "nothing recorded: still one at a time")
        budget.settle(budget.reserve(spent: 0)!, actual: 0)
        #expect(budget.estimate == 0)
        #expect(budget.reserve(spent: 0) == 0 && budget.reserve(spent: 0) == 0)
    }
}
