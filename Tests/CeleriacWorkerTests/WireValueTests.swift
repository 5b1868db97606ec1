@testable import CeleriacWorker
import Celeriac
import Foundation
import CeleriacTestTags
import Testing

// Values a worker reads from messages and control commands, of any size or type: never a trap.

/// The count of workers a message was running on when they died, read from a wire header.
@Suite(.tags(.integration)) struct WorkerLossCountTests {
    func message(_ header: JSONValue?) -> TaskMessage {
        var m = TaskMessage.make(name: "demo.add", args: [1, 2], kwargs: [:], options: TaskSendOptions(), origin: "gen0@test",
                                 now: Date(), newID: { "id" })
        m.extraHeaders[LostWorkers.header] = header
        return m
    }

    @Test func anyHeaderValueCountsWithoutTrapping() {
        #expect(LostWorkers.counting(message(nil)) == 1)
        #expect(LostWorkers.counting(message(.int(2))) == 3)
        #expect(LostWorkers.counting(message(.int(Int.max))) == Int.max)
        #expect(LostWorkers.counting(message(.int(-7))) == 1)
        #expect(LostWorkers.counting(message(.string("many"))) == 1)
        #expect(LostWorkers.counting(message(.double(1e300))) == 1)
    }
}

/// Rate limits arrive in control commands: any rate gives a wait, never a trap.
@Suite(.tags(.integration)) struct TaskRateLimiterWireTests {
    @Test func aTinyRateWaitsLongInsteadOfTrapping() throws {
        let limiter = TaskRateLimiter()
        let rate = try #require(TaskRateLimiter.parse("1e-300/h"))
        limiter.set("t", perSecond: rate, text: "1e-300/h")
        #expect(limiter.take("t") == nil)  // the bucket starts full
        #expect(limiter.take("t") == Duration.longestWait)
    }

    @Test func nonFiniteRatesAreRefused() {
        #expect(TaskRateLimiter.parse("inf/s") == nil)
        #expect(TaskRateLimiter.parse("nan") == nil)
    }
}
