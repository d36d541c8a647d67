// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "touchlog",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "touchlog", targets: ["touchlog"]),
        .library(name: "TouchlogStore", targets: ["TouchlogStore"]),
        // For the micro-benchmarks in Benchmarks/ (a package of its own).
        .library(name: "CloudEvents", targets: ["CloudEvents"]),
        .library(name: "TouchlogGenerator", targets: ["TouchlogGenerator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // LMDB from the system (Debian: liblmdb-dev), nothing else in this module.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // The one safe wrapper over LMDB: the only module with unsafe pointers to LMDB memory.
        .target(name: "LMDB", dependencies: ["CLMDB"]),
        // CloudEvents 1.0 JSON: parsing, validation, serialisation, RFC 3339 times, JSON Lines reading.
        .target(name: "CloudEvents"),
        // The append-only touchpoint log: catalog rules, record encoding, hash chain, LMDB layout.
        .target(
            name: "TouchlogStore",
            dependencies: [
                "LMDB", "CloudEvents",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Deterministic synthetic touchpoints for the demo, tests and benchmarks.
        .target(name: "TouchlogGenerator"),
        // `touchlog bench`: the engine against raw LMDB and the Python peer, in one process.
        .target(name: "TouchlogBench", dependencies: ["TouchlogStore", "LMDB", "CloudEvents", "TouchlogGenerator"]),
        // The command line as a library, so commands are testable in process.
        .target(
            name: "TouchlogCLI",
            dependencies: [
                "TouchlogStore", "CloudEvents", "TouchlogGenerator", "TouchlogBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "touchlog", dependencies: ["TouchlogCLI"]),
        .testTarget(name: "LMDBTests", dependencies: ["LMDB"]),
        .testTarget(name: "CloudEventsTests", dependencies: ["CloudEvents"]),
        .testTarget(name: "TouchlogStoreTests", dependencies: ["TouchlogStore", "TouchlogGenerator"]),
        .testTarget(name: "TouchlogGeneratorTests", dependencies: ["TouchlogGenerator"]),
        .testTarget(
            name: "TouchlogCLITests",
            dependencies: ["TouchlogCLI", "TouchlogStore", "TouchlogGenerator"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
