import Recipe
import Testing

/// The one SHA-256 suite: the recipe module's SHA-256 against known vectors, and the recipe
/// digest a ledger records (`recipe_sha256`), which must not change or existing ledgers stop resuming.
@Suite("SHA-256")
struct SHA256Tests {
    // hashlib.sha256(s).hexdigest(); includes the FIPS 180-4 examples and padding boundaries.
    @Test("digests match known vectors", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("The quick brown fox jumps over the lazy dog", "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"),
        (String(repeating: "a", count: 55), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (String(repeating: "a", count: 56), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (String(repeating: "a", count: 64), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        ("héllo ☃", "c3a3e84b30327c8e3f04a788d8b68da3fd94c22353c5a30e3fe6ca7ebde3ab3f"),
    ])
    func vectors(_ input: String, _ digest: String) {
        #expect(SHA256.hex(input.utf8) == digest)
        #expect(SHA256.hex(Array(input.utf8)) == digest)
    }

    @Test("a million bytes hash correctly, contiguous or not")
    func million() {
        let digest = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)) == digest)
        #expect(SHA256.hex(repeatElement(UInt8(ascii: "a"), count: 1_000_000)) == digest)
    }

    @Test("feeding in pieces gives the same digest as one call")
    func incremental() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for split in [0, 1, 63, 64, 65, 500, 999] {
            var hasher = SHA256()
            hasher.update(bytes[..<split])
            hasher.update(bytes[split...])
            #expect(hasher.finalize() == SHA256.hash(bytes))
        }
    }

    @Test("the built-in recipe's digests are the ones existing ledgers hold")
    func builtInRecipe() throws {
        let snapshot = try BuiltInRecipe.load().snapshot
        #expect(snapshot.recipeSHA256 == "e81e45e68c895a05ace0c6ffba0d9f999d142e123eb926c4f4b2542ea02cce95")
        #expect(snapshot.promptTemplateSHA256 == "c41b3be4b61c9cf0f0f8488d8d1ad5774c39b94345e340bf9a5bab501a493fef")
        #expect(snapshot.knowledgeSHA256 == "c54f7d0ac255cd0be819988382ed13e4a658d189e474dc8de051c35dd2dac91d")
    }
}
