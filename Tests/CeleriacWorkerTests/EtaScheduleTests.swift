@testable import CeleriacWorker
import Foundation
import CeleriacTestTags
import Testing

/// The heap of ETA waiters: earliest first, ties in arrival order, and what the timer needs
/// to know (the earliest deadline, whether a new waiter must re-arm it).
@Suite(.tags(.integration)) struct EtaScheduleTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func dueWaitersComeOutEarliestFirstAndTheRestStay() {
        var s = EtaSchedule()
        let c = s.add(due: t0 + 30).waiter
        let a = s.add(due: t0 + 10).waiter
        let b = s.add(due: t0 + 20).waiter
        let d = s.add(due: t0 + 40).waiter
        #expect(s.earliest == t0 + 10)
        #expect(s.takeDue(at: t0 + 5).isEmpty)
        #expect(s.takeDue(at: t0 + 30) == [a, b, c], "due at or before the time, earliest first")
        #expect(s.count == 1)
        #expect(s.earliest == t0 + 40)
        #expect(s.takeDue(at: t0 + 100) == [d])
        #expect(s.earliest == nil)
    }

    @Test func waitersDueAtTheSameMomentComeOutInTheOrderTheyWereAdded() {
        var s = EtaSchedule()
        let waiters = (0..<50).map { _ in s.add(due: t0).waiter }
        #expect(s.takeDue(at: t0) == waiters)
    }

    @Test func onlyAWaiterEarlierThanAllOthersReArmsTheTimer() {
        var s = EtaSchedule()
        #expect(s.add(due: t0 + 60).isEarliest, "the first one arms it")
        #expect(!s.add(due: t0 + 90).isEarliest)
        #expect(!s.add(due: t0 + 60).isEarliest, "a tie is woken by the timer already armed for that time")
        #expect(s.add(due: t0 + 5).isEarliest)
        #expect(s.earliest == t0 + 5)
    }

    @Test func anETAThatIsNotANumberIsDueAtOnceAndFarOnesKeepTheirPlace() {
        var s = EtaSchedule()
        let far = s.add(due: .distantFuture).waiter
        let year9999 = s.add(due: Date(timeIntervalSince1970: 253_402_300_799)).waiter
        let infinite = s.add(due: Date(timeIntervalSinceReferenceDate: .infinity)).waiter
        let nan = s.add(due: Date(timeIntervalSinceReferenceDate: .nan))
        #expect(nan.isEarliest)
        #expect(s.takeDue(at: t0) == [nan.waiter])
        #expect(s.takeAll() == [far, year9999, infinite], "distantFuture is the year 4001")
        #expect(s.count == 0)
    }
}
