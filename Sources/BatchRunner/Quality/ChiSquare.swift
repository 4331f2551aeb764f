import Foundation

/// Pearson's chi-square test of whether done rows kept the distribution the sampler drew for
/// the planned rows: a failure pattern that falls on one topic (say the provider refuses it)
/// leaves that topic under-represented in the dataset.
public struct ChiSquareTest: Sendable, Equatable {
    public var statistic: Double
    public var degreesOfFreedom: Int
    /// The probability of a deviation at least this large if rows were lost at random.
    public var pValue: Double

    /// Done counts against the planned counts of the same categories (same order). The
    /// expected done count of a category is its planned count times the overall done share;
    /// categories with nothing planned are left out. nil when fewer than two categories are
    /// planned or nothing is done.
    public init?(done: [Int], planned: [Int]) {
        precondition(done.count == planned.count)
        let totalDone = Double(done.reduce(0, +)), totalPlanned = Double(planned.reduce(0, +))
        guard totalDone > 0, totalPlanned > 0 else { return nil }
        var statistic = 0.0, categories = 0
        for (d, p) in zip(done, planned) where p > 0 {
            // The 2 x k contingency test (done and not done against the category): both rows' terms.
            let share = totalDone / totalPlanned
            let expectedDone = Double(p) * share, expectedLeft = Double(p) * (1 - share)
            let left = Double(p - d)
            statistic += (Double(d) - expectedDone) * (Double(d) - expectedDone) / expectedDone
            if expectedLeft > 0 { statistic += (left - expectedLeft) * (left - expectedLeft) / expectedLeft }
            categories += 1
        }
        guard categories >= 2 else { return nil }
        self.statistic = statistic
        self.degreesOfFreedom = categories - 1
        self.pValue = ChiSquareTest.survival(statistic, degreesOfFreedom: categories - 1)
    }

    /// P(X >= x) for X chi-square with `degreesOfFreedom`: the regularized upper incomplete
    /// gamma function Q(k/2, x/2) (series below a + 1, continued fraction above, as in
    /// Numerical Recipes' gammq).
    public static func survival(_ x: Double, degreesOfFreedom: Int) -> Double {
        guard x > 0 else { return 1 }
        let a = Double(degreesOfFreedom) / 2, z = x / 2
        let logPrefix = -z + a * log(z) - lgamma(a)
        if z < a + 1 {
            var term = 1 / a, sum = term, n = a
            for _ in 0..<1_000 {
                n += 1
                term *= z / n
                sum += term
                if abs(term) < abs(sum) * 1e-15 { break }
            }
            return max(0, min(1, 1 - sum * exp(logPrefix)))
        }
        // Lentz's continued fraction.
        let tiny = 1e-300
        var b = z + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1...1_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return max(0, min(1, exp(logPrefix) * h))
    }
}
