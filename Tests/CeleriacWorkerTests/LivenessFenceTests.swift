@testable import CeleriacWorker
import Celeriac
import Foundation
import Testing

/// The fence's decisions, with the clock passed in.
struct LivenessFenceTests {
    let start = ContinuousClock.now
    let ttl = OrphanRecovery.livenessTTL

    @Test func noFenceWhileRefreshesGoThrough() {
        var fence = LivenessFence()
        fence.refreshed(sentAt: start)
        let lapse = fence.attempting(now: start + .seconds(2))
        #expect(lapse == nil)
        fence.refreshed(sentAt: start + .seconds(2))
        let fenced = fence.mustFence(now: start + .seconds(3))
        #expect(!fenced)
    }

    @Test func aStallPastTheTTLFencesForATTLAfterItIsSeenAndIsReportedOnce() {
        var fence = LivenessFence()
        _ = fence.attempting(now: start)
        fence.refreshed(sentAt: start)
        fence.ended(now: start + .milliseconds(1))
        // Paused: the next attempt comes 10 s later; a message may start before it.
        let resumed = start + .seconds(10)
        let fencedAtResume = fence.mustFence(now: resumed)
        #expect(fencedAtResume)
        let first = fence.attempting(now: resumed)
        #expect(first == LivenessFence.Lapse(since: .seconds(10), stalled: true))
        let again = fence.attempting(now: resumed + .milliseconds(1))
        #expect(again == nil)
        fence.refreshed(sentAt: resumed)
        // Messages that were held across the pause are still checked for a TTL…
        let fencedAfterRefresh = fence.mustFence(now: resumed + ttl - .milliseconds(1))
        #expect(fencedAfterRefresh)
        // …and then no more, while refreshes go through.
        fence.refreshed(sentAt: resumed + .seconds(2))
        let fencedLater = fence.mustFence(now: resumed + ttl + .milliseconds(2))
        #expect(!fencedLater)
    }

    @Test func aLapseThroughFailedRefreshesIsNotAStall() {
        var fence = LivenessFence()
        _ = fence.attempting(now: start)
        fence.refreshed(sentAt: start)
        fence.ended(now: start)
        // Tried every 2 s and failing (Redis away): the TTL runs out at the third try.
        for second in [2, 4] {
            _ = fence.attempting(now: start + .seconds(second))
            fence.ended(now: start + .seconds(second))
        }
        let lapse = fence.attempting(now: start + .seconds(6))
        #expect(lapse?.stalled == false)
    }

    @Test func aRefreshWaitingOutAnOutageIsNotAStall() {
        var fence = LivenessFence()
        _ = fence.attempting(now: start)
        fence.refreshed(sentAt: start)
        fence.ended(now: start)
        // The next refresh waits 30 s for Redis to come back, then the one after it starts.
        _ = fence.attempting(now: start + .seconds(2))
        fence.ended(now: start + .seconds(32))
        let lapse = fence.attempting(now: start + .seconds(32) + .milliseconds(100))
        #expect(lapse?.stalled == false)
    }
}
