import Celeriac
import CeleriacDemoTasks
import CeleriacTestSupport
import CeleriacTestTags
import Foundation
import Testing

/// Workflows built by a Swift client (typed signatures, ``CeleriacClient/apply(_:)``) run by a
/// real Python Celery 5.7 worker: it must find in them exactly what a Python client sends.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(3))) struct SwiftCanvasPythonWorkerTests {
    typealias Add = DemoTasks.Add
    typealias Mul = DemoTasks.Mul
    typealias TSum = DemoTasks.TSum

    @Test func aSwiftClientsChainGroupAndChordRunOnAPythonWorker() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startPythonWorker()
        defer { worker.stopNow() }
        let client = try await h.client()
        defer { client.close() }

        // chain(add.s(2, 2), mul.s(10), mul.s(3)): the first get waits through the worker's start-up.
        let chain = try Add.s(.init(x: 2, y: 2)).then(Mul.partial(10)).then(Mul.partial(3))
        #expect(try await client.apply(chain).get(timeout: .seconds(60)) == 120, "\(worker.output)")
        #expect(try await client.apply(try Add.s(.init(x: 1, y: 1)).then(Add.si(.init(x: 5, y: 5)))).get(timeout: .seconds(20)) == 10,
                "an immutable step ignores the previous result")

        // group: members in order, saved and restored as Celery stores a GroupResult.
        let applied = try await client.apply(group(try (1...4).map { try Mul.s(.init(x: .int($0), y: 10)) }).signature)
        guard case .group(let g) = applied else { Issue.record("not a group: \(applied)"); return }
        #expect(try await g.get(as: Int.self, timeout: .seconds(20)) == [10, 20, 30, 40])
        try await g.save()
        #expect(try await client.restoreGroup(id: g.id)?.results.map(\.id) == g.results.map(\.id))
        let restored = try await h.runPython("pycanvas.py", ["restore_group", g.id])
        #expect(restored.first?["ids"] == .array(g.results.map { .string($0.id) }), "Python's GroupResult.restore reads it")
        #expect(restored.first?["values"] == [10, 20, 30, 40])

        // chord: the client sets the size before the last member; the body gets the results in order.
        let header = try (0..<10).map { try Add.s(.init(x: .int($0), y: .int($0))) }
        #expect(try await client.apply(chord(header, TSum.partial())).get(timeout: .seconds(30)) == 90)

        // link: the callback gets the result prepended.
        let linked = try Add.s(.init(x: 2, y: 3)).link(Mul.partial(10))
        let parent = try await client.apply(linked)
        #expect(try await parent.get(timeout: .seconds(20)) == 5)
        let children = try await client.result(id: parent.id).wait(timeout: .seconds(5)).children
        let child = try #require(children.arrayValue?.first.flatMap(ResultTuple.init(json:)))
        #expect(try await client.result(id: child.id).get(timeout: .seconds(20)) == 50)
    }
}
