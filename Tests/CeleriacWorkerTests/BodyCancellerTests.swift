@testable import CeleriacWorker
import CeleriacTestTags
import Testing

/// The in-process pool runs a body in the message's own task; `revoke --terminate` reaches it
/// through ``BodyCanceller``.
@Suite(.tags(.integration)) struct BodyCancellerTests {
    @Test func cancelWhileTheBodyRunsCancelsIt() async {
        let canceller = BodyCanceller()
        let (entered, enteredContinuation) = AsyncStream<Void>.makeStream()
        let outcome = Task {
            await canceller.run { () async -> String in
                enteredContinuation.yield()
                do {
                    try await Task.sleep(for: .seconds(60))
                    return "slept"
                } catch {
                    return "cancelled"
                }
            }
        }
        for await _ in entered { break }
        canceller.cancel()
        #expect(await outcome.value == "cancelled")
    }

    @Test func cancelBeforeTheBodyStartsCancelsItAsItStarts() async {
        let canceller = BodyCanceller()
        canceller.cancel()
        let cancelled = await Task { await canceller.run { Task.isCancelled } }.value
        #expect(cancelled)
    }

    @Test func cancelAfterTheBodyFinishedDoesNothing() async {
        let canceller = BodyCanceller()
        let ran = await canceller.run { 42 }
        canceller.cancel()
        #expect(ran == 42)
        #expect(!Task.isCancelled, "the task that ran the body is not cancelled afterwards")
    }
}
