import Foundation
import Testing
import TestSupport

/// Issue #14, items 1 and 2: the set-up script installs exactly what CI used to, CI runs the
/// README's `make test`, and `make install` installs the binary, the man page and completions.
@Suite("one-command set-up")
struct SetupTests {
    static func file(_ path: String) throws -> String {
        try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent(path), encoding: .utf8)
    }

    @Test("install-deps.sh installs exactly the build's, the HTTPS tests' and the metrics tests' packages")
    func packages() throws {
        let script = try Self.file("ops/setup/install-deps.sh")
        let named = Set(script.matches(of: /need\+=\(([a-z0-9.+-]+)\)/).map { String($0.1) })
        #expect(named == ["libsqlite3-dev", "libcurl4-openssl-dev", "pkg-config", "nginx-light", "openssl", "tinyproxy", "nghttp2-client",
                          "prometheus"])
        #expect(script.contains("sudo"), "not root: sudo")
    }

    @Test("CI runs make test; the README's quick start shows make demo and make test; the Makefile wires them to the set-up")
    func wiring() throws {
        let ci = try Self.file(".ci/run")
        #expect(ci.contains("\nmake test\n"))
        #expect(!ci.contains("swift test"), "the test command is the README's make test")
        let readme = try Self.file("README.md")
        #expect(readme.contains("make demo ") && readme.contains("make test ") && readme.contains("make install"))
        let makefile = try Self.file("Makefile")
        for line in ["deps:\n\tops/setup/install-deps.sh", "demo: build", "build: deps", "test: deps", "release: deps",
                     "--static-swift-stdlib", "generate-completion-script bash", "plugin generate-manual", "$(MANDIR)/batch.1"] {
            #expect(makefile.contains(line), "Makefile lacks \(line)")
        }
    }
}
