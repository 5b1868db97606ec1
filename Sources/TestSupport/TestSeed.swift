import Foundation

/// The seed of a randomised test: the one written in the test, or `CELERIAC_TEST_SEED` (decimal
/// or 0x-hex) to replay or explore another. Tests put the seed in their failure messages, so a
/// failing run says how to reproduce it: `CELERIAC_TEST_SEED=<seed> swift test --filter <test>`.
public enum TestSeed {
    public static func value(default fixed: UInt64) -> UInt64 {
        guard let text = ProcessInfo.processInfo.environment["CELERIAC_TEST_SEED"], !text.isEmpty else { return fixed }
        let parsed = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        guard let parsed else { fatalError("CELERIAC_TEST_SEED=\(text) is not a UInt64 (decimal or 0x-hex)") }
        return parsed
    }

    /// What a failure message says about `seed`: the seed and how to run the test with it again.
    public static func replay(_ seed: UInt64) -> String {
        "seed \(seed) (replay: CELERIAC_TEST_SEED=\(seed))"
    }
}

/// A tiny seeded generator (SplitMix64), so randomised and fuzz runs are reproducible.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
