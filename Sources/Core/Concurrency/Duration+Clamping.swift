/// Durations built from numbers that came off the wire.
///
/// `Duration.seconds(_: Double)` traps when the value does not fit its 128-bit count of
/// attoseconds (about 1.7e20 s) and on NaN; a `time_limit=1e300` sent by any Celery client
/// reached exactly that and killed the worker. Every wait a message or a control command asks
/// for goes through ``seconds(clamping:)`` instead.
extension Duration {
    /// The longest wait a value from the wire can ask for: about 31.7 years, far beyond any
    /// worker's run, and far inside what a `Duration` holds.
    public static let longestWait: Duration = .seconds(1_000_000_000)

    /// `seconds` as a duration that never traps: NaN and values at or below zero are zero,
    /// anything beyond ``longestWait`` (infinity included) is ``longestWait``.
    public static func seconds(clamping seconds: Double) -> Duration {
        guard seconds > 0 else { return .zero }  // NaN compares false
        guard seconds < 1_000_000_000 else { return longestWait }
        return .seconds(seconds)
    }
}
