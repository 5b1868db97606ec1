import Celeriac
import Foundation
import CeleriacTestTags
import Testing

/// Expected values come from CPython 3.11: `datetime.fromisoformat(text)` (naive taken as
/// UTC), its epoch seconds/microseconds, and `.astimezone(utc).isoformat()`.
@Suite(.tags(.unit)) struct CeleryDateTests {
    static let cases: [(String, Int, Int, String)] = [
        ("2026-11-25T01:59:22.347288+00:00", 1795571962, 347288, "2026-11-25T01:59:22.347288+00:00"),
        ("2026-11-25T01:59:22+00:00", 1795571962, 0, "2026-11-25T01:59:22+00:00"),
        ("2026-11-25T01:59:22Z", 1795571962, 0, "2026-11-25T01:59:22+00:00"),
        ("2026-11-25T03:59:22.5+02:00", 1795571962, 500000, "2026-11-25T01:59:22.500000+00:00"),
        ("2026-11-24T20:59:22.000001-05:00", 1795571962, 1, "2026-11-25T01:59:22.000001+00:00"),
        ("2026-11-25T01:59:22.123", 1795571962, 123000, "2026-11-25T01:59:22.123000+00:00"),
        ("2026-11-25 01:59:22", 1795571962, 0, "2026-11-25T01:59:22+00:00"),
        ("2026-11-25T01:59", 1795571940, 0, "2026-11-25T01:59:00+00:00"),
        ("2024-02-29T23:59:59.999999+00:00", 1709251199, 999999, "2024-02-29T23:59:59.999999+00:00"),
        ("1970-01-01T00:00:00+00:00", 0, 0, "1970-01-01T00:00:00+00:00"),
        ("1969-12-31T23:59:59.5+00:00", -1, 500000, "1969-12-31T23:59:59.500000+00:00"),
        ("2026-11-25T01:59:22.1234567+00:00", 1795571962, 123456, "2026-11-25T01:59:22.123456+00:00"),
        ("2026-11-25T01:59:22+0530", 1795552162, 0, "2026-11-24T20:29:22+00:00"),
        ("2026-11-25", 1795564800, 0, "2026-11-25T00:00:00+00:00"),
    ]

    @Test(arguments: cases) func parsesLikePythonAndFormatsAsUTCIsoformat(text: String, seconds: Int, micro: Int, iso: String) throws {
        let date = try #require(CeleryDate.parse(text))
        let split = CeleryDate.split(date)
        #expect(split.seconds == seconds)
        #expect(split.microseconds == micro)
        #expect(CeleryDate.format(date) == iso)
    }

    @Test(arguments: [
        "", "2026-13-01T00:00:00", "2026-02-30T00:00:00", "2026-11-25T24:00:00", "2026-11-25T01:60",
        "2026-11-25T01:59:22.", "2026-11-25T01:59:22+00:00x", "not a date", "2026-11-25T01:59:22 +00:00",
        "26-11-25",
    ])
    func rejectsMalformedDates(text: String) {
        #expect(CeleryDate.parse(text) == nil)
    }

    @Test func everyMicrosecondOfASecondRoundTrips() throws {
        for micro in stride(from: 0, to: 1_000_000, by: 37) {
            let d = CeleryDate.date(seconds: 1_795_571_962, microseconds: micro)
            let text = CeleryDate.format(d)
            let back = try #require(CeleryDate.parse(text))
            #expect(CeleryDate.split(back).microseconds == micro)
            #expect(CeleryDate.format(back) == text)
        }
    }

    @Test func roundsHalfMicrosecondsAndCarriesIntoTheSecond() {
        let d = Date(timeIntervalSince1970: 1_795_571_962.999_999_9)
        #expect(CeleryDate.format(d) == "2026-11-25T01:59:23+00:00")
        #expect(CeleryDate.format(Date(timeIntervalSince1970: 1_795_571_962.000_000_4)) == "2026-11-25T01:59:22+00:00")
    }

    /// `Int(1e300)` used to trap: a date beyond Python's range is clamped to it, NaN is the epoch.
    @Test func formattingDatesBeyondPythonsRangeClampsInsteadOfTrapping() {
        #expect(CeleryDate.format(Date(timeIntervalSince1970: 1e300)) == "9999-12-31T23:59:59+00:00")
        #expect(CeleryDate.format(Date(timeIntervalSince1970: .infinity)) == "9999-12-31T23:59:59+00:00")
        #expect(CeleryDate.format(Date(timeIntervalSince1970: -.infinity)) == "0001-01-01T00:00:00+00:00")
        #expect(CeleryDate.format(Date(timeIntervalSince1970: .nan)) == "1970-01-01T00:00:00+00:00")
        #expect(CeleryDate.split(Date(timeIntervalSince1970: 1e300)).seconds == 253_402_300_799)
    }
}
