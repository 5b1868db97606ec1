/// Polls `condition` every 10 ms until it returns `true`, so tests wait for an effect instead
/// of sleeping a guessed amount.
///
/// - Parameters:
///   - timeout: How long to keep polling.
///   - condition: Checked repeatedly; may throw to stop early.
/// - Throws: ``WaitUntilTimeout`` when the condition never held, or what `condition` threw.
public func waitUntil(timeout: Duration, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline { throw WaitUntilTimeout(timeout: timeout) }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// Thrown by ``waitUntil(timeout:_:)``.
public struct WaitUntilTimeout: Error, CustomStringConvertible {
    public let timeout: Duration
    public var description: String { "condition still false after \(timeout)" }
}
