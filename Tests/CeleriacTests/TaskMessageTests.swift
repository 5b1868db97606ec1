import Celeriac
import Foundation
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct TaskMessageTests {
    static let taskSamples = Samples.names(prefix: "task_")

    static func decode(_ name: String) throws -> TaskMessage {
        try TaskMessage.decode(bytes: Samples.bytes(name))
    }

    static func iso(_ d: Date?) -> String? { d.map(CeleryDate.format) }

    @Test func allFourteenTaskSamplesArePresent() {
        #expect(Self.taskSamples.count == 14, "samples dir: \(Samples.directory.path)")
    }

    @Test(arguments: taskSamples) func reencodesEveryTaskSampleByteForByte(name: String) throws {
        let bytes = try Samples.bytes(name)
        let message = try TaskMessage.decode(bytes: bytes)
        let again = message.encoded()
        #expect(String(decoding: again, as: UTF8.self) == String(decoding: bytes, as: UTF8.self))
        #expect(try TaskMessage.decode(bytes: again) == message)
    }

    @Test func decodesAddDelay() throws {
        let m = try Self.decode("task_add_delay.json")
        #expect(m.name == "wireapp.add")
        #expect(m.id == "8bd1c012-b0f8-49ee-a1a5-341a16517ca8")
        #expect(m.args == [2, 3])
        #expect(m.kwargs.isEmpty)
        #expect(m.eta == nil && m.expires == nil)
        #expect(m.rootID == m.id && m.parentID == nil)
        #expect(m.argsRepr == "(2, 3)" && m.kwargsRepr == "{}")
        #expect(m.origin == "gen6639@vm")
        #expect(m.ignoreResult == false)
        #expect(m.timeLimit == TimeLimit())
        #expect(m.priority == 0 && m.listKey == "celery")
        #expect(m.exchange == "" && m.routingKey == "celery")
        #expect(m.deliveryTag == "d96e1be1-dbd4-4ecd-b741-42b168a7d795")
        #expect(m.replyTo == "a602c9dc-eb17-37ae-b5e1-6f7550bdd794")
        #expect(m.callbacks == .null && m.errbacks == .null && m.chain == .null && m.chord == .null)
        #expect(m.extraHeaders.keys == ["replaced_task_nesting", "stamped_headers", "stamps"])
        #expect(!m.redelivered)
    }

    @Test func decodesCountdownAndExpires() throws {
        let m = try Self.decode("task_countdown_expires.json")
        #expect(Self.iso(m.eta) == "2026-11-25T01:59:22.347288+00:00")
        #expect(Self.iso(m.expires) == "2026-11-25T02:00:19.347288+00:00")
        #expect(m.expiration == "60000")
        let expired = try Self.decode("task_already_expired.json")
        #expect(Self.iso(expired.expires) == "2026-11-25T01:59:17.856045+00:00")
        #expect(expired.expiration == "0")
    }

    @Test func decodesKwargsAndPriorityFive() throws {
        let m = try Self.decode("task_kwargs_priority5.json")
        #expect(m.args.isEmpty)
        #expect(m.kwargs == ["x": 10, "y": 20])
        #expect(m.kwargs.keys == ["x", "y"])
        #expect(m.priority == 5)
        #expect(Array(m.listKey.utf8) == Array("celery".utf8) + [6, 0x16, UInt8(ascii: "3")])
        #expect(m.kwargsRepr == "{'x': 10, 'y': 20}")
    }

    @Test func decodesShadowTimeLimitLinksPriorityNineAndCustomHeader() throws {
        let m = try Self.decode("task_options_shadow_timelimit_link_priority9_customheader.json")
        #expect(m.name == "wireapp.echo_req")
        #expect(m.shadow == "shadowed-name" && m.displayName == "shadowed-name")
        #expect(m.timeLimit.hard == 30 && m.timeLimit.soft == 20)
        #expect(m.priority == 9 && m.listKey == "celery\u{06}\u{16}9")
        #expect(m.args == [1, "two", 3.5, nil, true])
        #expect(m.kwargs["k"] == [1, .object(["n": "é"])])
        #expect(m.extraHeaders["x_custom"] == "hello")
        #expect(m.extraHeaders.keys.last == "x_custom")
        let callback = try #require(m.callbacks.arrayValue?.first)
        #expect(callback["task"] == "wireapp.add" && callback["args"] == [100] && callback["immutable"] == false)
        let errback = try #require(m.errbacks.arrayValue?.first)
        #expect(errback["args"] == [0, 0] && errback["immutable"] == true)
        #expect(m.kwargsRepr == "{'k': [1, {'n': 'é'}]}")
    }

    @Test func chainHoldsRemainingStepsNextLast() throws {
        let first = try Self.decode("task_chain_first.json")
        let steps = try #require(first.chain.arrayValue)
        #expect(steps.count == 1)
        #expect(steps.last?["options"]?["task_id"] == "baa8b7f0-65b8-4368-91d5-f373c8769ae6")
        let second = try Self.decode("task_chain_second_sent_by_worker.json")
        #expect(second.chain == [])
        #expect(second.id == "baa8b7f0-65b8-4368-91d5-f373c8769ae6")
        #expect(second.parentID == first.id && second.rootID == first.id)
        #expect(second.origin == "gen4845@vm")
    }

    @Test func decodesGroupAndChordMembers() throws {
        let g = try Self.decode("task_group_member.json")
        #expect(g.group == "57bb8767-a848-460b-8b39-d38d32cab288" && g.groupIndex == 0)
        let c = try Self.decode("task_chord_header_member.json")
        #expect(c.group == "beafab83-1018-4595-8451-d62e648d4c99" && c.groupIndex == 0)
        #expect(c.chord["task"] == "wireapp.add")
        #expect(c.chord["options"]?["group_id"] == "beafab83-1018-4595-8451-d62e648d4c99")
    }

    @Test func decodesRetryRepublishedByWorker() throws {
        let m = try Self.decode("task_retry_republished_by_worker.json")
        #expect(m.retries == 1)
        #expect(m.parentID == m.id && m.rootID == m.id)
        #expect(Self.iso(m.eta) == "2026-11-25T01:59:17.307019+00:00")
        #expect(m.extraProperties["origin"] == "gen6639@vm")
    }

    @Test func decodesRestoredMessageFlags() throws {
        let m = try Self.decode("task_restored_by_unacked_restore_RPUSH.json")
        #expect(m.redelivered)
        #expect(m.extraHeaders["redelivered"] == true)
        #expect(m.extraHeaders.keys.last == "redelivered")
        #expect(m.deliveryTag == "e6142a76-044a-48c4-8e5b-e78513c5d119")
    }

    @Test func markRedeliveredReproducesKombusRestore() throws {
        var m = try Self.decode("task_add_delay.json")
        m.markRedelivered()
        let text = String(decoding: m.encoded(), as: UTF8.self)
        #expect(text.contains(#""stamps": {}, "redelivered": true}"#))
        #expect(text.contains(#""delivery_info": {"exchange": "", "routing_key": "celery", "redelivered": true}"#))
    }

    @Test func decodesSendTaskByNameAndIgnoreResult() throws {
        let byName = try Self.decode("task_send_task.json")
        #expect(byName.ignoreResult == nil)
        #expect(byName.argsRepr == "[7, 8]")
        let unregistered = try Self.decode("task_unregistered_send_task.json")
        #expect(unregistered.name == "nope.unknown" && unregistered.ignoreResult == nil)
        let ignored = try Self.decode("task_ignore_result.json")
        #expect(ignored.ignoreResult == true && ignored.argsRepr == "(3,)")
    }

    @Test func decodesCraftedMinimalMessage() throws {
        let m = try Self.decode("crafted_minimal_task_accepted_by_python_worker.json")
        #expect(m.name == "wireapp.add" && m.id == "62911100-f7fd-417a-a7a6-6520b0513483")
        #expect(m.args == [20, 22] && m.kwargs.isEmpty)
        #expect(m.chain == .null && m.callbacks == .null)
        #expect(m.retries == 0 && m.priority == 0 && m.rootID == nil && m.ignoreResult == nil)
        #expect(m.deliveryTag == "0f576165-7355-4132-8924-8190c4dbcf22")
        // Re-encoding fills in what Python always sends; only correlation_id was absent.
        var filled = m
        filled.correlationID = m.id
        #expect(try TaskMessage.decode(bytes: m.encoded()) == filled)
    }

    // MARK: building

    static let now = CeleryDate.parse("2026-11-25T01:59:12.347288+00:00")!

    static func ids() -> () -> String {
        var n = 0
        return {
            n += 1
            return "00000000-0000-4000-8000-\(String(repeating: "0", count: 11))\(n)"
        }
    }

    @Test func buildsWhatApplyAsyncSends() throws {
        let m = TaskMessage.make(
            name: "wireapp.add", args: [2, 3], options: TaskSendOptions(replyTo: "a602c9dc-eb17-37ae-b5e1-6f7550bdd794"),
            origin: "gen6639@vm", now: Self.now, newID: Self.ids())
        var expected = try Self.decode("task_add_delay.json")
        expected.id = "00000000-0000-4000-8000-000000000001"
        expected.correlationID = expected.id
        expected.rootID = expected.id
        expected.deliveryTag = "00000000-0000-4000-8000-000000000002"
        #expect(m == expected)
        #expect(String(decoding: m.encoded(), as: UTF8.self) == String(decoding: expected.encoded(), as: UTF8.self))
    }

    @Test func countdownAndExpiresBecomeEtaExpiresAndExpiration() throws {
        let m = TaskMessage.make(
            name: "wireapp.add", args: [1, 1], options: TaskSendOptions(countdown: 10, expiresIn: 67),
            origin: "gen1@vm", now: Self.now, newID: Self.ids())
        #expect(Self.iso(m.eta) == "2026-11-25T01:59:22.347288+00:00")
        #expect(Self.iso(m.expires) == "2026-11-25T02:00:19.347288+00:00")
        #expect(m.expiration == "67000")
        let past = TaskMessage.make(
            name: "t", options: TaskSendOptions(expires: Self.now.addingTimeInterval(-5)), origin: "o", now: Self.now,
            newID: Self.ids())
        #expect(past.expiration == "0")
        let none = TaskMessage.make(name: "t", options: TaskSendOptions(countdown: 0), origin: "o", now: Self.now, newID: Self.ids())
        #expect(none.eta == nil && none.expiration == nil)
    }

    /// `expires_in=1e300` is legal in Python; its expiration in milliseconds used to trap in `Int(_:)`.
    @Test func aFarExpiryClampsItsExpirationAndEncodesWithoutTrapping() throws {
        let m = TaskMessage.make(
            name: "t", options: TaskSendOptions(countdown: 1e300, expiresIn: 1e300), origin: "o", now: Self.now,
            newID: Self.ids())
        #expect(m.expiration == "9000000000000000000")
        let decoded = try TaskMessage.decode(bytes: m.encoded())
        #expect(Self.iso(decoded.expires) == "9999-12-31T23:59:59+00:00")
        #expect(Self.iso(decoded.eta) == "9999-12-31T23:59:59+00:00")
    }

    @Test func roundTripsBuiltMessagesWithAwkwardValues() throws {
        let big = JSONValue.bigInt("1180591620717411303427")
        let options = TaskSendOptions(
            taskID: "fixed-id", countdown: 1.5, expiresIn: 60, priority: 5, timeLimit: 30, softTimeLimit: 2.5,
            headers: ["x_custom": "hello", "n": 1], shadow: "sh", parentID: "p", rootID: "r", retries: 2,
            group: "g", groupIndex: 3, chain: [.object(["task": "next"])])
        let m = TaskMessage.make(
            name: "wireapp.echo", args: ["héllo \u{1F600}", big, 0.15000000000000002, 2.0, -0.0, .int(Int.min), nil],
            kwargs: ["z": 1, "a": .object(["nested": [1, 2]])], options: options, origin: "gen1@vm", now: Self.now,
            newID: Self.ids())
        #expect(Array(m.listKey.utf8) == Array("celery".utf8) + [6, 0x16, UInt8(ascii: "3")])
        #expect(m.id == "fixed-id" && m.rootID == "r" && m.parentID == "p")
        let bytes = m.encoded()
        #expect(bytes.allSatisfy { $0 < 0x80 }, "ensure_ascii output")
        let back = try TaskMessage.decode(bytes: bytes)
        #expect(back == m)
        #expect(back.args[1] == big)
        #expect(back.args[3] == JSONValue.double(2.0))
        #expect(back.kwargs.keys == ["z", "a"])
        #expect(back.timeLimit == TimeLimit(hard: 30, soft: 2.5))
        #expect(back.extraHeaders.keys == ["replaced_task_nesting", "stamped_headers", "stamps", "x_custom", "n"])
        #expect(back.argsRepr == "('héllo \u{1F600}', 1180591620717411303427, 0.15000000000000002, 2.0, -0.0, \(Int.min), None)")
        #expect(back.encoded() == bytes)
    }

    @Test func sendByNameMimicsSendTask() {
        let m = TaskMessage.make(
            name: "wireapp.add", args: [7, 8], options: TaskSendOptions(byName: true), origin: "o", now: Self.now,
            newID: Self.ids())
        #expect(m.ignoreResult == nil && m.argsRepr == "[7, 8]")
    }

    // MARK: invalid UTF-8

    /// The envelope of a task whose body is `body`, exactly as a client would send it.
    static func envelope(body: [UInt8], argsRepr: [UInt8]? = nil) -> [UInt8] {
        let m = TaskMessage.make(name: "demo.echo", args: ["x"], origin: "gen1@vm", now: now, newID: ids())
        var bytes = KombuEnvelope(body: body, headers: m.headers, properties: m.properties).encoded()
        if let argsRepr {
            // Raw bytes in a header, which no encoder would write: splice them in.
            let marker = Array(#""argsrepr": "('x',)""#.utf8)
            let at = bytes.indices.first { bytes[$0...].starts(with: marker) }!
            bytes.replaceSubrange(at..<(at + marker.count), with: Array(#""argsrepr": ""#.utf8) + argsRepr + [0x22])
        }
        return bytes
    }

    /// Celery refuses a body that is not UTF-8 (kombu decodes it strictly); repairing it with
    /// U+FFFD ran the task with changed arguments. Now it is a decode error that says why,
    /// which the worker dead-letters with that reason.
    @Test(arguments: [
        Array(#"[["caf"#.utf8) + [0xE9] + Array(#"", 2], {}, {}]"#.utf8),  // Latin-1 é in an argument
        Array(#"[[], {"k"#.utf8) + [0xFF] + Array(#"": 1}, {}]"#.utf8),  // in a keyword's name
        Array(#"[[], {"k": "\n"#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}, {}]"#.utf8),  // a surrogate, after an escape
        Array(#"[[], {}, {"chain": [{"task": "t"#.utf8) + [0xC0, 0xAF] + Array(#""}]}]"#.utf8),  // in the embed
    ])
    func invalidUTF8InTheBodyIsAnErrorThatSaysSo(body: [UInt8]) throws {
        let bytes = Self.envelope(body: body)
        #expect(throws: ProtocolError.self) { try TaskMessage.decode(bytes: bytes) }
        for attempt in [
            Result { () throws(ProtocolError) in try TaskMessage.decode(bytes: bytes) },
            Result { () throws(ProtocolError) in try TaskMessage.decode(KombuEnvelope.decode(bytes)) },
        ] {
            guard case .failure(let error) = attempt else {
                Issue.record("decoded a body that is not UTF-8")
                continue
            }
            #expect(error.code == .invalidJSON)
            #expect(error.description.hasPrefix("invalidJSON: body: invalid JSON at byte "))
            #expect(error.description.contains("invalid UTF-8 in string"))
        }
    }

    @Test func wellFormedNonASCIIArgumentsStillDecode() throws {
        let body = Array(#"[["café", "😀", "\u00e9"], {"ключ": "€"}, {}]"#.utf8)
        let m = try TaskMessage.decode(bytes: Self.envelope(body: body))
        #expect(m.args == ["café", "😀", "é"])
        #expect(m.kwargs == ["ключ": "€"])
    }

    /// kombu decodes the envelope itself with `errors='replace'`, so Celery runs a task whose
    /// headers hold invalid UTF-8 with U+FFFD in them; so do we.
    @Test func invalidUTF8InTheEnvelopeIsRepairedAsKombuDoes() throws {
        let bytes = Self.envelope(body: Array(#"[["x"], {}, {}]"#.utf8), argsRepr: [0x28, 0xFF, 0x29])
        #expect(try TaskMessage.decode(bytes: bytes).argsRepr == "(\u{FFFD})")
        #expect(try TaskMessage.decode(KombuEnvelope.decode(bytes)).argsRepr == "(\u{FFFD})")
    }
}
