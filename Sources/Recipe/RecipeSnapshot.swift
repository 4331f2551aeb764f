/// Everything a recipe was built from, as text, so a resumed run can rebuild the exact same
/// recipe even if the files changed on disk. A ledger stores this (it is `Codable`).
///
/// Texts are the files' contents as read (before Python's newline translation and `strip()`),
/// so each digest equals `sha256sum` of the file.
public struct RecipeSnapshot: Codable, Sendable, Equatable {
    public var recipePath: String
    public var recipeText: String
    public var recipeSHA256: String
    /// Set when the recipe names `prompt_template_file` instead of an inline `prompt_template`.
    public var promptTemplatePath: String?
    public var promptTemplateText: String?
    public var promptTemplateSHA256: String?
    /// Set when the recipe has a knowledge file (or one was given instead of the recipe's).
    public var knowledgePath: String?
    public var knowledgeText: String?
    public var knowledgeSHA256: String?

    public init(
        recipePath: String, recipeText: String,
        promptTemplatePath: String? = nil, promptTemplateText: String? = nil,
        knowledgePath: String? = nil, knowledgeText: String? = nil
    ) {
        self.recipePath = recipePath
        self.recipeText = recipeText
        self.recipeSHA256 = SHA256.hex(recipeText.utf8)
        self.promptTemplatePath = promptTemplatePath
        self.promptTemplateText = promptTemplateText
        self.promptTemplateSHA256 = promptTemplateText.map { SHA256.hex($0.utf8) }
        self.knowledgePath = knowledgePath
        self.knowledgeText = knowledgeText
        self.knowledgeSHA256 = knowledgeText.map { SHA256.hex($0.utf8) }
    }

    /// Throws when a stored digest does not match its text (a damaged or hand-edited ledger).
    func verify() throws(RecipeError) {
        func check(_ text: String?, _ digest: String?, _ path: String?, _ what: String) throws(RecipeError) {
            guard let text else {
                if digest != nil {
                    throw RecipeError(.snapshotMismatch, file: path ?? recipePath, field: nil,
                                      "the snapshot has a digest for the \(what) but not its text; the ledger is damaged")
                }
                return
            }
            guard let digest, SHA256.hex(text.utf8) == digest.lowercased() else {
                throw RecipeError(.snapshotMismatch, file: path ?? recipePath, field: nil,
                                  "the snapshot's \(what) text does not match its SHA-256; the ledger is damaged")
            }
        }
        try check(recipeText, recipeSHA256, recipePath, "recipe")
        try check(promptTemplateText, promptTemplateSHA256, promptTemplatePath, "prompt template")
        try check(knowledgeText, knowledgeSHA256, knowledgePath, "knowledge")
    }
}
