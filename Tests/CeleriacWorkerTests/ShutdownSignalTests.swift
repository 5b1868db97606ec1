@testable import CeleriacWorker
import CeleriacTestTags
import Testing

/// The one-shot signal the worker's periodic jobs sleep on. No test reads the time: sleeps that
/// must be ended by the signal or a cancellation are an hour long, and each test first waits for
/// the sleeper to be in place (``ShutdownSignal/waiting``), so the order of events is fixed.
@Suite(.tags(.unit), .timeLimit(.minutes(1))) struct ShutdownSignalTests {
    /// Waits (yielding, no sleep) until `signal` has `count` waiters.
    private func waiters(_ signal: ShutdownSignal, _ count: Int) async {
        while signal.waiting != count { await Task.yield() }
    }

    @Test func signalEndsASleepInProgress() async {
        let signal = ShutdownSignal()
        let sleeper = Task { await signal.sleep(for: .seconds(3600)) }
        await waiters(signal, 1)
        #expect(signal.signal())
        #expect(await sleeper.value == false, "woken by the signal, not the deadline")
        #expect(signal.waiting == 0)
    }

    @Test func sleepAfterTheSignalReturnsAtOnce() async {
        let signal = ShutdownSignal()
        signal.signal()
        #expect(await signal.sleep(for: .seconds(3600)) == false)
        await signal.wait()
        #expect(signal.isSignalled)
    }

    @Test func sleepReachingItsDeadlineReportsIt() async {
        let signal = ShutdownSignal()
        #expect(await signal.sleep(until: ContinuousClock.now - .seconds(1)))
        #expect(await signal.sleep(for: .milliseconds(1)))
        #expect(signal.waiting == 0, "the wait beside the sleep went away with it")
        #expect(!signal.isSignalled)
    }

    @Test func onlyTheFirstSignalCounts() {
        let signal = ShutdownSignal()
        #expect(signal.signal())
        #expect(!signal.signal())
    }

    @Test func signalWakesEveryWaiter() async {
        let signal = ShutdownSignal()
        let sleepers = (0..<5).map { _ in Task { await signal.sleep(for: .seconds(3600)) } }
        let waiter = Task { await signal.wait() }
        await waiters(signal, 6)
        signal.signal()
        for sleeper in sleepers { #expect(await sleeper.value == false) }
        await waiter.value
    }

    @Test func cancellingASleeperEndsItsSleepAndLeavesNoWaiter() async {
        let signal = ShutdownSignal()
        let sleeper = Task { await signal.sleep(for: .seconds(3600)) }
        await waiters(signal, 1)
        sleeper.cancel()
        #expect(await sleeper.value == false)
        #expect(signal.waiting == 0)
        #expect(!signal.isSignalled, "a cancelled sleep does not signal")
    }

    @Test func cancelledTaskDoesNotWait() async {
        let signal = ShutdownSignal()
        let done = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await signal.wait()
            return await signal.sleep(for: .seconds(3600))
        }
        #expect(await done.value == false)
        #expect(signal.waiting == 0)
    }
}
