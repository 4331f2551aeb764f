import Foundation
import Wire

extension Recipe {
    /// Reads a recipe file and the files it names, and checks everything before any request.
    ///
    /// - Parameters:
    ///   - path: the recipe JSON file. `knowledge_file` and `prompt_template_file` inside it
    ///     are relative to the recipe's folder.
    ///   - knowledgePath: a knowledge file to use instead of the recipe's (relative to the
    ///     current directory), e.g. from `--knowledge`.
    /// - Throws: `RecipeError` naming the file, the field and what is wrong.
    public static func load(path: String, knowledgePath: String? = nil) throws(RecipeError) -> Recipe {
        let recipeText = try readText(path, recipe: path, field: nil, what: "recipe file")
        let root = try parseRecipeJSON(recipeText, file: path)
        let fields = RecipeFields(file: path)
        let folder = (path as NSString).deletingLastPathComponent

        var templatePath: String?
        var templateText: String?
        if let name = try fields.string(root["prompt_template_file"], "prompt_template_file", required: false) {
            let resolved = resolve(name, in: folder)
            templatePath = resolved
            templateText = try readText(resolved, recipe: path, field: "prompt_template_file", what: "prompt template file")
        }

        var knowledgeFile: String?
        var knowledgeText: String?
        if let knowledgePath {
            knowledgeFile = knowledgePath
            knowledgeText = try readText(knowledgePath, recipe: path, field: "knowledge_file",
                                         what: "knowledge file", note: "given instead of the recipe's")
        } else if let name = try fields.string(root["knowledge_file"], "knowledge_file", required: false) {
            let resolved = resolve(name, in: folder)
            knowledgeFile = resolved
            knowledgeText = try readText(resolved, recipe: path, field: "knowledge_file", what: "knowledge file")
        }

        let snapshot = RecipeSnapshot(
            recipePath: path, recipeText: recipeText,
            promptTemplatePath: templatePath, promptTemplateText: templateText,
            knowledgePath: knowledgeFile, knowledgeText: knowledgeText
        )
        return try Recipe(snapshot: snapshot)
    }

    /// Rebuilds a recipe from a snapshot alone, without reading any file, so a resumed run
    /// renders byte-identical prompts even if the files changed or vanished.
    /// Throws if a digest does not match its text, or the recipe is invalid.
    public init(snapshot: RecipeSnapshot) throws(RecipeError) {
        try snapshot.verify()
        let file = snapshot.recipePath
        let root = try Self.parseRecipeJSON(snapshot.recipeText, file: file)
        let fields = RecipeFields(file: file)
        try fields.checkKeys(root, known: Self.knownKeys, field: nil)

        // The prompt template: inline, or from a file whose text the snapshot carries.
        let inlineTemplate = try fields.string(root["prompt_template"], "prompt_template", required: false)
        let templateFile = try fields.string(root["prompt_template_file"], "prompt_template_file", required: false)
        let templateField: String
        let templateSource: String
        switch (inlineTemplate, templateFile) {
        case (nil, nil):
            throw RecipeError(.missingField, file: file, field: "prompt_template",
                              "missing; give the template inline as \"prompt_template\" or as a file with \"prompt_template_file\"")
        case (.some, .some):
            throw RecipeError(.invalidValue, file: file, field: "prompt_template",
                              "both \"prompt_template\" and \"prompt_template_file\" are set; keep one")
        case (let inline?, nil):
            templateField = "prompt_template"
            templateSource = inline
        case (nil, .some):
            guard let text = snapshot.promptTemplateText else {
                throw RecipeError(.snapshotMismatch, file: file, field: "prompt_template_file",
                                  "the snapshot does not include the template file's text; load the recipe from its file")
            }
            templateField = "prompt_template_file"
            templateSource = Self.pythonRead(text)
        }
        var template: PromptTemplate
        do {
            template = try PromptTemplate(parsing: PythonText.strip(templateSource))
        } catch {
            let kind: RecipeError.Kind = error.reason.hasPrefix("unknown placeholder") ? .unknownPlaceholder : .invalidTemplate
            throw RecipeError(kind, file: snapshot.promptTemplatePath ?? file, field: templateField, error.reason)
        }

        // Every sampled dimension must reach the prompt, and {knowledge} exactly when there is one.
        let used = template.placeholders
        for placeholder in PromptTemplate.Placeholder.allCases where placeholder != .knowledge && !used.contains(placeholder) {
            throw RecipeError(.missingPlaceholder, file: snapshot.promptTemplatePath ?? file, field: templateField,
                              "missing placeholder {\(placeholder.rawValue)}; every sampled value must appear in the prompt")
        }
        if let knowledge = snapshot.knowledgeText {
            guard used.contains(.knowledge) else {
                throw RecipeError(.missingPlaceholder, file: snapshot.promptTemplatePath ?? file, field: templateField,
                                  "missing placeholder {knowledge}; without it the knowledge file never reaches the model")
            }
            template = template.fixing(.knowledge, to: PythonText.strip(Self.pythonRead(knowledge)))
        } else if root["knowledge_file"] != nil {
            throw RecipeError(.snapshotMismatch, file: file, field: "knowledge_file",
                              "the snapshot does not include the knowledge file's text; load the recipe from its file")
        } else if used.contains(.knowledge) {
            throw RecipeError(.missingField, file: file, field: "knowledge_file",
                              "missing; the template uses {knowledge}, so name a knowledge file (relative to the recipe)")
        }
        _ = try fields.string(root["knowledge_file"], "knowledge_file", required: false)

        let name = try fields.string(root["name"], "name", required: false)
            ?? ((file as NSString).deletingLastPathComponent as NSString).lastPathComponent
        _ = try fields.string(root["description"], "description", required: false)
        let topics = try fields.categories(root["topics"], "topics")
        let personas = try fields.stringList(root["personas"], "personas")
        let dynamics = try fields.stringList(root["dynamics"], "dynamics")
        let firstMessages = try fields.categories(root["first_messages"], "first_messages")
        let sampleSize = try fields.int(root["first_message_sample_size"], "first_message_sample_size", minimum: 1) ?? 3
        let (request, model) = try fields.request(root["request"])
        let headers = try fields.headers(root["headers"])
        let validator = try fields.validator(root["validation"])
        let cacheMarker = try fields.bool(root["cache_marker"], "cache_marker") ?? false

        self.init(
            name: name, topics: topics, personas: personas, dynamics: dynamics,
            firstMessages: firstMessages, firstMessageSampleSize: sampleSize, request: request,
            headers: headers, model: model, validator: validator, snapshot: snapshot, template: template,
            cacheMarker: cacheMarker
        )
    }

    static let knownKeys: [String] = [
        "name", "description", "knowledge_file", "prompt_template", "prompt_template_file",
        "topics", "personas", "dynamics", "first_messages", "first_message_sample_size",
        "request", "headers", "validation", "cache_marker",
    ]

    /// What Python's text-mode read gives for a file's text (universal newlines).
    private static func pythonRead(_ text: String) -> String {
        PythonText.readText(Array(text.utf8)) ?? text
    }

    private static func parseRecipeJSON(_ text: String, file: String) throws(RecipeError) -> JSONValue {
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes: bytes)
        } catch {
            throw RecipeError(.invalidJSON, file: file, field: nil, "not valid JSON: \(error.description)")
        }
        guard case .object = root else {
            throw RecipeError(.wrongType, file: file, field: nil, "the recipe must be a JSON object, found \(root.typeDescription)")
        }
        return root
    }

    /// `name` relative to `folder`, unless it is absolute.
    private static func resolve(_ name: String, in folder: String) -> String {
        if name.hasPrefix("/") || folder.isEmpty { return name }
        return (folder as NSString).appendingPathComponent(name)
    }

    static func readText(
        _ path: String, recipe: String, field: String?, what: String, note: String? = nil
    ) throws(RecipeError) -> String {
        var isDirectory: ObjCBool = false
        let problem: String
        let named = (field == nil ? "the \(what)" : "the \(what) '\(path)'") + (note.map { " (\($0))" } ?? "")
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            problem = "cannot read \(named): no such file"
        } else if isDirectory.boolValue {
            problem = "cannot read \(named): it is a directory"
        } else if let data = FileManager.default.contents(atPath: path) {
            guard let text = String(validating: [UInt8](data), as: UTF8.self) else {
                throw RecipeError(.unreadableFile, file: field == nil ? path : recipe, field: field,
                                  "\(named) is not valid UTF-8 text")
            }
            return text
        } else {
            problem = "cannot read \(named): permission denied or I/O error"
        }
        throw RecipeError(.unreadableFile, file: field == nil ? path : recipe, field: field, problem)
    }
}
