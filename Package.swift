// swift-tools-version:6.0
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")

let package = Package(
    name: "batch",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "batch", targets: ["batch"]),
        .library(name: "Ledger", targets: ["Ledger"]),
        .library(name: "BatchRunner", targets: ["BatchRunner"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System libraries: SQLite and libcurl come from the OS (libsqlite3-dev, libcurl4-openssl-dev).
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Typed wrappers over libcurl's variadic setopt/getinfo calls.
        .target(name: "CurlShim", dependencies: ["CCurl"]),
        // The one allocator setting the CLI makes (glibc's mallopt is not in Swift's Glibc module).
        .target(name: "MallocTuning"),

        // SQLite ledger: migrations, claims, state transitions, export scan.
        .target(name: "Ledger", dependencies: ["CSQLite", logging], plugins: ["EmbedMigrations"]),
        // Build-time tool: embeds migrations/*.sql into the Ledger module.
        .executableTarget(name: "embed-migrations"),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["embed-migrations"]),
        // JSON (one ordered value, one parser, one string escaper), JSONL lines, the seeded generator.
        .target(name: "Wire"),
        // Recipe, Python-compatible sampler, prompt, conversation validation.
        .target(name: "Recipe", dependencies: ["Wire"], plugins: ["EmbedRecipe"]),
        // Build-time tool: embeds recipes/nanochat-identity/ (the built-in recipe) into the Recipe module.
        .executableTarget(name: "embed-recipe"),
        .plugin(name: "EmbedRecipe", capability: .buildTool(), dependencies: ["embed-recipe"]),
        // HTTP transport on libcurl, chat-completions client, response classification.
        .target(name: "Provider", dependencies: ["CurlShim", "Wire", logging]),
        // OpenAI-compatible test server behind `batch simulate`.
        .target(name: "Simulator", dependencies: [
            "Recipe", "Wire",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            logging,
        ]),
        // The run loop: limits, backoff, shutdown, progress, export.
        .target(name: "BatchRunner", dependencies: ["Ledger", "Recipe", "Provider", "Wire", logging]),
        // The command-line tool; thin. Prometheus and NIO serve `--metrics-listen` (the run loop
        // itself knows neither: it reports to a `RunObserver`).
        .executableTarget(name: "batch", dependencies: [
            "BatchRunner", "Ledger", "Recipe", "Provider", "Simulator", "MallocTuning", argumentParser, logging,
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),

        // Test helpers shared by the test targets: temporary ledgers and folders, the built binary,
        // a simulator on loopback, the fakes (a scripted transport, a virtual clock).
        .target(name: "TestSupport", dependencies: ["Ledger", "CSQLite", "Provider", "Simulator", "BatchRunner"], path: "Tests/TestSupport"),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Recipe", "Wire", "TestSupport"]),
        .testTarget(name: "WireTests", dependencies: ["Wire", "TestSupport"]),
        .testTarget(name: "RecipeTests", dependencies: ["Recipe", "Wire", "TestSupport"]),
        .testTarget(name: "ProviderTests", dependencies: ["Provider", "Recipe", "Simulator", "Wire", "TestSupport"]),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "Provider", "Recipe", "Wire", "TestSupport"]),
        .testTarget(name: "BatchRunnerTests", dependencies: ["BatchRunner", "Ledger", "Provider", "Recipe", "Wire", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["batch", "Recipe", "Wire", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
