import Foundation
import Recipe
import Wire

/// A flaw of the data itself that `batch simulate --data-*` puts in a valid answer, so that
/// `batch report` and `export --drop` can be tested against known counts.
public enum DataFault: String, Sendable, CaseIterable, Codable {
    /// The conversation of a recent answer, repeated verbatim.
    case duplicate = "duplicate"
    /// A recent answer's conversation with one word changed.
    case nearDuplicate = "near_duplicate"
    /// An assistant message with characters outside ASCII.
    case nonASCII = "non_ascii"
    /// Two messages more than the dynamic asks for (only for dynamics that name a length).
    case wrongShape = "wrong_shape"
    /// A long first message, not in the style of the examples.
    case offStyle = "off_style"
}

/// Conversations that follow the prompt they answer, as a model would: the dynamic's number of
/// messages ("short 2-turn": 2; otherwise 2, 4 or 6), a first message taken from the prompt's
/// examples, answers made of sentences from the prompt's knowledge base, follow-ups about the
/// topic. Every choice comes from the request's `variant`, so a seed gives the same answers.
final class VariedConversations: @unchecked Sendable {
    private let rates: [(DataFault, Double)]
    private let lock = NSLock()
    /// Recent conversations (their messages), for the duplicate faults.
    private var recent: [[(String, String)]] = []
    private var recentNext = 0
    private var knowledgeKey: Int?
    private var sentences: [String] = []

    init(rates: [DataFault: Double]) { self.rates = DataFault.allCases.map { ($0, rates[$0] ?? 0) } }

    /// The conversation's JSON (`{"messages": [...]}`) and the data fault put in it, if any.
    func conversation(prompt: String, variant: UInt64) -> (json: String, fault: DataFault?) {
        var rng = SeededRandom(seed: variant ^ 0x5eed_da7a)
        let draw = rng.unit()
        var fault: DataFault?
        var cumulative = 0.0
        for (candidate, rate) in rates where rate > 0 {
            cumulative += rate
            if draw < cumulative { fault = candidate; break }
        }
        let parts = PromptParts(prompt)
        let facts = knowledgeSentences(parts.knowledge)
        var messages: [(String, String)]
        if fault == .duplicate || fault == .nearDuplicate, let earlier = recentConversation(&rng) {
            messages = earlier
            if fault == .nearDuplicate { messages = addOneWord(messages, &rng) }
        } else {
            if fault == .duplicate || fault == .nearDuplicate { fault = nil }
            let asked = DynamicShape.messages(in: parts.dynamic)
            if fault == .wrongShape && asked == nil { fault = nil }
            var count = asked ?? [2, 4, 6][Int(rng.next() % 3)]
            if fault == .wrongShape { count += 2 }
            messages = []
            for i in 0..<count {
                if i % 2 == 0 {
                    let text: String
                    if i == 0 {
                        text = fault == .offStyle
                            ? "Hello there, I have been reading a lot about \(parts.topic) lately and I would really like a detailed explanation of how it works, why it was built this way and what it means for someone like me."
                            : parts.examples.isEmpty ? "hi" : parts.examples[Int(rng.next() % UInt64(parts.examples.count))]
                    } else {
                        text = Self.followUps[Int(rng.next() % UInt64(Self.followUps.count))].replacingOccurrences(of: "{topic}", with: parts.topic)
                    }
                    messages.append(("user", text))
                } else {
                    var answer = i == 1 ? Self.openings[Int(rng.next() % UInt64(Self.openings.count))].replacingOccurrences(of: "{topic}", with: parts.topic) + " " : ""
                    let n = 3 + Int(rng.next() % 3)
                    for k in 0..<n where !facts.isEmpty {
                        answer += (k > 0 ? " " : "") + facts[Int(rng.next() % UInt64(facts.count))]
                    }
                    if fault == .nonASCII && i == 1 { answer += " That is the short version \u{2014} caf\u{e9}-level detail comes next \u{1F680}." }
                    messages.append(("assistant", answer))
                }
            }
        }
        remember(messages, &rng)
        let items = messages.map { "{\"role\":\"\($0.0)\",\"content\":\(JSONString.encode($0.1, .utf8))}" }
        return ("{\"messages\":[\(items.joined(separator: ","))]}", fault)
    }

    private func recentConversation(_ rng: inout SeededRandom) -> [(String, String)]? {
        lock.lock()
        defer { lock.unlock() }
        return recent.isEmpty ? nil : recent[Int(rng.next() % UInt64(recent.count))]
    }

    private func remember(_ messages: [(String, String)], _ rng: inout SeededRandom) {
        lock.lock()
        defer { lock.unlock() }
        if recent.count < 64 { recent.append(messages) } else { recent[recentNext] = messages; recentNext = (recentNext + 1) % 64 }
    }

    /// The last message with one more word at its end: one shingle of the dozens in even the
    /// shortest conversation changes, so the copy stays near (similarity 0.9 and more).
    private func addOneWord(_ messages: [(String, String)], _ rng: inout SeededRandom) -> [(String, String)] {
        var out = messages
        guard let last = out.indices.last else { return out }
        out[last].1 += " " + ["Really.", "Truly.", "Indeed.", "Honestly."][Int(rng.next() % 4)]
        return out
    }

    /// The knowledge base's sentences (cut at ". ", "! ", "? " and line ends), kept for as long as
    /// the knowledge is the same.
    private func knowledgeSentences(_ knowledge: Substring) -> [String] {
        var hasher = Hasher()
        hasher.combine(knowledge)
        let key = hasher.finalize()
        lock.lock()
        defer { lock.unlock() }
        if key == knowledgeKey { return sentences }
        var found: [String] = []
        // Paragraphs of prose (not tables, code or headings), joined, cut after ". ", "! ", "? ";
        // a sentence is kept when it starts with a capital and is 30 to 300 characters long.
        for paragraph in knowledge.components(separatedBy: "\n\n") {
            let lines = paragraph.split(separator: "\n").filter { !$0.hasPrefix("|") && !$0.hasPrefix("#") && !$0.hasPrefix("```") && !$0.hasPrefix("    ") }
            let text = lines.map { $0.drop { $0 == "-" || $0 == "*" || $0 == " " } }.joined(separator: " ")
            var current = ""
            for c in text {
                current.append(c)
                if c == "." || c == "!" || c == "?" {
                    let sentence = current.trimmingCharacters(in: .whitespaces)
                    if (30...300).contains(sentence.count), sentence.first?.isUppercase == true { found.append(sentence) }
                    if sentence.count >= 30 || sentence.first?.isUppercase != true { current = "" }
                }
            }
        }
        knowledgeKey = key
        sentences = found.isEmpty ? ["I am nanochat, a small open source chat model."] : found
        return sentences
    }

    static let openings = [
        "Good question.", "On \"{topic}\": here is the short version.", "Happy to explain.", "Let me keep it simple.",
        "Sure.", "Glad you asked.", "Here is what I know about that.", "Right, \"{topic}\".",
    ]
    static let followUps = [
        "Can you say more about that?", "How does that compare to bigger models?", "Why was it built that way?",
        "So what does that mean in practice?", "Is that written down somewhere I can read?", "What would you change about it?",
        "Could I try that on my own computer?", "Does that limit what you can do?", "And how long did that take?",
        "What surprised people most about \"{topic}\"?", "Who decided on that?", "Is there a catch?",
    ]
}

/// The parts of the seed's prompt the varied conversations use.
struct PromptParts {
    var topic = "nanochat"
    var dynamic = ""
    var examples: [String] = []
    var knowledge: Substring = ""

    /// The topic line's text, nil when the prompt has none.
    static func topic(of prompt: String) -> String? { field("**Topic to explore:** ", in: prompt) }

    private static func field(_ label: String, in prompt: String) -> String? {
        guard let start = prompt.range(of: label) else { return nil }
        return String(prompt[start.upperBound...].prefix { $0 != "\n" })
    }

    init(_ prompt: String) {
        topic = Self.field("**Topic to explore:** ", in: prompt) ?? topic
        dynamic = Self.field("**Conversation dynamic:** ", in: prompt) ?? ""
        if let start = prompt.range(of: "## FIRST MESSAGE EXAMPLES") {
            examples = prompt[start.upperBound...].split(separator: "\n").prefix { !$0.hasPrefix("## ") }
                .filter { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)) }
        }
        if let base = prompt.range(of: "## KNOWLEDGE BASE"),
           let open = prompt.range(of: "---\n", range: base.upperBound..<prompt.endIndex),
           let close = prompt.range(of: "\n---", range: open.upperBound..<prompt.endIndex) {
            knowledge = prompt[open.upperBound..<close.lowerBound]
        }
    }
}
