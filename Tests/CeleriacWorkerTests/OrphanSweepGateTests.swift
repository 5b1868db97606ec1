@testable import CeleriacWorker
import Celeriac
import CeleriacTestTags
import Testing

/// After an outage every liveness key may have lapsed: a worker waits a full TTL of prompt
/// refreshes before it judges a peer dead, so it does not restore what live peers hold.
@Suite(.tags(.integration)) struct OrphanSweepGateTests {
    let start = ContinuousClock.now
    let window = LivenessWindow()

    @Test func sweepsOnlyAfterAFullTTLOfPromptRefreshes() {
        var gate = OrphanSweepGate(window: window, now: start)
        #expect(!gate.maySweep(now: start + .seconds(1)))
        gate.refreshed(succeeded: true, took: .milliseconds(2), now: start + .seconds(2))
        #expect(!gate.maySweep(now: start + .seconds(2)))
        #expect(gate.maySweep(now: start + window.timeout))
    }

    @Test func aRefreshThatHungThroughAnOutageStartsTheWaitAgain() {
        var gate = OrphanSweepGate(window: window, now: start)
        let back = start + .seconds(40)
        gate.refreshed(succeeded: true, took: .seconds(30), now: back)
        #expect(!gate.maySweep(now: back + .seconds(1)), "peers' keys lapsed during the outage")
        #expect(gate.maySweep(now: back + window.timeout))
    }

    @Test func aFailedRefreshStartsTheWaitAgain() {
        var gate = OrphanSweepGate(window: window, now: start)
        let failed = start + .seconds(20)
        gate.refreshed(succeeded: false, took: .milliseconds(1), now: failed)
        #expect(!gate.maySweep(now: failed + .seconds(5)))
        #expect(gate.maySweep(now: failed + window.timeout))
    }
}
