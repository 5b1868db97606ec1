import Celeriac
import CeleriacTestSupport
import Foundation
import CeleriacTestTags
import Testing

/// A Python Celery 5.7 client sends; a Swift `qworker` runs; Python's `AsyncResult.get()` reads.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(3))) struct PythonClientSwiftWorkerTests {
    @Test func pythonClientGetsResultsAndExceptionsFromASwiftWorker() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startSwiftWorker(arguments: ["-c", "2"])
        defer { worker.stopNow() }
        let lines = try await h.runPython("pyclient.py", ["basic"])
        let byTask = Dictionary(lines.compactMap { l in l["task"]?.stringValue.map { ($0, l) } }, uniquingKeysWith: { a, _ in a })

        #expect(byTask["demo.add"]?["result"] == .int(5), "\(lines)\n\(worker.output)")
        #expect(byTask["demo.mul"]?["result"] == .int(42))

        let echoed = try #require(byTask["demo.echo"]?["result"])
        let expected = try JSONParser.parse(#"{"n": [1, 2.5, null, true, {"deep": ["\u00e9", "\u65e5\u672c", "\ud83d\ude00"]}], "big": 1180591620717411303427, "neg": -9223372036854775809, "f": 0.30000000000000004, "two": 2.0}"#)
        #expect(echoed == expected, "big ints, floats, unicode and key order survive a round trip through Swift")

        let failed = try #require(byTask["demo.fail"])
        #expect(failed["state"] == "FAILURE")
        #expect(failed["exc_type"] == "ValueError")
        #expect(failed["exc_args"] == ["boom: bad value"])
        #expect(failed["traceback"]?.stringValue?.contains("ValueError: boom: bad value") == true)

        let unknown = try #require(byTask["demo.no_such_task"])
        #expect(unknown["state"] == "FAILURE")
        #expect(unknown["exc_type"] == "NotRegistered")
        #expect(worker.isRunning, "the worker keeps running after an unregistered task")
    }
}
