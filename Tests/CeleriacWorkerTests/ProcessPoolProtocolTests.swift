import Celeriac
@testable import CeleriacWorker
import Foundation
import Glibc
import CeleriacTestTags
import Testing

/// The worker ↔ pool-child protocol: jobs and replies survive the pipe intact, so a task run in
/// a child ends exactly as it would have in-process.
@Suite(.tags(.integration)) struct ProcessPoolProtocolTests {
    private func context() -> TaskContext {
        TaskContext(id: "t-1", name: "demo.add", retries: 2, rootID: "root", parentID: nil, hostname: "w1@box",
                    logger: .init(label: "test"), argsRepr: "(1, 2)", kwargsRepr: "{'z': 'é'}")
    }

    @Test func jobsCarryEverythingTheTaskContextNeeds() throws {
        let request = PoolRequest(context: context(), args: [1, 2.5, "x", nil, ["a": [true]]], kwargs: ["z": "é"], softLimit: 1.5)
        let decoded = try #require(PoolRequest(json: try JSONParser.parse(request.json.serialized(style: .compact))))
        #expect(decoded == request)
        #expect(decoded.parentID == nil && decoded.rootID == "root" && decoded.retries == 2 && decoded.softLimit == 1.5)
        #expect(PoolRequest(json: ["id": "x"]) == nil, "a job without its fields is refused")
    }

    @Test func repliesMapToTheSameEndingsAsInProcessRuns() throws {
        struct Oops: Error {}
        let eta = Date(timeIntervalSince1970: 1_800_000_000.25)
        let reason = TaskError.valueError("later")
        let cases: [(TaskRun.Ending, PoolReply)] = [
            (.finished(.success(["sum": 3])), .success(["sum": 3])),
            (.finished(.failure(TaskError.valueError("boom"))), .failure(.valueError("boom"))),
            (.finished(.failure(Oops())), .failure(TaskError.from(Oops()))),
            (.finished(.failure(RetryRequest(eta: eta, reason: reason))), .retry(eta: eta, reason: reason)),
            (.softLimit(seconds: 2), .softLimit(seconds: 2)),
        ]
        for (ending, expected) in cases {
            let reply = PoolReply(ending)
            #expect(reply == expected)
            let wire = try #require(PoolReply(json: try JSONParser.parse(reply.json.serialized(style: .compact))))
            #expect(wire == expected)
        }
        // What the worker gets back is a RetryRequest again, so it re-sends the task as Celery does.
        guard case .finished(.failure(let error))? = PoolReply.retry(eta: eta, reason: reason).ending, let retry = error as? RetryRequest else {
            Issue.record("a retry reply must become a RetryRequest")
            return
        }
        #expect(retry.eta == eta && retry.reason == reason)
        #expect(PoolReply.started(pid: 42).ending == nil)
        #expect(PoolReply(json: ["what": 1]) == nil)
    }

    @Test func framesCrossARealPipe() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let values: [JSONValue] = [["ok": "é\u{1F600}"], .array((0..<5000).map { .int($0) }), ["started": 7]]
        for value in values { #expect(PoolPipe.writeBlocking(PoolPipe.frame(value), to: fds[1])) }
        close(fds[1])
        for value in values { #expect(PoolPipe.readFrame(from: fds[0]) == value) }
        #expect(PoolPipe.readFrame(from: fds[0]) == nil, "end of file")
    }

    @Test func exitStatusesReadAsBilliardWritesThem() {
        #expect(WaitStatus.human(SIGKILL) == "signal 9 (SIGKILL)")
        #expect(WaitStatus.human(SIGABRT | 0x80) == "signal 6 (SIGABRT)", "a core dump does not change the wording")
        #expect(WaitStatus.human(SIGTERM) == "signal 15 (SIGTERM)")
        #expect(WaitStatus.human(1 << 8) == "exitcode 1")
        #expect(WaitStatus.human(0) == "exitcode 0")
    }
}
