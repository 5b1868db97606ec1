import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import Synchronization
import CeleriacTestTags
import Testing

/// The real `qmon snapshot --json` fed garbage and hostile events on a real Redis, its stdout
/// read by Python's `json.load` with `parse_constant` refusing NaN/Infinity (strict JSON), as
/// a script would (issue 12, case 7: two of eight such runs printed nothing a parser took).
///
/// The window is short and the machine may be busy: qmon must still include every event
/// published before its window closed (it ends the window at a sync marker), however long
/// the 1 MB event takes to read and decode. A watcher checks that the test's events were
/// indeed published before qmon's marker, so the expectation is exactly qmon's promise.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(4))) struct QMonSnapshotHostileEventsTests {
    /// A kombu envelope as Celery publishes on `celeryev`, around raw body bytes.
    private static func envelope(_ body: [UInt8]) -> [UInt8] {
        let text = """
            {"body": "\(Data(body).base64EncodedString())", "content-encoding": "utf-8", "content-type": "application/json", \
            "headers": {"hostname": "x"}, "properties": {"delivery_mode": 1, "delivery_info": {"exchange": "celeryev", \
            "routing_key": "task.multi"}, "priority": 0, "body_encoding": "base64", "delivery_tag": "d1"}}
            """
        return Array(text.utf8)
    }

    private static let bodies: [[UInt8]] = [
        Array(#"{"hostname": "w@h", "clock": 9223372036854775807, "uuid": "max", "timestamp": 1, "type": "task-received", "name": "n"}"#.utf8),
        Array(#"{"hostname": "w@h", "clock": 1, "uuid": "nan", "timestamp": NaN, "runtime": NaN, "type": "task-succeeded", "name": "n"}"#.utf8),
        Array(#"{"hostname": "w@h", "clock": 2, "freq": Infinity, "loadavg": [NaN, Infinity, -Infinity], "timestamp": 1e400, "type": "worker-heartbeat"}"#.utf8),
        Array(#"{"hostname": "w@h", "clock": 3, "uuid": "big", "timestamp": 1e300, "runtime": 1e300, "type": "task-failed", "name": "n", "exception": "E()"}"#.utf8),
        Array(#"{"hostname": "w\ud800@h", "clock": 4, "uuid": "\udc00\u0000\u001f\"\\", "timestamp": 1, "type": "task-received", "args": "\ud83d", "name": "\ud83d\ude00"}"#.utf8),
        Array(#"{"hostname": "w@h", "clock": 5, "uuid": "utf8", "timestamp": 1, "type": "task-received", "name": ""#.utf8)
            + [0xFF, 0xFE, 0xC0, 0x80, 0xED, 0xA0, 0x80] + Array(#"", "args": "\u001b[31m"}"#.utf8),
        Array(#"{"hostname": "w@h", "clock": 6, "uuid": "huge", "timestamp": 1, "type": "task-received", "args": ""#.utf8)
            + Array(repeating: UInt8(ascii: "a"), count: 1_000_000) + Array(#""}"#.utf8),
        [0x82, 0x00, 0x7B, 0x22],  // not JSON at all: skipped with a warning
    ]

    /// Where the test says it has published every event (not an events channel).
    private static let publishedChannel = "test.hostile-events-published"

    @Test func snapshotJSONOfHostileEventsLoadsInPython() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let probe = try await RedisClient.connect(url: h.server.url, logger: Logger(label: "probe"))
        defer { probe.close() }
        // In Redis's order: "published" once the test's events are all in, "marker" when qmon
        // closes its window.
        let order = Mutex<[String]>([])
        let watcher = try await RedisSubscriber.connect(url: h.server.url, logger: Logger(label: "watcher")) { event in
            switch event {
            case .patternMessage: order.withLock { $0.append("marker") }
            case .message: order.withLock { $0.append("published") }
            case .reconnected: break
            }
        }
        defer { watcher.close() }
        try await watcher.psubscribe([EventChannel.syncMarkerPrefix(db: 0) + "*"])
        try await watcher.subscribe([Self.publishedChannel])
        // The test's events must all be published before qmon closes its window, or there is
        // nothing to check: on a busy machine a 3 s window can close first (a CI run with the
        // cores full of builds), so a window that did is tried again, longer.
        var out = ""
        for (attempt, listen) in [3, 15, 45].enumerated() {
            order.withLock { $0 = [] }
            let patternsBefore = try await probe.send(RedisCommand("PUBSUB", "NUMPAT")).int ?? 0
            out = h.logs.url.appendingPathComponent("snapshot-\(attempt).json").path
            let qmon = TestEnvironment.binDirectory.appendingPathComponent("qmon").path
            // stdout alone goes to the file (warnings go to stderr), as `qmon snapshot --json > f`.
            let snapshot = try ChildProcess(
                "qmon-snapshot-hostile-\(attempt)", executable: "/bin/sh",
                arguments: ["-c", "exec \"$0\" snapshot --json --tasks 100 --listen \(listen) --broker \"$1\" > \"$2\"", qmon, h.server.urlString, out],
                logDirectory: h.logs)
            try await waitUntil(timeout: .seconds(5)) { (try await probe.send(RedisCommand("PUBSUB", "NUMPAT")).int ?? 0) > patternsBefore }
            for body in Self.bodies {
                _ = try await probe.send(RedisCommand("PUBLISH", "/0.celeryev/task.multi", Self.envelope(body)))
            }
            _ = try await probe.send(RedisCommand("PUBLISH", Self.publishedChannel, ""))
            #expect(await snapshot.wait(timeout: .seconds(listen + 20)) == 0, "\(snapshot.output)")
            try await waitUntil(timeout: .seconds(5)) { order.withLock { $0.count } == 2 }
            if order.withLock({ $0 }) == ["published", "marker"] { break }
        }
        try #require(
            order.withLock { $0 } == ["published", "marker"],
            "qmon closed its --listen window (up to 45 s) before the test had published its events: nothing to check")

        let check = """
            import json, sys
            def refuse(name): raise ValueError("not strict JSON: " + name)
            with open(sys.argv[1], encoding="utf-8") as f: d = json.load(f, parse_constant=refuse)
            tasks = {t["uuid"]: t for t in d["tasks"]}
            print(json.dumps({"tasks": len(tasks), "huge_truncated": tasks.get("huge", {}).get("truncated", {}).get("args"), "max": "max" in tasks}))
            """
        let python = try ChildProcess(
            "python-json-load", executable: TestEnvironment.python, arguments: ["-c", check, out], logDirectory: h.logs)
        #expect(await python.wait(timeout: .seconds(20)) == 0, "\(python.output)")
        let line = try #require(python.output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(python.output)")
        let result = try JSONParser.parse(String(line))
        #expect(result["max"] == true && result["huge_truncated"] == .int(1_000_000), "\(result)")
        #expect((result["tasks"]?.intValue ?? 0) >= 6, "\(result)")
    }
}
