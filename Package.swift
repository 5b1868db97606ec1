// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Celeriac",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Celeriac", targets: ["Celeriac"]),
        .library(name: "CeleriacWorker", targets: ["CeleriacWorker"]),
        .library(name: "CeleriacMonitor", targets: ["CeleriacMonitor"]),
        .executable(name: "qworker", targets: ["qworker"]),
        .executable(name: "qload", targets: ["qload"]),
        .executable(name: "qmon", targets: ["qmon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            path: "Sources/CHiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // ncursesw (wide characters) for qmon's screen; only Sources/Monitor/Draw imports it.
        .systemLibrary(
            name: "CNCursesW",
            path: "Sources/CNCursesW",
            providers: [.apt(["libncurses-dev"])]
        ),
        .target(
            name: "Celeriac",
            dependencies: [
                "CHiredis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Core",
            swiftSettings: strict
        ),
        .target(
            name: "CeleriacWorker",
            dependencies: [
                "Celeriac",
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Worker",
            swiftSettings: strict
        ),
        // The demo tasks qworker runs and qload sends (`demo.crash` calls abort()): outside the
        // CeleriacWorker product so no application links them by accident.
        .target(
            name: "CeleriacDemoTasks",
            dependencies: ["Celeriac"],
            path: "Sources/DemoTasks",
            swiftSettings: strict
        ),
        // qmon's model, layout and screen; `Model/` is pure (no I/O, time passed in).
        .target(
            name: "CeleriacMonitor",
            dependencies: [
                "Celeriac",
                "CNCursesW",
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Monitor",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "qworker",
            dependencies: ["CeleriacWorker", "CeleriacDemoTasks"],
            path: "Sources/qworker",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "qmon",
            dependencies: ["CeleriacMonitor"],
            path: "Sources/qmon",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "qload",
            dependencies: [
                "Celeriac", "CeleriacDemoTasks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/qload",
            swiftSettings: strict
        ),
        // The test kit the tests and the benchmark share: a private redis-server per suite,
        // child processes, temp dirs, parsers for Redis's `INFO` replies, and an in-memory
        // broker driver for unit tests of the worker's logic. Dev tooling, not a
        // product: nothing outside this package links it.
        // The tags scripts/test.sh selects test phases by; every test target links it.
        .target(
            name: "CeleriacTestTags",
            path: "Sources/TestTags",
            swiftSettings: strict
        ),
        .target(
            name: "CeleriacTestSupport",
            dependencies: ["Celeriac", .product(name: "Logging", package: "swift-log")],
            path: "Sources/TestSupport",
            swiftSettings: strict
        ),
        // The benchmark of issue #6: Swift and Python Celery side by side on one private Redis.
        // Dev tooling on the test kit (CeleriacTestSupport: private redis-server, child processes,
        // INFO parsers); CeleriacMonitor because it measures qmon's model (MonitorIngest, MonitorProbe).
        .target(
            name: "CeleriacBench",
            dependencies: [
                "Celeriac", "CeleriacMonitor", "CeleriacTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/Bench",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "qbench",
            dependencies: ["CeleriacBench", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/qbench",
            swiftSettings: strict
        ),
        .testTarget(
            name: "CeleriacTests",
            dependencies: ["CeleriacTestTags", "Celeriac", "CeleriacTestSupport"],
            path: "Tests/CeleriacTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "CeleriacRedisTests",
            dependencies: ["CeleriacTestTags", 
                "Celeriac", "CeleriacTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/CeleriacRedisTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "CeleriacWorkerTests",
            dependencies: ["CeleriacTestTags", 
                "Celeriac", "CeleriacWorker", "CeleriacDemoTasks", "CeleriacTestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/CeleriacWorkerTests",
            swiftSettings: strict
        ),
        // glibc's mallinfo2 (not in Swift's Glibc module), for the monitor's memory-per-task test.
        .systemLibrary(name: "CMallocStats", path: "Tests/CMallocStats"),
        .testTarget(
            name: "CeleriacMonitorTests",
            dependencies: ["CeleriacTestTags", "CeleriacMonitor", "Celeriac", "CMallocStats"],
            path: "Tests/CeleriacMonitorTests",
            swiftSettings: strict
        ),
        .testTarget(
            name: "CeleriacBenchTests",
            dependencies: ["CeleriacTestTags", "CeleriacBench", "Celeriac", "CeleriacTestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/CeleriacBenchTests",
            swiftSettings: strict
        ),
        // Against real Python Celery 5.7 (CELERIAC_PYTHON) and the built qworker (CELERIAC_BIN_DIR).
        .testTarget(
            name: "CeleriacInteropTests",
            dependencies: ["CeleriacTestTags", "Celeriac", "CeleriacMonitor", "CeleriacDemoTasks", "CeleriacTestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/CeleriacInteropTests",
            swiftSettings: strict
        ),
        // Issue #5's fault suite: kill -9, Redis restarts and outages, poison messages and
        // shutdowns, done to real qworker processes (CELERIAC_BIN_DIR) under load, counted.
        .testTarget(
            name: "CeleriacFaultTests",
            dependencies: ["CeleriacTestTags", "Celeriac", "CeleriacMonitor", "CeleriacTestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/CeleriacFaultTests",
            swiftSettings: strict
        ),
    ]
)
