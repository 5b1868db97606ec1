@testable import CeleriacWorker
import Celeriac
import Foundation
import CeleriacTestTags
import Testing

/// The fence's decisions, with the clock passed in.
@Suite(.tags(.integration)) struct LivenessFenceTests {
    let start = ContinuousClock.now
    let window = LivenessWindow()
    var ttl: Duration { window.timeout }

    @Test func noFenceWhileRefreshesGoThrough() {
        var fence = LivenessFence(window: window)
        fence.refreshed(sentAt: start)
        let lapse = fence.attempting(now: start + .seconds(2))
        #expect(lapse == nil)
        fence.refreshed(sentAt: start + .seconds(2))
        let fenced = fence.mustFence(now: start + .seconds(3))
        #expect(!fenced)
    }

    /// The reservation loop sleeps until the fence's end instead of looking every so often.
    @Test func theFenceSaysWhenItEnds() {
        var fence = LivenessFence(window: window)
        fence.refreshed(sentAt: start)
        #expect(fence.fencedUntil(now: start + .seconds(1)) == nil)
        let resumed = start + .seconds(10)
        #expect(fence.fencedUntil(now: resumed) == resumed + window.fence)
        fence.refreshed(sentAt: resumed)
        #expect(fence.fencedUntil(now: resumed + .seconds(1)) == resumed + window.fence)
        fence.refreshed(sentAt: resumed + .seconds(2))
        #expect(fence.fencedUntil(now: resumed + window.fence) == nil, "over once refreshes go through")
    }

    @Test func aStallPastTheTTLFencesForATTLAfterItIsSeenAndIsReportedOnce() {
        var fence = LivenessFence(window: window)
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
        var fence = LivenessFence(window: window)
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
        var fence = LivenessFence(window: window)
        _ = fence.attempting(now: start)
        fence.refreshed(sentAt: start)
        fence.ended(now: start)
        // The next refresh waits 30 s for Redis to come back, then the one after it starts.
        _ = fence.attempting(now: start + .seconds(2))
        fence.ended(now: start + .seconds(32))
        let lapse = fence.attempting(now: start + .seconds(32) + .milliseconds(100))
        #expect(lapse?.stalled == false)
    }

    /// A delivery taken before a stall may have been restored by a peer: its ack must check
    /// ownership. One taken after the fence (no lapse since) is acked as usual.
    @Test func deliveriesTakenBeforeALapseAreHeldInDoubtAndLaterOnesAreNot() {
        var fence = LivenessFence(window: window)
        fence.refreshed(sentAt: start)
        let before = start + .seconds(1)
        let inDoubtWhileFresh = fence.heldInDoubt(receivedAt: before, now: start + .seconds(2))
        #expect(!inDoubtWhileFresh, "no lapse yet")
        // Paused for 10 s; on resuming, the delivery's ack is the first thing that happens.
        let resumed = start + .seconds(10)
        let inDoubtAtResume = fence.heldInDoubt(receivedAt: before, now: resumed)
        #expect(inDoubtAtResume)
        // Refreshed every 2 s from then on.
        for second in stride(from: 0, through: 8, by: 2) { fence.refreshed(sentAt: resumed + .seconds(second)) }
        let stillInDoubtLater = fence.heldInDoubt(receivedAt: before, now: resumed + .seconds(9))
        #expect(stillInDoubtLater, "an ack or restore long after the lapse must still check")
        // Taken once the fence is over (the worker takes nothing during it).
        fence.refreshed(sentAt: resumed + .seconds(10))
        let after = resumed + .seconds(11)
        #expect(after > resumed + window.fence)
        let newOneInDoubt = fence.heldInDoubt(receivedAt: after, now: after + .seconds(1))
        #expect(!newOneInDoubt)
    }

    /// The window is the setting: a 2 s one lapses after 2 s, where the default would not.
    @Test func aShorterWindowLapsesSooner() {
        var short = LivenessFence(window: LivenessWindow(seconds: 2))
        var standard = LivenessFence(window: window)
        short.refreshed(sentAt: start)
        standard.refreshed(sentAt: start)
        let shortFenced = short.mustFence(now: start + .seconds(3))
        let standardFenced = standard.mustFence(now: start + .seconds(3))
        #expect(shortFenced && !standardFenced)
    }
}
