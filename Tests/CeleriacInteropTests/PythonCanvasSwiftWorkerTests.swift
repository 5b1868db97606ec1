import Celeriac
import CeleriacTestSupport
import CeleriacTestTags
import Foundation
import Testing

/// Workflows a Python Celery 5.7 client builds (`interop/pycanvas.py`), run by Swift workers,
/// alone and beside a Python worker: every result must be Celery's own (the same script run
/// against Python workers alone gives these values).
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(4))) struct PythonCanvasSwiftWorkerTests {
    /// One line per case, by its `case`.
    private func cases(_ lines: [JSONValue]) -> [String: JSONValue] {
        Dictionary(lines.compactMap { l in l["case"]?.stringValue.map { ($0, l) } }, uniquingKeysWith: { a, _ in a })
    }

    @Test func chainsAndLinksRunOnASwiftWorker() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startSwiftWorker(arguments: ["-c", "4"])
        defer { worker.stopNow() }
        let c = cases(try await h.runPython("pycanvas.py", ["chains"], timeout: .seconds(120)))

        let chain = try #require(c["chain"], "\(worker.output)")
        #expect(chain["value"] == 40)
        #expect(chain["parent"] == 4, "AsyncResult.parent of the last step is the first")
        #expect(chain["parent_children"] == .array([chain["id"] ?? .null]), "the first step's stored children name the second")
        #expect(chain["collect"] == [4, 40], "collect() walks the children")
        #expect(c["chain3"]?["value"] == 10)
        #expect(c["chain_si"]?["value"] == 20, "an immutable step ignores the previous result")
        #expect(c["chain_of_chains"]?["value"] == 70)
        #expect(c["link"]?["value"] == 5)
        #expect(c["link"]?["child"] == 50, "the callback got the result prepended and is the task's child")
        #expect(c["link_two"]?["children"] == [[20, 200]], "two callbacks are sent as one group, stored as a GroupResult child")
        #expect(c["chain_to_group"]?["value"] == [4, 6], "a chain ending in a group: the worker applies the group")
        #expect(c["chain_to_chord"]?["value"] == 10, "a chain into a chord: the worker sets the size and sends the header")
        #expect(c["replaced"]?["value"] == 42, "self.replace: the replacement's result under the replaced task's id")
        #expect(c["replaced_in_chain"]?["value"] == 10, "the replacement carries the rest of the chain")
    }

    @Test func failingStepsAndErrbacksAsCeleryDoes() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startSwiftWorker(arguments: ["-c", "4"])
        defer { worker.stopNow() }
        let c = cases(try await h.runPython("pycanvas.py", ["failures"], timeout: .seconds(120)))

        let chainFail = try #require(c["chain_fail"], "\(worker.output)")
        #expect(chainFail["exc_type"] == "ValueError")
        #expect(chainFail["exc_args"] == ["bad step"])
        #expect(chainFail["last_state"] == "FAILURE", "the later step is failed too (_fail_chain), so get() raises at once")
        #expect(chainFail["errback"]?.arrayValue?.count == 1, "the chain's link_error ran once: \(chainFail)")

        let old = try #require(c["errback_old"])
        #expect(old["exc_args"] == ["boom old"])
        #expect(old["errback"]?.arrayValue?.count == 1, "an old-style errback is sent as a task with the failed id")

        let new = try #require(c["errback_new"])
        #expect(new["exc_args"] == ["boom new"])
        let id = try #require(new["id"]?.stringValue)
        // A new-style errback runs in-process in the failing worker with (request, exc, traceback).
        try await waitUntil(timeout: .seconds(20)) { worker.output.contains("demo.on_error: task \(id) raised ValueError('boom new')") }
    }

    @Test func chordsAndBuiltinsRunOnASwiftWorker() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startSwiftWorker(arguments: ["-c", "4"])
        defer { worker.stopNow() }
        let c = cases(try await h.runPython("pycanvas.py", ["chords", "10"], timeout: .seconds(120)))

        #expect(c["chord"]?["value"] == 90, "\(worker.output)")
        let failed = try #require(c["chord_fail"])
        #expect(failed["first"]?["exc_type"] == "ValueError", "get() raises the failing member's error first, as with Python workers")
        #expect(failed["exc_type"] == "ChordError")
        let failing = try #require(failed["failing_id"]?.stringValue)
        #expect(failed["exc_args"] == [.string("Dependency \(failing) raised ValueError('boom chord')")],
                "the first failing member in header order is named, with Celery's text")
        #expect(failed["state"] == "FAILURE")
        #expect(c["starmap"]?["value"] == [3, 7])
        #expect(c["map"]?["value"] == [3, 12])
        #expect(c["chunks"]?["value"] == [[0, 2, 4, 6, 8], [10, 12, 14, 16, 18]])
    }

    /// Two Swift workers and a Python worker share the members of many chords: each chord's body
    /// runs exactly once, whichever worker returns its last part.
    @Test func mixedWorkersRunEachChordBodyExactlyOnce() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let swift1 = try h.startSwiftWorker(name: "swift1", arguments: ["-c", "4"])
        defer { swift1.stopNow() }
        let swift2 = try h.startSwiftWorker(name: "swift2", arguments: ["-c", "4"])
        defer { swift2.stopNow() }
        let python = try h.startPythonWorker()
        defer { python.stopNow() }
        try await waitUntil(timeout: .seconds(60)) { python.output.contains("ready.") }

        let c = cases(try await h.runPython("pycanvas.py", ["many_chords", "24", "8"], timeout: .seconds(180)))
        let run = try #require(c["many_chords"])
        #expect(run["values"] == run["expected"])
        let logs = swift1.output + swift2.output + python.output
        for id in run["ids"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            let received = logs.components(separatedBy: "Task demo.tsum[\(id)] received").count - 1
            #expect(received == 1, "body \(id) received \(received) times")
        }
        for (name, log) in [("swift1", swift1.output), ("swift2", swift2.output), ("python", python.output)] {
            #expect(log.contains("demo.add["), "\(name) ran chord members")
        }
    }
}
