import Foundation

/// The seed of a randomised test: the one written in the test, or `CELERIAC_TEST_SEED` (decimal
/// or 0x-hex) to replay or explore another. Tests put the seed in their failure messages, so a
/// failing run says how to reproduce it: `CELERIAC_TEST_SEED=<seed> swift test --filter <test>`.
enum TestSeed {
    static func value(default fixed: UInt64) -> UInt64 {
        guard let text = ProcessInfo.processInfo.environment["CELERIAC_TEST_SEED"], !text.isEmpty else { return fixed }
        let parsed = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        guard let parsed else { fatalError("CELERIAC_TEST_SEED=\(text) is not a UInt64 (decimal or 0x-hex)") }
        return parsed
    }

    /// What a failure message says about `seed`: the seed and how to run the test with it again.
    static func replay(_ seed: UInt64) -> String {
        "seed \(seed) (replay: CELERIAC_TEST_SEED=\(seed))"
    }
}
