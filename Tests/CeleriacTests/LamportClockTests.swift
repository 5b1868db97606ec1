import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct LamportClockTests {
    @Test func forwardCountsFromZeroLikeKombu() {
        var c = LamportClock()
        #expect(c.forward() == 1)
        #expect(c.forward() == 2)
        #expect(c.value == 2)
    }

    @Test(arguments: [(0, 0, 1), (2, 10, 11), (11, 5, 12), (7, 7, 8), (3, -4, 4)])
    func adjustTakesTheMaximumPlusOne(own: Int, other: Int, expected: Int) {
        var c = LamportClock(value: own)
        #expect(c.adjust(other) == expected)
        #expect(c.value == expected)
    }

    @Test func observeRewritesClientTaskSentClocks() throws {
        var c = LamportClock(value: 53)
        let sent = try CeleryEvent(fields: ["type": "task-sent", "uuid": "u", "clock": 1])
        #expect(c.observe(sent) == 52)
        #expect(c.value == 54)
        var fresh = LamportClock()
        #expect(fresh.observe(sent) == 0)
        #expect(fresh.value == 1)
    }

    @Test func observeAdjustsToOtherEventsAndForwardsWithoutAClock() throws {
        var c = LamportClock(value: 54)
        #expect(c.observe(try CeleryEvent(fields: ["type": "task-started", "uuid": "u", "clock": 57])) == 57)
        #expect(c.value == 58)
        #expect(c.observe(try CeleryEvent(fields: ["type": "worker-heartbeat"])) == 59)
        #expect(c.value == 59)
    }

    /// A clock of `Int.max` from the wire (any event or control message) used to trap.
    @Test func adjustingToIntMaxSaturatesInsteadOfTrapping() throws {
        var c = LamportClock(value: 5)
        #expect(c.adjust(.max) == .max)
        #expect(c.forward() == .max)
        #expect(c.observe(try CeleryEvent(fields: ["type": "task-started", "uuid": "u", "clock": .int(.max)])) == .max)
        #expect(c.value == .max)
    }
}
