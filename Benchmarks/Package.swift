// swift-tools-version: 6.1
// Micro-benchmarks of Touchlog's hot paths (ordo-one/benchmark). A package of its own, beside the
// main one, so the benchmark dependency never enters the product's graph or CI's build.
//
//     cd Benchmarks && swift package benchmark                      # run them all
//     swift package benchmark thresholds check                      # compare with Thresholds/
//     swift package --allow-writing-to-package-directory benchmark thresholds update
import PackageDescription

let package = Package(
    name: "TouchlogBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "touchlog", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "TouchlogBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TouchlogDomain", package: "touchlog"),
                .product(name: "TouchlogStore", package: "touchlog"),
                .product(name: "TouchlogGenerator", package: "touchlog"),
                .product(name: "CloudEvents", package: "touchlog"),
            ],
            path: "Benchmarks/TouchlogBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
