#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Polls `condition` every 10 ms until it returns `true`, so tests wait for an effect instead
/// of sleeping a guessed amount.
///
/// The deadline is a backstop for an effect that never comes, never a measure of how fast it
/// comes: it is at least ``minimumWait``, whatever the caller asks. Waits of 5 s ran out in a
/// CI run on two cores busy with builds, where everything took several times longer; a longer
/// deadline only makes a broken test slower to report.
///
/// - Parameters:
///   - timeout: How long to keep polling, at least ``minimumWait``.
///   - condition: Checked repeatedly; may throw to stop early.
/// - Throws: ``WaitUntilTimeout`` when the condition never held, or what `condition` threw.
public func waitUntil(timeout: Duration, _ condition: () async throws -> Bool) async throws {
    let timeout = max(timeout, minimumWait)
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline { throw WaitUntilTimeout(timeout: timeout) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// The shortest deadline ``waitUntil(timeout:_:)`` keeps.
public let minimumWait: Duration = .seconds(60)

/// Thrown by ``waitUntil(timeout:_:)``.
public struct WaitUntilTimeout: Error, CustomStringConvertible {
    public let timeout: Duration
    public var description: String { "condition still false after \(timeout)" }
}

/// Checks `condition` every 2 ms on the calling thread until it holds or `timeout` passes.
///
/// For timing a side effect precisely: unlike ``waitUntil(timeout:_:)`` it never suspends, so
/// a cooperative thread pool kept busy by other tests cannot delay the measurement.
///
/// - Returns: Whether the condition held in time.
public func pollSynchronously(timeout: Duration, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        usleep(2_000)
    }
    return try condition()
}
