import Recipe
import Testing

/// Indices far beyond the fixture, up to 2^63-1, computed with the seed's own
/// `sample_diversity_elements(random.Random(i))` under CPython 3.11.
@Suite("Large indices")
struct LargeIndexTests {
    struct Expected: Sendable, CustomTestStringConvertible {
        let index: UInt64
        let topic, persona, dynamic, examples: String
        var testDescription: String { "index \(index)" }
    }

    @Test("indices past 2^32 and up to 2^63-1 sample what the seed samples", arguments: [
        Expected(index: 1, topic: "how long does training take", persona: "computer science student learning about transformers and LLMs", dynamic: "medium 4-turn: user asks, gets answer, asks followup for clarification", examples: "- How were you trained?\n- shalom\n- yo haha"),
        Expected(index: 2147483648, topic: "why is training 600x cheaper than GPT-2", persona: "someone interested in the cost and economics of AI training", dynamic: "deep 6-turn technical discussion: progressively deeper questions", examples: "- hey nanochat\n- Howdy\n- WASSUP"),
        Expected(index: 4294967295, topic: "can nanochat write code", persona: "teacher or educator wanting to use nanochat for teaching", dynamic: "troubleshooting: user has misconceptions, assistant gently corrects them", examples: "- hi, whos this\n- Can you help me code?\n- hi! who built you"),
        Expected(index: 4294967296, topic: "value embeddings - what are they", persona: "journalist or writer covering AI democratization and open source", dynamic: "short 2-turn Q&A: user asks one question, gets a complete answer", examples: "- greetings\n- hay\n- Hey, who are you?"),
        Expected(index: 4294967297, topic: "what languages does nanochat speak", persona: "someone interested in the cost and economics of AI training", dynamic: "limitation exploration: user probes what nanochat cannot do, assistant is honest", examples: "- hello nanochat :)\n- hiya! what are you\n- hai!"),
        Expected(index: 9007199254740999, topic: "what optimizations worked vs didn't work", persona: "someone who just discovered the project and wants the basics", dynamic: "deep 6-turn technical discussion: progressively deeper questions", examples: "- hey! are you alive\n- HELLO!!!\n- Hello?"),
        Expected(index: 123456789012345, topic: "can nanochat do math (calculator tool)", persona: "journalist or writer covering AI democratization and open source", dynamic: "skeptical arc: user starts doubtful, assistant addresses concerns honestly", examples: "- hello nanochat :)\n- hai!\n- HELLO??"),
        Expected(index: 9223372036854775806, topic: "how can I contribute to nanochat", persona: "ML researcher or engineer who wants technical depth and specifics", dynamic: "learning journey: user starts basic, assistant builds up complexity gradually", examples: "- yo wut up\n- yo nanocha\n- hello again"),
        Expected(index: 9223372036854775807, topic: "how does nanochat compare to ChatGPT/GPT-4", persona: "hobbyist who just wants to chat and learn casually", dynamic: "casual friendly chat that naturally touches on identity and capabilities", examples: "- hey there, king's creation\n- waddup\n- YO!!!"),
    ])
    func largeIndex(_ expected: Expected) throws {
        let sample = try seedRecipe().sample(index: expected.index)
        #expect(sample.topic == expected.topic)
        #expect(sample.persona == expected.persona)
        #expect(sample.dynamic == expected.dynamic)
        #expect(sample.firstMessageExamples == expected.examples)
        #expect(sample.prompt.contains("**Topic to explore:** \(expected.topic)\n"))
    }

    @Test("more than 21 first-message categories use sample's set branch, as in CPython")
    func manyFirstMessageCategories() throws {
        // fm = {f"c{i}": [f"c{i}a", f"c{i}b", f"c{i}c"] for i in range(25)}; the seed's draws with
        // one topic, persona and dynamic each, then rng.sample(list(fm), 3) and one choice per category.
        var draft = RecipeDraft()
        draft["topics"] = .object([("t", .array([.string("x")]))])
        draft["personas"] = .array([.string("p")])
        draft["first_messages"] = .object((0..<25).map { i in
            ("c\(i)", .array(["a", "b", "c"].map { .string("c\(i)\($0)") }))
        })
        let recipe = try draft.load()
        let expected: [(UInt64, String)] = [
            (0, "- c16b\n- c15b\n- c12b"), (1, "- c15b\n- c24c\n- c14b"), (2, "- c5b\n- c23b\n- c21c"),
            (3, "- c20c\n- c18a\n- c2b"), (1_099_511_627_776, "- c1c\n- c12a\n- c20c"),
        ]
        for (index, examples) in expected {
            #expect(recipe.sample(index: index).firstMessageExamples == examples, "index \(index)")
        }
    }

    @Test("sampling is deterministic: the same index gives the same sample")
    func deterministic() throws {
        let recipe = try seedRecipe()
        for index: UInt64 in [0, 17, 1 << 40, Recipe.maximumIndex] {
            #expect(recipe.sample(index: index) == recipe.sample(index: index))
        }
    }
}
