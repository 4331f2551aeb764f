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
    /// The checks each flagged row fails (only collected when asked: `export --drop`).
    public var flagged: [Int64: [QualityCheck]] = [:]
}

public enum QualityAnalysis {
    /// Reads the done rows of `readers` (one run's ledgers) once, in global index order.
    /// Memory: the near-duplicate index (about 300 bytes per done row) and the flagged rows
    /// when `collectFlags`; everything else is counts.
    public static func analyse(
        readers: [LedgerReader], recipe: Recipe, nearDuplicateThreshold: Double = 0.8, collectFlags: Bool = false
    ) throws -> QualityFigures {
        var figures = QualityFigures()
        figures.nearDuplicateThreshold = nearDuplicateThreshold
        let categories = recipe.topics.map(\.name)
        let topics = recipe.topics.flatMap(\.items)
        let tallies = [categories, topics, recipe.personas, recipe.dynamics].map(Tally.init)
        var planned = tallies, done = tallies
        func count(_ draw: Draw, into tallies: inout [Tally]) {
            tallies[0].add(draw.category)
            tallies[1].add(draw.topic)
            tallies[2].add(draw.persona)
            tallies[3].add(draw.dynamic)
        }
        var shapes = Dictionary(uniqueKeysWithValues: recipe.dynamics.map { ($0, ShapeFigures(dynamic: $0, expected: RowRules.expectedMessages(dynamic: $0))) })
        var exact: [SIMD2<UInt64>: Int64] = [:]
        var near = NearDuplicateIndex(threshold: nearDuplicateThreshold)

        for reader in readers {
            try reader.forEachUnfinishedIndex { index in
                count(recipe.draw(index: UInt64(index)), into: &planned)
                figures.plannedRows += 1
            }
        }
        var rows = try DoneRowMerge(readers)
        while let row = try rows.next() {
            let draw = recipe.draw(index: UInt64(row.index))
            count(draw, into: &planned)
            count(draw, into: &done)
            figures.plannedRows += 1
            figures.doneRows += 1
            guard let facts = ConversationFacts(line: row.result.line) else {
                figures.unreadable += 1
                continue
            }
            var failed: [QualityCheck] = []
            let messageCount = facts.messages.count
            figures.messagesPerConversation[messageCount, default: 0] += 1
            shapes[draw.dynamic]?.messageCounts[messageCount, default: 0] += 1
            if let expected = shapes[draw.dynamic]?.expected, expected != messageCount { failed.append(.shapeMismatch) }
            figures.userCharacters.add(facts.userCharacters)
            figures.assistantCharacters.add(facts.assistantCharacters)
            if facts.nonASCII {
                figures.nonASCIIRows += 1
                failed.append(.nonASCII)
            }
            if let first = facts.firstUserMessage {
                figures.firstMessageChecked += 1
                if RowRules.firstMessageInStyle(first, examples: draw.firstMessageExamples) {
                    figures.firstMessageInStyle += 1
                } else {
                    failed.append(.firstMessageStyle)
                }
            }
            let text = facts.text
            let key = ContentHash.of(text)
            let signature = MinHash.signature(of: text.utf8)
            let similar = near.add(id: row.index, signature: signature)
            if let earlier = exact[key] {
                figures.exactDuplicates += 1
                failed.append(.exactDuplicates)
                if figures.exactDuplicates <= 10 { figures.duplicateExamples.append(DuplicateExample(index: row.index, of: earlier, similarity: 1)) }
            } else {
                exact[key] = row.index
                if let similar {
                    figures.nearDuplicates += 1
                    failed.append(.nearDuplicates)
                    if figures.nearDuplicates <= 10 {
                        figures.duplicateExamples.append(DuplicateExample(index: row.index, of: similar.id, similarity: similar.similarity))
                    }
                }
            }
            for check in failed { figures.failing[check, default: 0] += 1 }
            if collectFlags && !failed.isEmpty { figures.flagged[row.index] = failed }
        }
        let names = ["topic category", "topic", "persona", "dynamic"]
        figures.dimensions = zip(names, zip(planned, done)).map { name, pair in
            DimensionFigures(
                name: name, values: pair.0.values, planned: pair.0.counts, done: pair.1.counts,
                test: ChiSquareTest(done: pair.1.counts, planned: pair.0.counts))
        }
        figures.shapes = recipe.dynamics.compactMap { shapes[$0] }
        return figures
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
