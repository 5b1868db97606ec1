import Celeriac
import CeleriacMonitor
import Foundation
import CeleriacTestTags
import Testing

/// `qmon snapshot --json` is valid JSON whatever the events held (issue 12, case 7): each body
/// below goes through the real decoder (``EventCodec``) into the model, and the document must
/// parse with Foundation's strict RFC 8259 parser.
@Suite(.tags(.integration)) struct ClusterSnapshotHostileEventsTests {
    /// A kombu envelope as Celery publishes on `celeryev`, around raw body bytes.
    static func envelope(_ body: [UInt8], routingKey: String = "task.multi") -> [UInt8] {
        let b64 = Data(body).base64EncodedString()
        let text = """
            {"body": "\(b64)", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"hostname": "x"}, \
            "properties": {"delivery_mode": 1, "delivery_info": {"exchange": "celeryev", "routing_key": "\(routingKey)"}, \
            "priority": 0, "body_encoding": "base64", "delivery_tag": "d1"}}
            """
        return Array(text.utf8)
    }

    /// Bodies a broken or hostile sender could publish; every one is legal for the decoder.
    static let hostileBodies: [[UInt8]] = [
        // A clock at Int.max (the model's Lamport clock overflowed: qmon crashed, no output).
        Array(#"{"hostname": "w@h", "clock": 9223372036854775807, "uuid": "max", "timestamp": 1, "type": "task-received", "name": "n"}"#.utf8),
        Array(#"{"hostname": "w@h", "clock": 9223372036854775807, "freq": 2, "timestamp": 1, "type": "worker-heartbeat"}"#.utf8),
        // Non-finite and huge numbers (Python's json writes NaN/Infinity; 1e400 reads as inf).
        Array(#"{"hostname": "w@h", "clock": 1, "uuid": "nan", "timestamp": NaN, "runtime": NaN, "type": "task-succeeded", "name": "n"}"#.utf8),
        Array(#"{"hostname": "w@h", "clock": 2, "freq": Infinity, "loadavg": [NaN, Infinity, -Infinity, 1, 2, 3], "timestamp": 1e400, "active": 1, "type": "worker-heartbeat"}"#.utf8),
        Array(#"{"hostname": "w2@h", "clock": 3, "freq": 1e308, "timestamp": 1e308, "utcoffset": 1e308, "type": "worker-online"}"#.utf8),
        Array(#"{"hostname": "w@h", "clock": 4, "uuid": "big", "timestamp": 1e300, "runtime": 1e300, "type": "task-succeeded", "name": "n"}"#.utf8),
        Array(#"{"hostname": "w@h", "clock": 5, "uuid": "neg", "timestamp": -1e300, "runtime": -1e300, "type": "task-failed", "name": "n", "exception": "E()"}"#.utf8),
        // Lone surrogates, NUL and control characters in \u escapes; a quote and backslashes.
        Array(#"{"hostname": "w\ud800@h", "clock": 6, "uuid": "\udc00\u0000\u001f\"\\", "timestamp": 1, "type": "task-received", "args": "\ud83d", "kwargs": "\u007f\u2028", "name": "\ud83d\ude00"}"#.utf8),
        // Invalid UTF-8 bytes inside strings.
        Array(#"{"hostname": "w@h", "clock": 7, "uuid": "bad-utf8", "timestamp": 1, "type": "task-received", "name": ""#.utf8)
            + [0xFF, 0xFE, 0xC0, 0x80, 0xED, 0xA0, 0x80] + Array(#"", "args": "\u0001\u001b[31m"}"#.utf8),
        // Integers beyond Int and wrong types everywhere.
        Array(#"{"hostname": "w@h", "clock": -5, "pid": 99999999999999999999999, "uuid": "ints", "timestamp": 1, "retries": 1e400, "type": "task-received", "name": 7, "args": [1], "kwargs": {"a": null}}"#.utf8),
        Array(#"{"hostname": "w@h", "clock": 1e30, "freq": -3, "active": 99999999999999999999, "processed": -9223372036854775808, "timestamp": 1, "type": "worker-heartbeat"}"#.utf8),
        // Custom types, an empty hostname, a huge one, a batch mixing all.
        Array(#"[{"hostname": "", "clock": 8, "uuid": "c1", "timestamp": 1, "type": "task-\u0000custom"}, {"hostname": "w@h", "clock": 9, "timestamp": 1, "type": "worker-\u0007x"}]"#.utf8),
        Array(#"{"hostname": ""#.utf8) + Array(repeating: UInt8(ascii: "h"), count: 300_000)
            + Array(#"", "clock": 10, "uuid": "huge", "timestamp": 1, "type": "task-received", "args": ""#.utf8)
            + Array(repeating: UInt8(ascii: "a"), count: 300_000) + Array(#""}"#.utf8),
    ]

    @Test func snapshotOfHostileEventsIsStrictJSON() throws {
        var state = ClusterState()
        var decoded = 0
        for body in Self.hostileBodies {
            guard let events = try? EventCodec.decode(channel: "/0.celeryev/task.multi", payload: Self.envelope(body)) else { continue }
            decoded += events.count
            state.apply(.events(events, receivedAt: 1_000))
        }
        #expect(decoded >= 13)
        let text = ClusterSnapshot.json(state, now: 1_001, taskLimit: 100).jsonString
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let document = try #require(object as? [String: Any])
        let tasks = try #require(document["tasks"] as? [[String: Any]])
        #expect(tasks.count == state.tasks.count && tasks.count >= 7)
        // Non-finite numbers became null rather than NaN/Infinity.
        let nanTask = try #require(tasks.first { $0["uuid"] as? String == "nan" })
        #expect(nanTask["runtime"] is NSNull)
        let workers = try #require(document["workers"] as? [[String: Any]])
        #expect(workers.allSatisfy { ($0["hostname"] as? String)?.utf8.count ?? 0 <= 1_024 })
        // The huge argument is held cut, and the document says how long it was.
        let huge = try #require(tasks.first { $0["uuid"] as? String == "huge" })
        #expect((huge["truncated"] as? [String: Any])?["args"] as? Int == 300_000)
    }

    @Test func hostileTimesAndRuntimesRenderOnEveryScreen() {
        var state = ClusterState()
        for body in Self.hostileBodies {
            if let events = try? EventCodec.decode(channel: nil, payload: Self.envelope(body)) {
                state.apply(.events(events, receivedAt: 1_000))
            }
        }
        // A run time or timestamp of 1e300 was converted to Int for display and trapped.
        for screen: Screen in [.overview, .workers, .tasks, .taskDetail("big"), .taskDetail("neg"), .failures] {
            let size = DashboardFixture.large
            let lines = Layout.layout(model: state, view: DashboardFixture.view(screen, size: size), size: size, now: 1_001).lines
            #expect(lines.count == size.rows)
        }
    }
}
