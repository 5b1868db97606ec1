import Celeriac
import CeleriacMonitor
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct FailureGroupsTests {
    typealias E = EventScript

    @Test(arguments: [
        ("ValueError('boom')", "ValueError"),
        ("NotRegistered('nope.unknown')", "NotRegistered"),
        ("requests.exceptions.ConnectionError('x: y')", "requests.exceptions.ConnectionError"),
        ("TimeLimitExceeded(5.0,)", "TimeLimitExceeded"),
        ("KeyboardInterrupt", "KeyboardInterrupt"),
        ("reject requeue=False: no thanks", "reject requeue=False"),
        ("", "(unknown)"),
    ])
    func parsesTheExceptionTypeFromItsRepr(repr: String, type: String) {
        #expect(FailureGroups.exceptionType(of: repr) == type)
    }

    @Test func groupsByTaskNameAndExceptionTypeNewestFirst() throws {
        var s = ClusterState()
        let script: [(String, String, String, Double)] = [
            ("a1", "app.add", "ValueError('one')", 1000), ("a2", "app.add", "ValueError('two')", 1001),
            ("a3", "app.add", "KeyError('k')", 1002), ("b1", "app.mul", "ValueError('three')", 1003),
            ("a4", "app.add", "ValueError('four')", 1004),
        ]
        for (id, name, exc, t) in script {
            s.apply(E.received(id, name, at: t), receivedAt: t)
            s.apply(E.failed(id, at: t, exception: exc, traceback: "tb \(id)"), receivedAt: t)
        }
        let groups = s.failures.newestFirst
        #expect(groups.map(\.key) == [
            .init(taskName: "app.add", exceptionType: "ValueError"), .init(taskName: "app.mul", exceptionType: "ValueError"),
            .init(taskName: "app.add", exceptionType: "KeyError"),
        ])
        let add = groups[0]
        #expect(add.count == 3 && add.firstSeen == 1000 && add.lastSeen == 1004)
        #expect(add.latestException == "ValueError('four')" && add.latestTraceback == "tb a4" && add.latestTaskID == "a4")
        #expect(s.failures.totalCount == 5)
    }

    @Test func dropsTheStalestGroupBeyondCapacity() {
        var s = ClusterState(configuration: .init(maxFailureGroups: 2))
        for (i, exc) in ["AError()", "BError()", "CError()"].enumerated() {
            s.apply(E.failed("t\(i)", at: 1000, exception: exc), receivedAt: 1000 + Double(i))
        }
        #expect(s.failures.newestFirst.map(\.key.exceptionType) == ["CError", "BError"])
        #expect(s.failures.totalCount == 3)
    }
}
