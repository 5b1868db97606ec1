// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Celeriac",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Celeriac", targets: ["Celeriac"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            path: "Sources/CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "Celeriac",
            dependencies: [
                "CHiredis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Core",
            swiftSettings: strict
        ),
        // Test support: a real redis-server per suite, temp dirs, process helpers.
        .target(
            name: "CeleriacTestSupport",
            dependencies: ["Celeriac"],
            path: "Tests/Support",
            swiftSettings: strict
        ),
        .testTarget(
            name: "CeleriacTests",
            dependencies: ["Celeriac"],
            path: "Tests/CeleriacTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "CeleriacRedisTests",
            dependencies: [
                "Celeriac", "CeleriacTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/CeleriacRedisTests",
            swiftSettings: strict
        ),
    ]
)
