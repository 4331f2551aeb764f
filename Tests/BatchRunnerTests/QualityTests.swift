@testable import BatchRunner
import Foundation
import Recipe
import Testing
import Wire

@Suite("Dataset quality: the statistics and checks behind batch report and export --drop")
struct QualityTests {
    @Test("the chi-square survival function matches its closed forms (1 and 2 degrees of freedom) and a table value")
    func chiSquareSurvival() {
        for x in [0.001, 0.1, 0.5, 1, 2, 3.84, 7.5, 20, 60] {
            // Two degrees of freedom: exp(-x/2). One: erfc(sqrt(x/2)).
            #expect(abs(ChiSquareTest.survival(x, degreesOfFreedom: 2) - exp(-x / 2)) < 1e-12, "x = \(x)")
            #expect(abs(ChiSquareTest.survival(x, degreesOfFreedom: 1) - erfc((x / 2).squareRoot())) < 1e-10, "x = \(x)")
        }
        // The 5% critical value for 10 degrees of freedom is 18.307.
        #expect(abs(ChiSquareTest.survival(18.307038, degreesOfFreedom: 10) - 0.05) < 1e-6)
        #expect(ChiSquareTest.survival(0, degreesOfFreedom: 3) == 1)
    }

    @Test("rows lost evenly give no sign of bias; rows lost on one value give a tiny p")
    func chiSquareContingency() throws {
        let planned = [1_000, 1_000, 1_000, 1_000]
        let even = try #require(ChiSquareTest(done: [900, 905, 898, 902], planned: planned))
        #expect(even.degreesOfFreedom == 3)
        #expect(even.pValue > 0.5)
        let skewed = try #require(ChiSquareTest(done: [1_000, 1_000, 1_000, 700], planned: planned))
        #expect(skewed.pValue < 1e-10)
        // Nothing lost at all: no deviation.
        #expect(try #require(ChiSquareTest(done: planned, planned: planned)).pValue == 1)
        #expect(ChiSquareTest(done: [0, 0], planned: [5, 5]) == nil)
        #expect(ChiSquareTest(done: [5], planned: [5]) == nil)
    }

    @Test("the most under-represented value is the one with the largest shortfall")
    func underRepresented() throws {
        let d = DimensionFigures(name: "topic", values: ["a", "b", "c"], planned: [100, 100, 100], done: [100, 60, 95], test: nil)
        let under = try #require(d.mostUnderRepresented)
        #expect(under.value == "b")
        #expect(abs(under.plannedShare - 1.0 / 3) < 1e-12)
        #expect(abs(under.doneShare - 60.0 / 255) < 1e-12)
    }

    @Test("MinHash: a copy with one more word is near, an unrelated text is far, case and punctuation do not count")
    func minHash() {
        let base = (0..<120).map { "word\($0 % 97)x\($0)" }.joined(separator: " ")
        let a = MinHash.signature(of: base.utf8)
        let b = MinHash.signature(of: (base + " extra").utf8)
        let c = MinHash.signature(of: (0..<120).map { "other\($0)" }.joined(separator: " ").utf8)
        let d = MinHash.signature(of: base.uppercased().replacingOccurrences(of: " ", with: ", ").utf8)
        #expect(MinHash.similarity(a[...], b[...]) > 0.9)
        #expect(MinHash.similarity(a[...], c[...]) < 0.1)
        #expect(MinHash.similarity(a[...], d[...]) == 1)
        // Texts shorter than a shingle still get a signature of their own.
        let short1 = MinHash.signature(of: "hi".utf8), short2 = MinHash.signature(of: "yo".utf8)
        #expect(short1 != [UInt32](repeating: .max, count: MinHash.size))
        #expect(MinHash.similarity(short1[...], short2[...]) < 0.2)
    }

    @Test("the LSH index finds each near copy's original, and nothing among unrelated texts")
    func nearDuplicateIndex() {
        var index = NearDuplicateIndex(threshold: 0.8)
        var rng = SeededRandom(seed: 7)
        var texts: [String] = []
        for id in 0..<300 {
            let text = (0..<60).map { _ in "w\(rng.next() % 5_000)" }.joined(separator: " ")
            texts.append(text)
            #expect(index.add(id: Int64(id), signature: MinHash.signature(of: text.utf8)) == nil, "unrelated text \(id) matched")
        }
        for (n, original) in [3, 150, 299].enumerated() {
            let found = index.add(id: Int64(1_000 + n), signature: MinHash.signature(of: (texts[original] + " more").utf8))
            #expect(found?.id == Int64(original))
            #expect((found?.similarity ?? 0) >= 0.8)
        }
    }

    @Test("a dynamic's asked length, and the first-message style rule")
    func rowRules() {
        #expect(RowRules.expectedMessages(dynamic: "short 2-turn Q&A: user asks one question") == 2)
        #expect(RowRules.expectedMessages(dynamic: "deep 6-turn technical discussion") == 6)
        #expect(RowRules.expectedMessages(dynamic: "a 12-turn marathon") == 12)
        #expect(RowRules.expectedMessages(dynamic: "skeptical arc: user starts doubtful") == nil)
        #expect(RowRules.expectedMessages(dynamic: "-turn") == nil)
        let examples = "- hi\n- Hey, who are you?\n- yo nanochat"
        #expect(RowRules.firstMessageInStyle("hey there, who made you?", examples: examples))
        #expect(!RowRules.firstMessageInStyle("Hello there, I have been reading a lot about RoPE lately and I would like a detailed explanation", examples: examples))
    }

    @Test("an exported line's facts: messages, characters by role, non-ASCII")
    func conversationFacts() throws {
        let line = #"[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "caf\u00e9 time"}]"#
        let facts = try #require(ConversationFacts(line: line))
        #expect(facts.messages.count == 2)
        #expect(facts.userCharacters == 2)
        #expect(facts.assistantCharacters == 9)
        #expect(facts.nonASCII)
        #expect(facts.firstUserMessage == "hi")
        #expect(ConversationFacts(line: #"{"messages": []}"#) == nil)
        #expect(try #require(ConversationFacts(line: #"[{"role": "user", "content": "plain"}]"#)).nonASCII == false)
    }

    @Test("histogram percentiles fall within a bin of the exact ones")
    func histogram() throws {
        var h = Histogram.milliseconds()
        for v in 1...1_000 { h.add(v) }
        #expect(h.count == 1_000)
        #expect(h.minimum == 1 && h.maximum == 1_000)
        for (q, exact) in [(0.5, 500.0), (0.9, 900.0), (0.99, 990.0)] {
            let p = try #require(h.percentile(q))
            #expect(abs(p - exact) <= exact * 0.19 + 1, "p\(q) = \(p)")
        }
        var other = Histogram.milliseconds()
        other.add(5_000)
        h.merge(other)
        #expect(h.maximum == 5_000 && h.percentile(1) == 5_000)
    }

    @Test("--drop names are checked", arguments: ["near-duplicates,shape-mismatch", "non-ascii", "exact-duplicates, first-message-style"])
    func dropList(_ text: String) throws {
        #expect(try !QualityCheck.parseList(text).isEmpty)
    }

    @Test("an unknown --drop name says which names exist")
    func dropListUnknown() {
        #expect(throws: (any Error).self) { try QualityCheck.parseList("near-dupes") }
        do { _ = try QualityCheck.parseList("near-dupes") } catch { #expect("\(error)".contains("near-duplicates")) }
    }

    @Test("bucket widths keep a run under 120 buckets at round sizes")
    func bucketWidths() {
        #expect(RunTimeline.bucketWidth(spanMs: 7_000) == 1_000)
        #expect(RunTimeline.bucketWidth(spanMs: 120_000) == 1_000)
        #expect(RunTimeline.bucketWidth(spanMs: 121_000) == 2_000)
        #expect(RunTimeline.bucketWidth(spanMs: 3_600_000) == 30_000)
        #expect(RunTimeline.bucketWidth(spanMs: 30 * 86_400_000) == 21_600_000)
        for span in stride(from: Int64(1), to: 400 * 86_400_000, by: 9_876_543) {
            #expect(span / RunTimeline.bucketWidth(spanMs: span) < 120)
        }
    }
}
