import Foundation
import Synchronization

/// Per-task-name rate limits as Celery applies them in a worker: a token bucket per task name,
/// `"100/s"`, `"10/m"`, `"1/h"`, or a bare number meaning per second; `"0"`/empty disables.
final class TaskRateLimiter: Sendable {
    private struct Bucket {
        var rate: Double       // tokens per second
        var text: String       // as given, for `inspect registered`
        var tokens: Double
        var updated: Double
    }

    private let buckets = Mutex<[String: Bucket]>([:])

    /// Parses Celery's rate string into tokens per second; `nil` for invalid text, `0` to disable.
    static func parse(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { return 0 }
        let parts = t.split(separator: "/", maxSplits: 1)
        guard let n = Double(parts[0]), n >= 0, n.isFinite else { return nil }
        guard parts.count == 2 else { return n }
        switch parts[1].first {
        case "s": return n
        case "m": return n / 60
        case "h": return n / 3600
        default: return nil
        }
    }

    /// Sets (or with 0, removes) the limit for `name`; `text` is how the user wrote it.
    func set(_ name: String, perSecond rate: Double, text: String) {
        buckets.withLock { b in
            if rate <= 0 { b[name] = nil } else { b[name] = Bucket(rate: rate, text: text, tokens: 1, updated: Self.now()) }
        }
    }

    /// Whether `name` has a limit.
    func limits(_ name: String) -> Bool { buckets.withLock { $0[name] != nil } }

    /// The limit of `name` as it was set, if any.
    func describe(_ name: String) -> String? { buckets.withLock { $0[name]?.text } }

    /// Takes a token for `name`; returns how long to wait before trying again, or `nil` if the
    /// task may start now.
    func take(_ name: String) -> Duration? {
        buckets.withLock { b -> Duration? in
            guard var bucket = b[name] else { return nil }
            let now = Self.now()
            bucket.tokens = min(1, bucket.tokens + (now - bucket.updated) * bucket.rate)
            bucket.updated = now
            defer { b[name] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            // The rate comes from a control command: a tiny one waits long, never traps.
            return .seconds(clamping: (1 - bucket.tokens) / bucket.rate)
        }
    }

    private static func now() -> Double { Date().timeIntervalSince1970 }
}
