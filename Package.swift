// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "touchlog",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "touchlog", targets: ["touchlog"]),
        .library(name: "TouchlogDomain", targets: ["TouchlogDomain"]),
        .library(name: "TouchlogStore", targets: ["TouchlogStore"]),
        .library(name: "TouchlogIngest", targets: ["TouchlogIngest"]),
        .library(name: "TouchlogProjections", targets: ["TouchlogProjections"]),
        .library(name: "TouchlogImport", targets: ["TouchlogImport"]),
        // For the micro-benchmarks in Benchmarks/ (a package of its own).
        .library(name: "CloudEvents", targets: ["CloudEvents"]),
        .library(name: "TouchlogGenerator", targets: ["TouchlogGenerator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        // Already dependencies of Hummingbird: named for the service's own imports.
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // LMDB from the system (Debian: liblmdb-dev), nothing else in this module.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // zlib from the system (Debian: zlib1g-dev), nothing else in this module.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The one safe wrapper over LMDB: the only module with unsafe pointers to LMDB memory.
        .target(
            name: "LMDB", dependencies: ["CLMDB", .product(name: "SystemPackage", package: "swift-system")]),
        // CloudEvents 1.0 JSON: parsing, validation, serialisation, RFC 3339 times, JSON Lines reading
        // from any byte source (files through swift-system, memory).
        .target(
            name: "CloudEvents", dependencies: [.product(name: "SystemPackage", package: "swift-system")]),
        // The domain: the catalog of touchpoint types, the touchpoint rules, the ticket lifecycle, amounts.
        .target(name: "TouchlogDomain", dependencies: ["CloudEvents"]),
        // The store: one LMDB environment and its databases; the append-only log, its record, hash chain
        // and identity index, and the verification of the log.
        .target(
            name: "TouchlogStore",
            dependencies: [
                "LMDB", "CloudEvents", "TouchlogDomain",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Projections folded from the log: ticket state, loyalty, rep timelines; rules, rebuilds, verification.
        .target(
            name: "TouchlogProjections",
            dependencies: [
                "TouchlogStore", "TouchlogDomain", "LMDB", "CloudEvents",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The one ingest pipeline: read (files, gzip, standard input, any byte source), validate, batch,
        // prepare, commit durably, then bring the projections up to date.
        .target(
            name: "TouchlogIngest",
            dependencies: [
                "CZlib", "CloudEvents", "TouchlogDomain", "TouchlogStore", "TouchlogProjections",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Proof that the history is complete and unaltered: the full audit, signed seals.
        .target(
            name: "TouchlogAudit",
            dependencies: [
                "TouchlogStore", "TouchlogDomain", "TouchlogProjections", "LMDB", "CloudEvents",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Imports of help-desk exports through declarative mappings (TOML, read with the projections' TOML
        // parser): streaming CSV and JSON, the mapping engine, the built-in ServiceNow, Zendesk and Freshdesk
        // mappings, and the checks against the ServiceNow export's own counters.
        .target(
            name: "TouchlogImport",
            dependencies: [
                "TouchlogIngest", "TouchlogDomain", "TouchlogStore", "TouchlogProjections", "CloudEvents",
            ]),
        // Deterministic synthetic touchpoints for the demo, tests and benchmarks.
        .target(name: "TouchlogGenerator"),
        // `touchlog bench`: the engine against raw LMDB and the Python peer, in one process.
        .target(
            name: "TouchlogBench",
            dependencies: [
                "TouchlogStore", "TouchlogDomain", "TouchlogIngest", "TouchlogProjections", "LMDB",
                "CloudEvents",
                "TouchlogGenerator",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // `touchlog report`: one customer's (or ticket's) verified history as a self-contained HTML page
        // with an SVG timeline, a formula-safe CSV, and a PDF when a renderer is installed.
        .target(
            name: "TouchlogReport",
            dependencies: [
                "TouchlogStore", "TouchlogDomain", "TouchlogProjections", "TouchlogAudit", "CloudEvents",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // `touchlog serve`: the HTTP service (CloudEvents ingest with group commit, reads, the live
        // stream, tokens). Only the command line and its own tests depend on it.
        .target(
            name: "TouchlogService",
            dependencies: [
                "TouchlogStore", "TouchlogDomain", "TouchlogProjections", "CloudEvents",
                "LMDB",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // The command line as a library, so commands are testable in process.
        .target(
            name: "TouchlogCLI",
            dependencies: [
                "TouchlogDomain", "TouchlogStore", "TouchlogIngest", "TouchlogProjections", "TouchlogAudit",
                "TouchlogImport", "CloudEvents", "TouchlogGenerator", "TouchlogBench", "TouchlogReport",
                "TouchlogService",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(name: "touchlog", dependencies: ["TouchlogCLI", "LMDB"]),
        // What the test targets share: temporary directories and files, the one way tests open a store,
        // touchpoint builders, generated samples, a seeded random source.
        .target(
            name: "TouchlogTestSupport",
            dependencies: ["TouchlogStore", "TouchlogDomain", "CloudEvents", "TouchlogGenerator"],
            path: "Tests/TouchlogTestSupport"
        ),
        .testTarget(
            name: "LMDBTests",
            dependencies: [
                "LMDB", "TouchlogTestSupport", .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .testTarget(name: "CloudEventsTests", dependencies: ["CloudEvents", "TouchlogTestSupport"]),
        // The catalog and the touchpoint rules: a new event type touches the catalog and these tests only.
        .testTarget(
            name: "TouchlogDomainTests",
            dependencies: ["TouchlogDomain", "CloudEvents", "TouchlogTestSupport"]),
        .testTarget(
            name: "TouchlogStoreTests",
            dependencies: [
                "TouchlogTestSupport", "TouchlogStore", "TouchlogDomain", "TouchlogGenerator", "CloudEvents",
                "LMDB",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .testTarget(
            name: "TouchlogProjectionsTests",
            dependencies: [
                "TouchlogTestSupport",
                "TouchlogProjections", "TouchlogStore", "TouchlogDomain", "TouchlogGenerator", "CloudEvents",
                "LMDB",
            ]
        ),
        .testTarget(
            name: "TouchlogAuditTests",
            dependencies: [
                "TouchlogTestSupport",
                "TouchlogAudit", "TouchlogStore", "TouchlogDomain", "TouchlogProjections", "LMDB",
                "TouchlogGenerator",
            ]
        ),
        .testTarget(
            name: "TouchlogImportTests",
            dependencies: [
                "TouchlogTestSupport", "TouchlogImport", "TouchlogIngest", "TouchlogStore", "TouchlogDomain",
                "CloudEvents",
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "TouchlogIngestTests",
            dependencies: [
                "TouchlogTestSupport", "TouchlogIngest", "TouchlogProjections", "TouchlogStore",
                "TouchlogDomain",
                "CloudEvents",
            ]),
        .testTarget(name: "TouchlogGeneratorTests", dependencies: ["TouchlogGenerator"]),
        .testTarget(
            name: "TouchlogReportTests",
            dependencies: [
                "TouchlogTestSupport", "TouchlogReport", "TouchlogStore", "TouchlogDomain",
                "TouchlogProjections", "TouchlogGenerator", "CloudEvents",
            ]),
        .testTarget(
            name: "TouchlogCLITests",
            dependencies: [
                "TouchlogTestSupport",
                "TouchlogCLI", "TouchlogStore", "TouchlogDomain", "TouchlogIngest", "TouchlogProjections",
                "TouchlogAudit",
                "TouchlogImport",
                "TouchlogGenerator", "TouchlogBench", "LMDB",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
