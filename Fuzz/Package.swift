// swift-tools-version:5.4
// Coverage-guided fuzzers (libFuzzer) for every decoder that reads bytes from Redis or a file.
//
// A package of its own so the root package's `swift build`/`swift test` never see it: these
// targets only link with `-sanitize=fuzzer` (libFuzzer supplies `main`). Tools version 5.4
// on purpose: from 5.5 SwiftPM renames an executable's entry point (`<Target>_main`) and
// links `main` to it, which has nothing to point at when libFuzzer supplies `main`. Build and run them
// with `scripts/fuzz.sh`, which passes `-sanitize=fuzzer,address -parse-as-library` and
// `-enable-testing` (the fuzzers compare the internal fast decoders with the general ones).
import PackageDescription

let targets = [
    "FuzzJSON", "FuzzKombuEnvelope", "FuzzTaskMessage", "FuzzEvent", "FuzzControl",
    "FuzzResultMeta", "FuzzStoredRecords", "FuzzConfig", "FuzzRedisURL", "FuzzCanvas",
]

let package = Package(
    name: "CeleriacFuzz",
    dependencies: [.package(name: "Celeriac", path: "..")],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
    ] + targets.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzSupport", .product(name: "Celeriac", package: "Celeriac")],
            path: "Sources/\(name)")
    }
)
