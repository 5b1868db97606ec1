import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct TaskOptionsTests {
    @Test func defaultsAreCelerys() {
        let o = TaskOptions()
        #expect(o.maxRetries == 3)
        #expect(o.defaultRetryDelay == 180)
        #expect(o.retryBackoffMax == 600)
        #expect(o.retryJitter)
        #expect(!o.acksLate)
        #expect(o.autoretryDelay(retries: 4) == 180, "without backoff, the default delay")
    }

    @Test func backoffDoublesUpToTheCapAndJitterDrawsBelowIt() {
        let o = TaskOptions(retryBackoff: 1, retryJitter: false)
        #expect((0..<6).map { o.autoretryDelay(retries: $0) } == [1, 2, 4, 8, 16, 32])
        #expect(o.autoretryDelay(retries: 20) == 600)
        let jittered = TaskOptions(retryBackoff: 2)
        var ranges: [ClosedRange<Int>] = []
        #expect(jittered.autoretryDelay(retries: 3) { ranges.append($0); return 7 } == 7)
        #expect(ranges == [0...16])
    }

    /// `retries` comes from the message header: a negative value used to trap (`0..<-1`).
    @Test func backoffReadsNegativeRetriesAsZeroAndClampsTheJitterRange() {
        let o = TaskOptions(retryBackoff: 1, retryJitter: false)
        #expect(o.autoretryDelay(retries: -1) == 1)
        #expect(o.autoretryDelay(retries: .min) == 1)
        #expect(o.autoretryDelay(retries: .max) == 600)
        var ranges: [ClosedRange<Int>] = []
        let draw: (ClosedRange<Int>) -> Int = { ranges.append($0); return $0.upperBound }
        _ = TaskOptions(retryBackoff: 2).autoretryDelay(retries: -5, random: draw)
        _ = TaskOptions(retryBackoff: -3).autoretryDelay(retries: 2, random: draw)
        _ = TaskOptions(retryBackoff: .nan).autoretryDelay(retries: 2, random: draw)
        _ = TaskOptions(retryBackoff: 1e300, retryBackoffMax: .infinity).autoretryDelay(retries: 62, random: draw)
        #expect(ranges.map(\.lowerBound) == [0, 0, 0, 0])
        #expect(ranges.prefix(3).map(\.upperBound) == [2, 0, 600], "NaN loses to the cap in min(), as in Python")
    }

    @Test func retryGivesUpWithTheGivenErrorOrMaxRetriesExceeded() {
        var ctx = TaskContext(id: "i", name: "n", retries: 3, hostname: "h", logger: .init(label: "t"))
        #expect((ctx.retry(countdown: 1) as? TaskError)?.type == "MaxRetriesExceededError")
        #expect((ctx.retry(countdown: 1, error: TaskError.valueError("x")) as? TaskError)?.type == "ValueError")
        ctx.retries = 1
        #expect(ctx.retry(countdown: 1) is RetryRequest)
        #expect(ctx.retry(countdown: 1, maxRetries: 1) is TaskError)
        #expect(TaskContext(id: "i", name: "n", retries: 99, hostname: "h", logger: .init(label: "t"), options: TaskOptions(maxRetries: nil)).retry() is RetryRequest)
    }
}

/// Waits and limits built from wire values never trap.
@Suite(.tags(.unit)) struct WireDurationTests {
    @Test func durationsFromAnyDoubleClampInsteadOfTrapping() {
        #expect(Duration.seconds(clamping: 1e300) == Duration.longestWait)
        #expect(Duration.seconds(clamping: .infinity) == Duration.longestWait)
        #expect(Duration.seconds(clamping: .nan) == .zero)
        #expect(Duration.seconds(clamping: -5) == .zero)
        #expect(Duration.seconds(clamping: 1.5) == .milliseconds(1500))
    }

    @Test func onlyPositiveFiniteTimeLimitsAreEnforced() {
        #expect(TimeLimit(hard: 1e300, soft: 30).enforceable == TimeLimit(hard: 1e300, soft: 30))
        #expect(TimeLimit(hard: .infinity, soft: .nan).enforceable == TimeLimit())
        #expect(TimeLimit(hard: 0, soft: -1).enforceable == TimeLimit())
    }

    @Test func aNegativeRetryCountFromTheWireIsTheFirstTry() {
        var options = TaskOptions()
        options.retryBackoff = 2
        options.retryJitter = false
        #expect(options.autoretryDelay(retries: -5) == 2)
        #expect(options.autoretryDelay(retries: Int.max) == options.retryBackoffMax)
    }
}
