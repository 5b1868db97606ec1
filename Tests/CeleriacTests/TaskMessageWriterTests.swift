@testable import Celeriac
import Foundation
import CeleriacTestTags
import CeleriacTestSupport
import Testing

/// `TaskMessageWriter` must write exactly the bytes of the reference `TaskMessage.encoded()`:
/// Python peers only need valid JSON, but the captured Celery samples are byte-compared and a
/// difference here would be a silent wire change.
@Suite(.tags(.unit)) struct TaskMessageWriterTests {
    static let now = Date(timeIntervalSince1970: 1_795_571_952.347288)

    static func assertSame(_ m: TaskMessage, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let reference = m.encoded()
        let written = TaskMessageWriter.encode(m)
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: reference, as: UTF8.self), comment,
                sourceLocation: sourceLocation)
    }

    @Test(arguments: TaskMessageTests.taskSamples) func writesEveryCelerySampleByteForByte(name: String) throws {
        let bytes = try Samples.bytes(name)
        let message = try TaskMessage.decode(bytes: bytes)
        #expect(TaskMessageWriter.isCovered(message), "the fast path should cover what Celery sends")
        #expect(String(decoding: TaskMessageWriter.encode(message), as: UTF8.self) == String(decoding: bytes, as: UTF8.self))
    }

    @Test func writesHandPickedAwkwardMessages() {
        var ids = 0
        let newID = { () -> String in ids += 1; return "id-\(ids)" }
        let plain = TaskMessage.make(name: "demo.noop", origin: "gen1@vm", now: Self.now, newID: newID)
        Self.assertSame(plain, "no-op")
        let full = TaskMessage.make(
            name: "wire\"app\\.é\u{1F600}\n", args: ["héllo \u{1F600}", .bigInt("-1180591620717411303427"), 0.1, 2.0, -0.0,
                                                   .int(Int.min), nil, true, [], [:], ["k": [1, [2, ["x": nil]]]]],
            kwargs: ["z": 1, "ü": "\u{7F}\u{0}\t", "a": .object(["nested": [1, 2]])],
            options: TaskSendOptions(
                taskID: "fixed", countdown: 1.5, expiresIn: 60, queue: "q\u{1}", priority: 9, timeLimit: 30, softTimeLimit: 2.5,
                ignoreResult: true, headers: ["x_custom": "hello", "n": 1, "nested": ["a": [1]]], replyTo: "reply",
                shadow: "sh", parentID: "p", rootID: "r", retries: 2, group: "g", groupIndex: 3,
                callbacks: [["task": "cb", "args": [1]]], errbacks: [["task": "eb"]], chain: [["task": "next"]],
                chord: ["task": "body"]),
            origin: "gen1@vm", now: Self.now, newID: newID)
        Self.assertSame(full, "every option")
        let byName = TaskMessage.make(name: "t", args: [7, 8], options: TaskSendOptions(byName: true), origin: "o", now: Self.now,
                                      newID: newID)
        Self.assertSame(byName, "send_task: ignore_result null")
        let absolute = TaskMessage.make(
            name: "t", options: TaskSendOptions(eta: Date(timeIntervalSince1970: 0), expires: Self.now.addingTimeInterval(-5),
                                                timeLimit: 1e20),
            origin: "o", now: Self.now, newID: newID)
        Self.assertSame(absolute, "eta at the epoch, expired, a float time limit")
        var restored = full
        restored.markRedelivered()
        restored.extraProperties = ["origin": "w@h", "priority": 4, "zzz": [1]]
        restored.correlationID = nil
        restored.lang = "rb"
        Self.assertSame(restored, "redelivered, extra properties (a known one skipped), no correlation id")
        var limitsOnlySoft = plain
        limitsOnlySoft.timeLimit = TimeLimit(hard: nil, soft: 3)
        Self.assertSame(limitsOnlySoft, "soft limit only")
    }

    @Test func handsOverridingExtrasToTheReference() {
        var m = TaskMessage.make(name: "t", origin: "o", now: Self.now, newID: { "x" })
        m.extraHeaders["task"] = "shadowed"
        #expect(!TaskMessageWriter.isCovered(m))
        Self.assertSame(m, "an extra header named like a standard one replaces it in place")
        var repeated = m
        repeated.extraHeaders = JSONObject([JSONMember("a", 1), JSONMember("a", 2)])
        #expect(!TaskMessageWriter.isCovered(repeated))
        Self.assertSame(repeated, "a repeated extra header collapses into one")
        var repeatedProperty = m
        repeatedProperty.extraHeaders = [:]
        repeatedProperty.extraProperties = JSONObject([JSONMember("p", 1), JSONMember("p", 2)])
        #expect(!TaskMessageWriter.isCovered(repeatedProperty))
        Self.assertSame(repeatedProperty, "a repeated extra property collapses into one")
    }

    /// Many generated messages, seeded so a failure is reproducible.
    @Test func writesGeneratedMessagesByteForByte() {
        let seed = TestSeed.value(default: 0x5EED)
        var rng = SplitMix64(seed: seed)
        for n in 0..<500 {
            let m = Self.randomMessage(&rng, n: n)
            let reference = m.encoded()
            let written = TaskMessageWriter.encode(m)
            if written != reference {
                Issue.record("message \(n) differs (\(TestSeed.replay(seed))):\n\(String(decoding: written, as: UTF8.self))\nvs\n\(String(decoding: reference, as: UTF8.self))")
                return
            }
        }
    }

    @Test func aReusedWriterKeepsNoStateBetweenMessages() {
        let seed = TestSeed.value(default: 7)
        var rng = SplitMix64(seed: seed)
        var writer = TaskMessageWriter()
        for n in 0..<50 {
            let m = Self.randomMessage(&rng, n: n)
            #expect(writer.encode(m) == m.encoded(), "message \(n); \(TestSeed.replay(seed))")
        }
    }

    static func randomMessage(_ rng: inout SplitMix64, n: Int) -> TaskMessage {
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        func maybe<T>(_ x: @autoclosure () -> T) -> T? { rng.next() % 2 == 0 ? x() : nil }
        func string() -> String {
            pick(["", "a", "plain text", "quote\"back\\slash", "tab\tnew\nline", "é", "日本語", "\u{1F600}", "\u{0}\u{1F}\u{7F}",
                  String(repeating: "x", count: Int(rng.next() % 300))])
        }
        func value(_ depth: Int) -> JSONValue {
            switch rng.next() % (depth > 2 ? 6 : 8) {
            case 0: return .null
            case 1: return .bool(rng.next() % 2 == 0)
            case 2: return .int(Int(truncatingIfNeeded: rng.next()) >> Int(rng.next() % 64))
            case 3: return .double(pick([0.1, -2.5, 1e300, .leastNonzeroMagnitude, 2.0, 1e16, 123456.789]))
            case 4: return .string(string())
            case 5: return .bigInt("99999999999999999999\(rng.next() % 10)")
            case 6: return .array((0..<Int(rng.next() % 4)).map { _ in value(depth + 1) })
            default:
                var o = JSONObject()
                for k in 0..<Int(rng.next() % 4) { o["k\(k)\(string())"] = value(depth + 1) }
                return .object(o)
            }
        }
        var headers = JSONObject()
        for k in 0..<Int(rng.next() % 3) { headers["h\(k)"] = value(1) }
        let options = TaskSendOptions(
            taskID: maybe("task-\(n)"), countdown: maybe(Double(rng.next() % 1000) / 7), eta: maybe(Date(timeIntervalSince1970: 1e9 + Double(n))),
            expires: maybe(Date(timeIntervalSince1970: 2e9 + Double(n) / 3)), expiresIn: maybe(Double(rng.next() % 100)),
            queue: maybe(string()), priority: maybe(Int(rng.next() % 10)), timeLimit: maybe(Double(rng.next() % 50) / 4),
            softTimeLimit: maybe(Double(rng.next() % 50)), ignoreResult: rng.next() % 2 == 0, byName: rng.next() % 5 == 0,
            headers: headers, replyTo: pick(["", "r-1"]), shadow: maybe(string()), parentID: maybe("p"), rootID: maybe("r"),
            retries: Int(rng.next() % 3), group: maybe("g"), groupIndex: maybe(Int(rng.next() % 5)),
            callbacks: pick([.null, .array([value(2)])]), errbacks: pick([.null, .array([value(2)])]),
            chain: pick([.null, .array([value(2), value(2)])]), chord: pick([.null, value(2)]))
        let args = (0..<Int(rng.next() % 5)).map { _ in value(0) }
        var kwargs = JSONObject()
        for k in 0..<Int(rng.next() % 4) { kwargs["kw\(k)\(string())"] = value(0) }
        var m = TaskMessage.make(name: pick(["demo.noop", "wireapp.add", string()]), args: args, kwargs: kwargs, options: options,
                                 origin: "gen\(n)@host", now: now, newID: { "u-\(n)" })
        if rng.next() % 4 == 0 { m.markRedelivered() }
        if rng.next() % 4 == 0 { m.extraProperties["origin"] = .string(string()) }
        return m
    }
}
