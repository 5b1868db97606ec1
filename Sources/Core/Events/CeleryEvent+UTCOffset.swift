public import Foundation

/// Celery's `utcoffset` convention and the receiver-side timestamp correction.
///
/// Celery sends `utcoffset` as `time.timezone / 3600` (or `time.altzone / 3600` during DST):
/// hours **west** of UTC as a float, the opposite sign of the usual convention. UTC+2 sends
/// `-2.0`, UTC-5 sends `5.0`, India (UTC+5:30) sends `-5.5`. Receivers shift the sender's
/// `timestamp` by the difference between the two offsets (`celery.utils.time.adjust_timestamp`).
extension CeleryEvent {
    /// This process's offset in Celery's convention (hours west of UTC), for ``EventSender``
    /// and for ``adjustedTimestamp(localOffset:)``.
    ///
    /// - Parameters:
    ///   - timeZone: The local zone; `.current` by default.
    ///   - date: The instant whose DST state applies (Python looks at `localtime().tm_isdst`).
    /// - Returns: E.g. `-2.0` in Central European Summer Time, `0.0` in UTC.
    public static func localUTCOffset(timeZone: TimeZone = .current, at date: Date = Date()) -> Double {
        utcOffset(secondsEastOfUTC: timeZone.secondsFromGMT(for: date))
    }

    /// Converts the usual "seconds east of UTC" to Celery's hours west: `7200` → `-2.0`.
    public static func utcOffset(secondsEastOfUTC seconds: Int) -> Double {
        // Negate the integer first so UTC gives 0.0, never -0.0 (Python prints 0/3600 as 0.0).
        Double(-seconds) / 3600
    }

    /// `timestamp - (utcoffset - localOffset) * 3600`, what `celery.events.state` stores.
    ///
    /// - Parameters:
    ///   - timestamp: The sender's epoch seconds.
    ///   - utcoffset: The sender's hours west of UTC.
    ///   - localOffset: The receiver's hours west of UTC (``localUTCOffset(timeZone:at:)``).
    public static func adjustTimestamp(_ timestamp: Double, utcoffset: Double, localOffset: Double) -> Double {
        timestamp - (utcoffset - localOffset) * 3600
    }

    /// This event's timestamp corrected to the receiver's clock zone, as Celery's
    /// `EventReceiver.event_from_message` does.
    ///
    /// - Parameter localOffset: The receiver's hours west of UTC.
    /// - Returns: `nil` without a `timestamp`; the raw timestamp when `utcoffset` is missing
    ///   (Celery then skips the correction too).
    public func adjustedTimestamp(localOffset: Double) -> Double? {
        guard let timestamp else { return nil }
        guard let utcoffset else { return timestamp }
        return Self.adjustTimestamp(timestamp, utcoffset: utcoffset, localOffset: localOffset)
    }
}
