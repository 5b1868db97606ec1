public import Foundation

/// ISO-8601 datetimes exactly as Celery (Python's `datetime`) writes and reads them.
///
/// `eta`, `expires` and `date_done` travel as `datetime.isoformat()` of an aware UTC datetime:
/// `2026-11-25T01:59:22.347288+00:00`, and Python drops the fraction when microseconds are 0.
/// Hand-written on epoch arithmetic because `DateFormatter`/`ISO8601DateFormatter` are slow,
/// cannot express "fraction only when non-zero", and round sub-millisecond digits.
public enum CeleryDate {
    /// Parses what Python's `datetime.fromisoformat` accepts in practice on the wire:
    /// `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM[:SS[.fraction]]`,
    /// optionally followed by `Z` or an offset `±HH[:MM[:SS]]` / `±HHMM`.
    ///
    /// A naive datetime (no offset) is taken as UTC, which is what Celery assumes with
    /// `enable_utc`. Fraction digits beyond the sixth are truncated, as Python does.
    /// - Returns: `nil` for anything malformed or out of range.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// The byte-level form of ``parse(_:)``.
    public static func parse(bytes b: UnsafeBufferPointer<UInt8>) -> Date? {
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in i..<(i + n) {
                let d = Int(b[k]) - 48
                guard d >= 0, d <= 9 else { return nil }
                v = v * 10 + d
            }
            i += n
            return v
        }
        func eat(_ c: Character) -> Bool {
            if i < b.count, b[i] == c.asciiValue! { i += 1; return true }
            return false
        }
        guard let year = digits(4), year >= 1, eat("-"), let month = digits(2), eat("-"), let day = digits(2),
            (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year)
        else { return nil }
        var hour = 0, minute = 0, second = 0, micro = 0
        if i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") {
            i += 1
            guard let h = digits(2), eat(":"), let m = digits(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if eat(":") {
                guard let s = digits(2), s < 60 else { return nil }
                second = s
                if eat(".") || eat(",") {
                    var n = 0
                    while i < b.count, b[i] >= 48, b[i] <= 57 {
                        if n < 6 { micro = micro * 10 + Int(b[i] - 48) }
                        n += 1
                        i += 1
                    }
                    guard n > 0 else { return nil }
                    for _ in min(n, 6)..<6 { micro *= 10 }
                }
            }
        }
        var offset = 0
        if i < b.count {
            if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
                i += 1
            } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let oh = digits(2), oh < 24 else { return nil }
                var om = 0, os = 0
                if eat(":") {
                    guard let m = digits(2), m < 60 else { return nil }
                    om = m
                    if eat(":") {
                        guard let s = digits(2), s < 60 else { return nil }
                        os = s
                    }
                } else if let m = digits(2) {
                    guard m < 60 else { return nil }
                    om = m
                }
                offset = sign * (oh * 3600 + om * 60 + os)
            } else {
                return nil
            }
        }
        guard i == b.count else { return nil }
        let seconds = daysFromCivil(year: year, month: month, day: day) * 86_400
            + hour * 3600 + minute * 60 + second - offset
        return date(seconds: seconds, microseconds: micro)
    }

    /// Formats like Python's `datetime.isoformat()` of the same instant as an aware UTC
    /// datetime: microseconds rounded half-to-even, fraction omitted when they are 0.
    public static func format(_ date: Date) -> String {
        let (seconds, micro) = split(date)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secOfDay = seconds - days * 86_400
        let (y, m, d) = civilFromDays(days)
        // Written in place: a result's `date_done` is formatted for every task, and building
        // the digits of each field in an array of its own cost a microsecond.
        return String(unsafeUninitializedCapacity: 32) { out in
            var n = 0
            func put(_ v: Int, width: Int) {
                var v = v
                var k = n + width - 1
                while k >= n { out[k] = UInt8(truncatingIfNeeded: 48 + v % 10); v /= 10; k -= 1 }
                n += width
            }
            func put(_ c: Unicode.Scalar) {
                out[n] = UInt8(ascii: c)
                n += 1
            }
            put(y, width: 4)
            put("-")
            put(m, width: 2)
            put("-")
            put(d, width: 2)
            put("T")
            put(secOfDay / 3600, width: 2)
            put(":")
            put(secOfDay / 60 % 60, width: 2)
            put(":")
            put(secOfDay % 60, width: 2)
            if micro != 0 {
                put(".")
                put(micro, width: 6)
            }
            for c in "+00:00".unicodeScalars { put(c) }
            return n
        }
    }

    /// Builds a `Date` from whole epoch seconds and microseconds.
    public static func date(seconds: Int, microseconds: Int) -> Date {
        Date(timeIntervalSince1970: Double(seconds) + Double(microseconds) / 1_000_000)
    }

    /// Splits a date into whole epoch seconds (floored) and microseconds rounded half-to-even.
    ///
    /// A `Double` near 2e9 s resolves ~0.24 µs, so rounding recovers the exact microsecond
    /// a parsed date was built from: parse → format is the identity on Python's output.
    ///
    /// Dates outside Python's `datetime` range (years 1…9999), infinite or NaN ones (a
    /// countdown of `1e300` from the wire, say) are clamped into it (NaN reads as the epoch)
    /// rather than trapping in the conversion to `Int`.
    public static func split(_ date: Date) -> (seconds: Int, microseconds: Int) {
        let raw = date.timeIntervalSince1970
        let t = raw.isNaN ? 0 : min(max(raw, firstSecond), lastSecond)
        let whole = t.rounded(.down)
        var seconds = Int(whole)
        var micro = Int(((t - whole) * 1_000_000).rounded(.toNearestOrEven))
        if micro >= 1_000_000 {
            seconds += 1
            micro -= 1_000_000
        }
        return (seconds, micro)
    }

    /// `0001-01-01T00:00:00` and `9999-12-31T23:59:59`, Python's `datetime.min` and `max` (whole seconds).
    private static let firstSecond: Double = -62_135_596_800
    private static let lastSecond: Double = 253_402_300_799

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Howard Hinnant's days_from_civil: days since 1970-01-01 in the proleptic Gregorian calendar.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The inverse of ``daysFromCivil(year:month:day:)``: days since 1970-01-01 to (year,
    /// month, day) in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    public static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
