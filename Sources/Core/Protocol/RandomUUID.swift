import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random (version 4) UUIDs as lowercase text, as Python's `str(uuid.uuid4())`: task ids and
/// delivery tags.
///
/// `UUID().uuidString.lowercased()` cost several microseconds per id on Linux (Foundation
/// opens, reads and closes `/dev/urandom` for each one, then formats with `sprintf` and
/// lowercases a copy): a client sends two per task, and that was a large share of a bulk
/// send. Here the kernel's randomness (`arc4random_buf`, i.e. `getrandom(2)`, the same
/// source) is fetched 4 KB at a time into a locked pool and formatted straight into the
/// string's storage.
///
/// The pool is discarded in a forked child (a `pthread_atfork` handler bumps a generation
/// counter), so parent and child can never hand out the same bytes.
public enum RandomUUID {
    /// A fresh `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx` string.
    public static func string() -> String {
        let (high, low) = pool.withLock { $0.take() }
        return format(high: high, low: low)
    }

    /// The text of the UUID whose 16 bytes are `high` then `low` (big-endian), with the
    /// version and variant bits set as uuid4 sets them. Separate so a test can check the
    /// layout against known values.
    static func format(high: UInt64, low: UInt64) -> String {
        let high = high & ~0xF000 | 0x4000  // version 4 in the high nibble of byte 6
        let low = low & ~(0xC000 << 48) | (0x8000 << 48)  // variant 10xx in byte 8
        return String(unsafeUninitializedCapacity: 36) { out in
            var k = 0
            func hex(_ word: UInt64, from: Int, to: Int) {
                // Nibbles `from..<to` counted from the most significant one.
                for nibble in from..<to {
                    let v = UInt8(truncatingIfNeeded: word >> UInt64(60 - nibble * 4)) & 0xF
                    out[k] = v < 10 ? 0x30 + v : 0x57 + v
                    k += 1
                }
            }
            func dash() {
                out[k] = UInt8(ascii: "-")
                k += 1
            }
            hex(high, from: 0, to: 8)
            dash()
            hex(high, from: 8, to: 12)
            dash()
            hex(high, from: 12, to: 16)
            dash()
            hex(low, from: 0, to: 4)
            dash()
            hex(low, from: 4, to: 16)
            return k
        }
    }

    private static let pool = Mutex(Pool())

    /// Bumped in a forked child, so a pool filled before the fork is refilled.
    private static let forkGeneration = Atomic<UInt64>(0)

    /// Registers the fork handler once, before the first pool fill.
    private static let forkHandler: Void = {
        _ = pthread_atfork(nil, nil) { RandomUUID.forkGeneration.wrappingAdd(1, ordering: .relaxed) }
    }()

    private struct Pool: ~Copyable {
        static let words = 512  // 4 KB: 256 UUIDs per getrandom(2)
        let storage = UnsafeMutablePointer<UInt64>.allocate(capacity: Pool.words)
        var next = Pool.words
        var generation = UInt64.max

        deinit { storage.deallocate() }

        mutating func take() -> (UInt64, UInt64) {
            let current = RandomUUID.forkGeneration.load(ordering: .relaxed)
            if next + 2 > Pool.words || generation != current {
                RandomUUID.forkHandler
                arc4random_buf(storage, Pool.words * 8)
                next = 0
                generation = RandomUUID.forkGeneration.load(ordering: .relaxed)
            }
            defer { next += 2 }
            return (storage[next], storage[next + 1])
        }
    }
}
