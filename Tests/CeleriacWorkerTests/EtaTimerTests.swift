import CeleriacTestSupport
@testable import CeleriacWorker
import Foundation
import Synchronization
import CeleriacTestTags
import Testing

/// The worker's one ETA timer, on a clock moved by hand: waiters wake when due and not before,
/// an earlier ETA re-arms the timer, closing or cancelling wakes waiters with `false`, and the
/// timer wakes once per nap whatever the number waiting.
@Suite(.tags(.integration), .timeLimit(.minutes(1))) struct EtaTimerTests {
    /// A clock that moves only when told; its sleepers wake when it passes their deadline.
    final class HandClock: EtaClock {
        private struct Sleeper {
            let until: Date
            let continuation: CheckedContinuation<Void, any Error>
        }
        private struct State {
            var now: Date
            var sleepers: [Int: Sleeper] = [:]
            var naps = 0
            var lastNap: Duration?
        }
        private let state: Mutex<State>

        init(now: Date) { state = Mutex(State(now: now)) }

        func now() -> Date { state.withLock { $0.now } }

        /// Naps begun so far, and how long the last one was to be.
        var naps: Int { state.withLock { $0.naps } }
        var lastNap: Duration? { state.withLock { $0.lastNap } }

        func sleep(for duration: Duration) async throws {
            let id = state.withLock { s -> Int in s.naps += 1; s.lastNap = duration; return s.naps }
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                    let cancelled = state.withLock { s -> Bool in
                        if Task.isCancelled { return true }
                        s.sleepers[id] = Sleeper(until: s.now + seconds, continuation: c)
                        return false
                    }
                    if cancelled { c.resume(throwing: CancellationError()) }
                }
            } onCancel: {
                state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
            }
        }

        func advance(by seconds: Double) {
            let woken = state.withLock { s -> [Sleeper] in
                s.now += seconds
                let due = s.sleepers.filter { $0.value.until <= s.now }
                for id in due.keys { s.sleepers[id] = nil }
                return Array(due.values)
            }
            for sleeper in woken { sleeper.continuation.resume() }
        }
    }

    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// Starts a waiter for `eta` and returns its outcome's task once the timer holds it.
    private func waiter(_ timer: EtaTimer, until eta: Date, expectWaiting n: Int) async throws -> Task<Bool, Never> {
        let task = Task { await timer.wait(until: eta) }
        try await waitUntil(timeout: .seconds(10)) { timer.waiting == n }
        return task
    }

    @Test func waitersWakeInETAOrderEachWhenItsTimeComes() async throws {
        let clock = HandClock(now: t0)
        let timer = EtaTimer(clock: clock)
        let late = try await waiter(timer, until: t0 + 30, expectWaiting: 1)
        let early = try await waiter(timer, until: t0 + 10, expectWaiting: 2)
        let middle = try await waiter(timer, until: t0 + 20, expectWaiting: 3)
        try await waitUntil(timeout: .seconds(10)) { clock.lastNap == .seconds(10) }
        clock.advance(by: 10)
        #expect(await early.value)
        #expect(timer.waiting == 2, "the others are not due")
        try await waitUntil(timeout: .seconds(10)) { clock.lastNap == .seconds(10) }
        clock.advance(by: 10)
        #expect(await middle.value)
        #expect(timer.waiting == 1)
        clock.advance(by: 10)
        #expect(await late.value)
        #expect(timer.waiting == 0)
    }

    @Test func anEarlierETAReArmsTheTimerForItself() async throws {
        let clock = HandClock(now: t0)
        let timer = EtaTimer(clock: clock)
        let later = try await waiter(timer, until: t0 + 50, expectWaiting: 1)
        try await waitUntil(timeout: .seconds(10)) { clock.lastNap == .seconds(50) }
        let sooner = try await waiter(timer, until: t0 + 5, expectWaiting: 2)
        try await waitUntil(timeout: .seconds(10)) { clock.lastNap == .seconds(5) }
        clock.advance(by: 5)
        #expect(await sooner.value, "woken at its own ETA, not at the one the timer was armed for")
        #expect(timer.waiting == 1)
        clock.advance(by: 45)
        #expect(await later.value)
    }

    @Test func aWaitForATimeAlreadyPassedOrNotANumberReturnsAtOnce() async {
        let timer = EtaTimer(clock: HandClock(now: t0))
        #expect(await timer.wait(until: t0 - 1))
        #expect(await timer.wait(until: t0))
        #expect(await timer.wait(until: Date(timeIntervalSinceReferenceDate: .nan)))
        #expect(timer.waiting == 0)
    }

    @Test func closingWakesEveryWaiterWithFalseAndRefusesNewOnes() async throws {
        let timer = EtaTimer(clock: HandClock(now: t0))
        var waiters: [Task<Bool, Never>] = []
        for i in 1...100 { waiters.append(Task { await timer.wait(until: t0 + Double(i)) }) }
        try await waitUntil(timeout: .seconds(10)) { timer.waiting == 100 }
        timer.close()
        for w in waiters { #expect(await w.value == false) }
        #expect(timer.waiting == 0)
        #expect(await timer.wait(until: t0 + 1) == false)
    }

    @Test func cancellingAWaiterWakesItWithFalseAndLeavesTheOthers() async throws {
        let clock = HandClock(now: t0)
        let timer = EtaTimer(clock: clock)
        let kept = try await waiter(timer, until: t0 + 10, expectWaiting: 1)
        let cancelled = try await waiter(timer, until: t0 + 5, expectWaiting: 2)
        cancelled.cancel()
        #expect(await cancelled.value == false)
        #expect(timer.waiting == 1)
        // A task cancelled before it waits does not wait.
        let already = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await timer.wait(until: t0 + 10)
        }
        #expect(await already.value == false)
        clock.advance(by: 10)
        #expect(await kept.value)
    }

    /// What keeps a worker holding thousands of far ETA messages idle: the timer wakes once per
    /// nap (at most ``EtaTimer/longestNap``) for all of them, never once per message.
    @Test func thousandsOfFarWaitersCostOneWakeUpPerNap() async throws {
        let clock = HandClock(now: t0)
        let timer = EtaTimer(clock: clock)
        var waiters: [Task<Bool, Never>] = []
        for i in 0..<5_000 { waiters.append(Task { await timer.wait(until: self.t0 + 365 * 86_400 + Double(i)) }) }
        try await waitUntil(timeout: .seconds(20)) { timer.waiting == 5_000 }
        for nap in 1...10 {
            try await waitUntil(timeout: .seconds(10)) { clock.naps == nap && timer.wakeups == nap - 1 }
            #expect(clock.lastNap == EtaTimer.longestNap, "a year away is reached in naps of the longest length")
            clock.advance(by: 60)
        }
        try await waitUntil(timeout: .seconds(10)) { timer.wakeups == 10 }
        #expect(timer.waiting == 5_000, "none is due")
        timer.close()
        for w in waiters { #expect(await w.value == false) }
    }

    @Test func napsAreClampedSoNoDateCanTrap() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(EtaTimer.nap(until: now + 2.5, now: now) == .milliseconds(2_500))
        #expect(EtaTimer.nap(until: now - 10, now: now) == .milliseconds(1))
        #expect(EtaTimer.nap(until: Date(timeIntervalSince1970: 253_402_300_799), now: now) == EtaTimer.longestNap)
        #expect(EtaTimer.nap(until: .distantFuture, now: .distantPast) == EtaTimer.longestNap)
        #expect(EtaTimer.nap(until: Date(timeIntervalSinceReferenceDate: .infinity), now: now) == EtaTimer.longestNap)
        #expect(EtaTimer.nap(until: Date(timeIntervalSinceReferenceDate: .nan), now: now) == .milliseconds(1))
        #expect(EtaTimer.nap(until: now, now: Date(timeIntervalSinceReferenceDate: .infinity)) == .milliseconds(1))
    }
}
