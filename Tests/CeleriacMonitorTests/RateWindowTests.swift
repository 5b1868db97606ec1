import CeleriacMonitor
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct RateWindowTests {
    @Test func ratesOverOneSecondOneMinuteAndFifteenMinutes() {
        var w = RateWindow()
        // 10 per second for 15 minutes, then 100 per second for the last minute.
        for s in 0..<900 {
            let n = s >= 840 ? 100 : 10
            for k in 0..<n { w.record(at: 10_000 + Double(s) + Double(k) / Double(n)) }
        }
        let now = 10_900.5
        #expect(w.rate(over: 1, now: now) == 100)
        #expect(w.rate(over: 60, now: now) == 100)
        #expect(w.rate(over: 900, now: now) == Double(840 * 10 + 60 * 100) / 900)
        #expect(w.total == 840 * 10 + 60 * 100)
        // Five minutes of silence later.
        #expect(w.rate(over: 60, now: now + 300) == 0)
        #expect(w.rate(over: 900, now: now + 300) == Double(540 * 10 + 60 * 100) / 900)
    }

    @Test func excludesTheCurrentPartialSecond() {
        var w = RateWindow()
        w.record(at: 100.2)
        w.record(at: 101.1)
        #expect(w.count(last: 1, now: 101.9) == 1)
        #expect(w.count(last: 1, now: 102.0) == 1)
        #expect(w.count(last: 2, now: 102.0) == 2)
    }

    @Test func seriesIsOldestFirstAndFixedLength() {
        var w = RateWindow(capacity: 60)
        w.record(at: 57.5, count: 3)
        w.record(at: 59.9)
        let series = w.series(last: 5, now: 60.1)
        #expect(series == [0, 0, 3, 0, 1])
        #expect(w.series(last: 60, now: 60.1).count == 60)
        #expect(RateWindow().series(last: 60, now: 5).allSatisfy { $0 == 0 })
    }

    @Test func acceptsLateEventsInsideTheWindowAndDropsOlderOnes() {
        var w = RateWindow(capacity: 10)
        w.record(at: 100)
        w.record(at: 95)  // late but in the window
        w.record(at: 80)  // too old for the buckets
        #expect(w.count(last: 10, now: 101) == 2)
        #expect(w.total == 3)
        // A jump longer than the window clears everything.
        w.record(at: 500)
        #expect(w.count(last: 10, now: 501) == 1)
    }
}
