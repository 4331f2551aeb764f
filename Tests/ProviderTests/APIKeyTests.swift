import Foundation
import Testing
import TestSupport
@testable import Provider

@Suite("API key resolution")
struct APIKeyTests {
    let secret = "sk-or-v1-0123456789abcdef-SECRET"

    @Test("the environment wins over .env")
    func environmentFirst() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try "OPENROUTER_API_KEY=from-file\n".write(toFile: dir.path(".env"), atomically: true, encoding: .utf8)
        let key = try APIKeyResolver.resolve(envName: "OPENROUTER_API_KEY", environment: ["OPENROUTER_API_KEY": secret], dotEnvDirectory: dir.url.path)
        #expect(key.value == secret)
    }

    @Test("a .env file in the working directory is read when the environment has no key")
    func dotEnv() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try """
        # comment line
        OTHER=1
        export OPENROUTER_API_KEY="\(secret)"   # trailing comment
        """.write(toFile: dir.path(".env"), atomically: true, encoding: .utf8)
        let key = try APIKeyResolver.resolve(envName: "OPENROUTER_API_KEY", environment: ["OPENROUTER_API_KEY": ""], dotEnvDirectory: dir.url.path)
        #expect(key.value == secret)
    }

    @Test("a .env in a folder above the working directory is found, as python-dotenv's find_dotenv")
    func dotEnvUpward() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let deep = dir.path("project/runs/today")
        try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
        try "OPENROUTER_API_KEY=\(secret)\n".write(toFile: dir.path("project/.env"), atomically: true, encoding: .utf8)
        let key = try APIKeyResolver.resolve(envName: "OPENROUTER_API_KEY", environment: [:], dotEnvDirectory: deep)
        #expect(key.value == secret)
        #expect(DotEnv.find(from: deep) == dir.url.standardizedFileURL.path + "/project/.env")
        // The environment still wins over a .env found above.
        let fromEnvironment = try APIKeyResolver.resolve(envName: "OPENROUTER_API_KEY", environment: ["OPENROUTER_API_KEY": "env-key"], dotEnvDirectory: deep)
        #expect(fromEnvironment.value == "env-key")
    }

    @Test("the nearest .env wins over one further up; a folder named .env is skipped")
    func dotEnvNearest() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let inner = dir.path("a/b")
        try FileManager.default.createDirectory(atPath: inner + "/.env", withIntermediateDirectories: true)
        try "OPENROUTER_API_KEY=outer\n".write(toFile: dir.path(".env"), atomically: true, encoding: .utf8)
        try "OPENROUTER_API_KEY=middle\n".write(toFile: dir.path("a/.env"), atomically: true, encoding: .utf8)
        let key = try APIKeyResolver.resolve(envName: "OPENROUTER_API_KEY", environment: [:], dotEnvDirectory: inner)
        #expect(key.value == "middle")
    }

    @Test(".env lines parse like python-dotenv", arguments: [
        ("KEY=plain", "plain"),
        ("KEY = spaced ", "spaced"),
        ("export KEY=exported", "exported"),
        ("KEY='single # not a comment'", "single # not a comment"),
        ("KEY=\"double\\\"quote\"", "double\"quote"),
        ("KEY=value # comment", "value"),
        ("KEY=value#hash", "value#hash"),
        ("KEY=", ""),
    ])
    func dotEnvLine(_ line: String, _ expected: String) {
        #expect(DotEnv.parse("# header\n\(line)\n")["KEY"] == expected)
    }

    @Test("a missing key says how to set it, naming the variable")
    func missing() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        do {
            _ = try APIKeyResolver.resolve(envName: "MY_PROVIDER_KEY", environment: [:], dotEnvDirectory: dir.url.path)
            Issue.record("expected an error")
        } catch let error as APIKeyError {
            #expect(error.description.contains("export MY_PROVIDER_KEY="))
            #expect(error.description.contains(".env"))
            #expect(error.description.contains("batch demo"))
            #expect(error.description.contains("--base-url"))
        }
    }

    @Test("the key never shows in descriptions, interpolation or dumps")
    func redacted() {
        let key = APIKey(secret)
        #expect("\(key)" == "<redacted>")
        #expect(String(describing: key) == "<redacted>")
        #expect(!String(reflecting: key).contains(secret))
        var dumped = ""
        dump(key, to: &dumped)
        #expect(!dumped.contains(secret))
        let config = ProviderConfig(apiKey: key)
        #expect(!"\(config)".contains(secret))
        #expect(!String(reflecting: config).contains(secret))
    }
}
