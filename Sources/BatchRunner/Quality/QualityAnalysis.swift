import Ledger
import Recipe

/// How one sampled dimension (topic category, topic, persona, dynamic) came out: planned and
/// done counts per value, in the recipe's order, and whether done rows kept the planned mix.
public struct DimensionFigures: Sendable {
    public var name: String
    public var values: [String]
    public var planned: [Int]
    public var done: [Int]
    public var test: ChiSquareTest?

    /// The value done rows under-represent most (largest shortfall against its expected count,
    /// in standard deviations), with its share of done and of planned rows.
    public var mostUnderRepresented: (value: String, doneShare: Double, plannedShare: Double)? {
        let totalDone = Double(done.reduce(0, +)), totalPlanned = Double(planned.reduce(0, +))
        guard totalDone > 0, totalPlanned > 0 else { return nil }
        var best: (Int, Double)?
        for i in values.indices where planned[i] > 0 {
            let expected = Double(planned[i]) * totalDone / totalPlanned
            let z = (Double(done[i]) - expected) / expected.squareRoot()
            if z < best?.1 ?? 0 { best = (i, z) }
        }
        return best.map { (values[$0.0], Double(done[$0.0]) / totalDone, Double(planned[$0.0]) / totalPlanned) }
    }
}

/// Messages per conversation among done rows of one dynamic.
public struct ShapeFigures: Sendable {
    public var dynamic: String
    /// The number of messages the dynamic asks for ("2-turn"), nil when it names none.
    public var expected: Int?
    /// Rows by message count.
    public var messageCounts: [Int: Int] = [:]
    public var rows: Int { messageCounts.values.reduce(0, +) }
    /// Rows with the asked number of messages (nil when none is asked).
    public var matching: Int? { expected.map { messageCounts[$0] ?? 0 } }
}

/// A row that repeats an earlier one.
public struct DuplicateExample: Sendable {
    public var index: Int64
    public var of: Int64
    public var similarity: Double
}

/// Dataset quality measured against what the recipe asked for, over the done rows of one run.
public struct QualityFigures: Sendable {
    public var doneRows = 0
    public var plannedRows = 0
    /// Done rows whose line is not a conversation (none, unless the ledger was edited).
    public var unreadable = 0
    public var dimensions: [DimensionFigures] = []
    public var shapes: [ShapeFigures] = []
    /// Characters per conversation, user and assistant messages apart.
    public var userCharacters = Histogram.characters()
    public var assistantCharacters = Histogram.characters()
    public var messagesPerConversation: [Int: Int] = [:]
    public var nonASCIIRows = 0
    public var firstMessageChecked = 0
    public var firstMessageInStyle = 0
    public var exactDuplicates = 0
    public var nearDuplicates = 0
    public var nearDuplicateThreshold = 0.8
    /// The first ten exact and the first ten near-duplicates, in index order.
    public var duplicateExamples: [DuplicateExample] = []
    /// Rows failing each check.
    public var failing: [QualityCheck: Int] = [:]
}

public enum QualityAnalysis {
    /// Reads the done rows of `readers` (one run's ledgers) once, in global index order, and the
    /// indices not done (for the planned mix). Memory: the near-duplicate index (about 300 bytes
    /// per done row); everything else is counts.
    public static func analyse(
        readers: [LedgerReader], recipe: Recipe, nearDuplicateThreshold: Double = 0.8
    ) throws -> QualityFigures {
        var scanner = QualityScanner(recipe: recipe, nearDuplicateThreshold: nearDuplicateThreshold)
        for reader in readers {
            try reader.forEachUnfinishedIndex { scanner.planned(index: $0) }
        }
        var rows = try DoneRowMerge(readers)
        while let row = try rows.next() { _ = scanner.scan(row) }
        return scanner.figures()
    }
}

/// The checks of one done row after another, in global index order (a duplicate is judged
/// against the rows before it, so the lowest index of each group passes): `batch report` counts
/// them, `export --drop` leaves out the rows that fail, in the same pass as it writes.
public struct QualityScanner {
    private let recipe: Recipe
    private var result = QualityFigures()
    private var planned: [Tally]
    private var done: [Tally]
    private var shapes: [String: ShapeFigures]
    private var exact: [SIMD2<UInt64>: Int64] = [:]
    private var near: NearDuplicateIndex

    public init(recipe: Recipe, nearDuplicateThreshold: Double = 0.8) {
        self.recipe = recipe
        result.nearDuplicateThreshold = nearDuplicateThreshold
        let tallies = [recipe.topics.map(\.name), recipe.topics.flatMap(\.items), recipe.personas, recipe.dynamics].map(Tally.init)
        planned = tallies
        done = tallies
        shapes = Dictionary(uniqueKeysWithValues: recipe.dynamics.map { ($0, ShapeFigures(dynamic: $0, expected: RowRules.expectedMessages(dynamic: $0))) })
        near = NearDuplicateIndex(threshold: nearDuplicateThreshold)
    }

    /// A planned index that is not done: counts in the planned mix only.
    public mutating func planned(index: Int64) {
        Self.count(recipe.draw(index: UInt64(index)), into: &planned)
        result.plannedRows += 1
    }

    /// Judges a done row (after every lower index) and returns the checks it fails.
    public mutating func scan(_ row: DoneRow) -> [QualityCheck] {
        let draw = recipe.draw(index: UInt64(row.index))
        Self.count(draw, into: &planned)
        Self.count(draw, into: &done)
        result.plannedRows += 1
        result.doneRows += 1
        guard let facts = ConversationFacts(line: row.result.line) else {
            result.unreadable += 1
            return []
        }
        var failed: [QualityCheck] = []
        let messageCount = facts.messages.count
        result.messagesPerConversation[messageCount, default: 0] += 1
        shapes[draw.dynamic]?.messageCounts[messageCount, default: 0] += 1
        if let expected = shapes[draw.dynamic]?.expected, expected != messageCount { failed.append(.shapeMismatch) }
        result.userCharacters.add(facts.userCharacters)
        result.assistantCharacters.add(facts.assistantCharacters)
        if facts.nonASCII {
            result.nonASCIIRows += 1
            failed.append(.nonASCII)
        }
        if let first = facts.firstUserMessage {
            result.firstMessageChecked += 1
            if RowRules.firstMessageInStyle(first, examples: draw.firstMessageExamples) {
                result.firstMessageInStyle += 1
            } else {
                failed.append(.firstMessageStyle)
            }
        }
        let text = facts.text
        let key = ContentHash.of(text)
        let similar = near.add(id: row.index, signature: MinHash.signature(of: text.utf8))
        if let earlier = exact[key] {
            result.exactDuplicates += 1
            failed.append(.exactDuplicates)
            if result.exactDuplicates <= 10 { result.duplicateExamples.append(DuplicateExample(index: row.index, of: earlier, similarity: 1)) }
        } else {
            exact[key] = row.index
            if let similar {
                result.nearDuplicates += 1
                failed.append(.nearDuplicates)
                if result.nearDuplicates <= 10 {
                    result.duplicateExamples.append(DuplicateExample(index: row.index, of: similar.id, similarity: similar.similarity))
                }
            }
        }
        for check in failed { result.failing[check, default: 0] += 1 }
        return failed
    }

    /// The figures of every row scanned so far, with the chi-square test per dimension.
    public func figures() -> QualityFigures {
        var figures = result
        let names = ["topic category", "topic", "persona", "dynamic"]
        figures.dimensions = zip(names, zip(planned, done)).map { name, pair in
            DimensionFigures(
                name: name, values: pair.0.values, planned: pair.0.counts, done: pair.1.counts,
                test: ChiSquareTest(done: pair.1.counts, planned: pair.0.counts))
        }
        figures.shapes = recipe.dynamics.compactMap { shapes[$0] }
        return figures
    }

    private static func count(_ draw: Draw, into tallies: inout [Tally]) {
        tallies[0].add(draw.category)
        tallies[1].add(draw.topic)
        tallies[2].add(draw.persona)
        tallies[3].add(draw.dynamic)
    }
}

/// Counts per value of one dimension, in the recipe's order (a value listed twice counts once).
struct Tally {
    let values: [String]
    private let position: [String: Int]
    private(set) var counts: [Int]

    init(_ values: [String]) {
        var seen: [String: Int] = [:], unique: [String] = []
        for value in values where seen[value] == nil {
            seen[value] = unique.count
            unique.append(value)
        }
        self.values = unique
        position = seen
        counts = Array(repeating: 0, count: unique.count)
    }

    mutating func add(_ value: String) {
        if let i = position[value] { counts[i] += 1 }
    }
}

/// A 128-bit hash of a conversation's text (two FNV-1a lanes), for exact-duplicate counting
/// without keeping the texts.
enum ContentHash {
    static func of(_ text: String) -> SIMD2<UInt64> {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325, b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 &+ 0x9e37_79b9
        }
        return SIMD2(a, b)
    }
}
