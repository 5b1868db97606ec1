@testable import Celeriac
import CeleriacTestTags
import CeleriacTestSupport
import Testing

/// The fast event decoder (``EventFastDecoder``, the first thing ``EventCodec/decode(channel:payload:)``
/// tries) against the general one (``EventCodec/decodeGeneral(channel:payload:)``): for every
/// captured sample, for hand-made edge cases and for thousands of damaged messages, both must
/// give the same events (typed view and fields) or the same typed error.
@Suite(.tags(.unit)) struct EventFastDecoderTests {
    /// What a decode produced, comparable: each event's typed view and its fields as JSON
    /// text (`String(reflecting:)` keeps NaN and -0.0 apart), or the error.
    enum Outcome: Equatable, CustomStringConvertible {
        case events([String])
        case error(ProtocolError)

        var description: String {
            switch self {
            case .events(let e): "events \(e)"
            case .error(let e): "error \(e)"
            }
        }
    }

    static func view(_ e: CeleryEvent) -> String {
        String(reflecting: (e.kind, e.hostname, e.utcoffset, e.pid, e.clock, e.timestamp, e.task, e.worker))
            + " " + JSONValue.object(e.fields).jsonString
    }

    static func outcome(_ decode: () throws(ProtocolError) -> [CeleryEvent]) -> Outcome {
        do throws(ProtocolError) {
            return .events(try decode().map(view))
        } catch {
            return .error(error)
        }
    }

    /// Both decoders on `payload`; records a failure if they differ. Returns the outcome.
    @discardableResult
    /// - Parameter context: Added to the failure message (a fuzz test's seed).
    static func expectSame(
        _ payload: [UInt8], channel: String? = "/0.celeryev/task.multi", context: String = "",
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Outcome {
        let general = outcome { () throws(ProtocolError) in try EventCodec.decodeGeneral(channel: channel, payload: payload) }
        let decoded = outcome { () throws(ProtocolError) in try EventCodec.decode(channel: channel, payload: payload) }
        if decoded != general {
            let body = (try? KombuEnvelope.decode(payload).body).map { String(decoding: $0, as: UTF8.self) } ?? "-"
            Issue.record(
                "fast \(decoded) != general \(general)\npayload: \(String(decoding: payload, as: UTF8.self))\nbody: \(body)\(context)",
                sourceLocation: sourceLocation)
        }
        return general
    }

    static func envelope(body: [UInt8]) -> [UInt8] {
        KombuEnvelope(body: body, headers: ["hostname": "w1@vm"], properties: ["body_encoding": "base64"]).encoded()
    }

    static func envelope(_ body: String) -> [UInt8] { envelope(body: Array(body.utf8)) }

    static let sender = EventSender(hostname: "w1@vm", utcoffset: -2, pid: 4781)

    /// A worker's batch as the benchmark and real workers send it, and the same events singly.
    static func workerMessages() -> [[UInt8]] {
        var events: [CeleryEvent] = []
        for i in 0..<8 {
            let id = "0b5e1f2a-7c3d-4e6f-9a1b-00000000000\(i)"
            events.append(.taskReceived(
                sender, clock: 10 + i, timestamp: 1_700_000_000.123456 + Double(i), uuid: id, name: "app.add",
                args: "(1, 2)", kwargs: "{'x': 'é\"\\n'}", rootID: id, parentID: nil, retries: i, eta: nil, expires: nil))
            events.append(.taskStarted(sender, clock: 20 + i, timestamp: 1_700_000_001.5, uuid: id))
            events.append(.taskSucceeded(sender, clock: 30 + i, timestamp: 1_700_000_002.25, uuid: id, result: "3", runtime: 0.0004))
        }
        var messages = [EventCodec.encode(events, hostname: sender.hostname, deliveryTag: "t-multi").payload]
        for (i, e) in events.enumerated() {
            messages.append(EventCodec.encode(e, hostname: sender.hostname, deliveryTag: "t-\(i)").payload)
        }
        return messages
    }

    // MARK: Captured and generated messages

    @Test(arguments: WireSamples.events)
    func decodesEveryCapturedSampleAsTheGeneralDecoder(name: String) throws {
        let channel = try WireSamples.text(name + ".channel.txt")
        let payload = try WireSamples.bytes(name + ".json")
        let outcome = Self.expectSame(payload, channel: channel)
        guard case .events(let events) = outcome else {
            Issue.record("sample does not decode: \(outcome)")
            return
        }
        #expect(!events.isEmpty)
        // Celery's task events take the fast path; worker events are left to the general one.
        let fast = EventFastDecoder.decode(payload)
        if name.hasPrefix("event_task") {
            #expect(fast?.map(Self.view) == events)
        } else {
            #expect(fast == nil)
        }
    }

    @Test func takesTheFastPathForWorkerBatchesAndSingleTaskEvents() throws {
        for payload in Self.workerMessages() {
            let fast = try #require(EventFastDecoder.decode(payload))
            #expect(.events(fast.map(Self.view)) == Self.expectSame(payload))
        }
    }

    @Test func fastDecodedEventsKeepEveryFieldAndReencodeByteForByte() throws {
        let payload = try WireSamples.bytes("event_task.multi_batch_task-failed_plus_task-rejected.json")
        let fast = try #require(EventFastDecoder.decode(payload))
        let general = try EventCodec.decodeGeneral(channel: nil, payload: payload)
        #expect(fast == general)
        #expect(fast.map(\.hashValue) == general.map(\.hashValue))
        #expect(fast.map(\.fields) == general.map(\.fields))
        #expect(fast[0].task?.traceback?.contains("\n") == true)
        let again = EventCodec.encode(fast, hostname: "w1@vm", deliveryTag: "x").payload
        #expect(again == EventCodec.encode(general, hostname: "w1@vm", deliveryTag: "x").payload)
    }

    // MARK: Edge cases

    /// Bodies whose typed view is easy to get subtly wrong, each checked against the general decoder.
    static let edgeBodies: [String] = [
        // Values of unexpected types read as nil; fields keep them.
        #"{"type": "task-started", "uuid": "u", "pid": "oops", "retries": 1.5, "clock": 2.0, "timestamp": 5}"#,
        #"{"type": "task-started", "uuid": "u", "hostname": null, "clock": null, "utcoffset": "x", "timestamp": "1"}"#,
        #"{"type": "task-succeeded", "uuid": "u", "runtime": [1], "result": {"a": [1, {"b": null}]}, "name": 5}"#,
        #"{"type": "task-revoked", "uuid": "u", "terminated": true, "expired": false, "signum": 15, "requeue": null}"#,
        #"{"type": "task-rejected", "uuid": "u", "requeue": 1, "terminated": "true", "signum": 15.0}"#,
        // Numbers as the parser reads them: big integers, exponents, NaN, infinities, -0.
        #"{"type": "task-started", "uuid": "u", "clock": 123456789012345678901234, "pid": -0, "timestamp": 1e400}"#,
        #"{"type": "task-started", "uuid": "u", "clock": 9223372036854775807, "pid": -9223372036854775808}"#,
        #"{"type": "task-started", "uuid": "u", "clock": 999999999999999999, "pid": 1000000000000000000}"#,
        #"{"type": "task-succeeded", "uuid": "u", "runtime": NaN, "timestamp": -Infinity, "utcoffset": Infinity}"#,
        #"{"type": "task-succeeded", "uuid": "u", "runtime": 1E-7, "timestamp": 1795571955.7974007, "utcoffset": -0.0}"#,
        #"{"type": "task-succeeded", "uuid": "u", "runtime": 0.1e+2, "timestamp": 12345678901234567890.5}"#,
        // Escapes, surrogates and invalid UTF-8 in values and in the type and uuid.
        #"{"type": "task-failed", "uuid": "u\u00e9\"", "exception": "E('\ud83d\ude00 \ud800 x')", "traceback": "a\nb\t\\/"}"#,
        #"{"type": "task-\u0073tarted", "uuid": "u", "hostname": "w\/1@vm"}"#,
        "{\"type\": \"task-started\", \"uuid\": \"u\u{00e9}\", \"hostname\": \"w\u{1F600}@vm\"}",
        // The uuid shared as root_id, or not.
        #"{"type": "task-received", "uuid": "abc", "root_id": "abc", "parent_id": "abd", "name": "n"}"#,
        #"{"type": "task-received", "uuid": "abc", "root_id": "ab\u0063"}"#,
        // Repeated keys: the last value wins (general parser), the fast path declines.
        #"{"type": "task-started", "uuid": "u", "uuid": "v"}"#,
        #"{"type": "task-started", "uuid": "u", "uuid": 5}"#,
        #"{"type": "task-started", "uuid": "u", "x": 1, "x": 2}"#,
        #"{"type": 7, "type": "task-started", "uuid": "u"}"#,
        // Escaped keys.
        #"{"typ\u0065": "task-started", "uuid": "u"}"#,
        #"{"type": "task-started", "\u0075uid": "u"}"#,
        // Custom and worker types, missing or odd type and uuid.
        #"{"type": "task-progress", "current": 3}"#,
        #"{"type": "task-custom", "uuid": "u", "current": 3}"#,
        #"{"type": "worker-heartbeat", "hostname": "w1@vm", "loadavg": [0.1, 0.2, 0.3], "freq": 2.0}"#,
        #"{"type": "task-started"}"#,
        #"{"type": "task-started", "uuid": null}"#,
        #"{"type": "task-started", "uuid": ["u"]}"#,
        #"{"type": null, "uuid": "u"}"#,
        #"{"uuid": "u"}"#,
        #"{}"#,
        #"[]"#,
        #"[{}]"#,
        #"[{"type": "task-started", "uuid": "u"}, {"type": "worker-online"}]"#,
        #"[{"type": "task-started", "uuid": "u"}, 5]"#,
        #"[{"type": "task-started", "uuid": "u"},]"#,
        #"[{"type": "task-started", "uuid": "u"}] "#,
        " \n\t[ {\"type\" :\"task-started\" ,\"uuid\":\"u\" } , {\"type\":\"task-started\",\"uuid\":\"v\"} ]\r\n",
        // Malformed JSON of every kind.
        #"{"type": "task-started", "uuid": "u"} x"#,
        #"{"type": "task-started", "uuid": "u",}"#,
        #"{"type": "task-started", "uuid": "u" "x": 1}"#,
        #"{"type": "task-started", "uuid": "u", "clock": 01}"#,
        #"{"type": "task-started", "uuid": "u", "clock": 1.}"#,
        #"{"type": "task-started", "uuid": "u", "clock": -}"#,
        #"{"type": "task-started", "uuid": "u", "clock": tru}"#,
        #"{"type": "task-started", "uuid": "u", "clock": truex}"#,
        #"{"type": "task-started", "uuid": "u", "clock": nan}"#,
        #"{"type": "task-started", "uuid": "u", "x": 0x10}"#,
        #"{"type": "task-started", "uuid": "u", "x": [1, 2,]}"#,
        #"{"type": "task-started", "uuid": "u", "x": {"a" 1}}"#,
        #"{"type": "task-started", "uuid": "u", "x": "\q"}"#,
        #"{"type": "task-started", "uuid": "u", "x": "\u12"}"#,
        "{\"type\": \"task-started\", \"uuid\": \"u\", \"x\": \"a\u{01}b\"}",
        "{\"type\": \"task-started\", \"uuid\": \"u\u{0A}\"}",
        #"{"type": "task-started", "uuid": "u", "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#,
        #"{"type": "task-started", "uuid": "u""#,
        #"{"type": "task-started", "uuid": "#,
        #"{"type": "task-started", "#,
        #"{"#,
        "",
        "null",
        #""task-started""#,
    ]

    @Test(arguments: edgeBodies)
    func agreesWithTheGeneralDecoderOnEdgeCases(body: String) {
        Self.expectSame(Self.envelope(body))
    }

    @Test func declinesRepeatedKeysItReads() {
        #expect(EventFastDecoder.decode(Self.envelope(#"{"type": "task-started", "uuid": "u", "uuid": "v"}"#)) == nil)
        #expect(EventFastDecoder.decode(Self.envelope(#"{"type": "task-started", "uuid": "u", "x": 1, "x": 2}"#)) != nil)
    }

    /// Envelopes the fast path must decode identically or leave to the general decoder.
    static let edgeEnvelopes: [String] = [
        // No body_encoding: the body is the text itself (general path).
        #"{"body": "{\"type\": \"task-started\", \"uuid\": \"u\"}", "content-type": "application/json", "properties": {}}"#,
        // Other encodings and content types.
        #"{"body": "e30=", "properties": {"body_encoding": "hex"}}"#,
        #"{"body": "e30=", "properties": {"body_encoding": null}}"#,
        #"{"body": "e30=", "content-type": "application/x-python-serialize", "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "e30=", "content-type": "", "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "e30=", "content-type": "application/x-json", "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "e30=", "content-type": 5, "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "e30=", "content-encoding": 5, "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "e30=", "headers": [], "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "e30=", "headers": null, "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "e30=", "properties": []}"#,
        #"{"body": 5, "properties": {"body_encoding": "base64"}}"#,
        #"{"properties": {"body_encoding": "base64"}}"#,
        // Repeated keys, escapes, whitespace, trailing data.
        #"{"body": "e30=", "body": "W10=", "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "e30=", "properties": {"body_encoding": "base64", "body_encoding": "base64"}}"#,
        #"{"body": "e30=", "properties": {"body_encoding": "base6\u0034"}}"#,
        #"{"b\u006fdy": "e30=", "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "e3\u0030=", "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "e3 0=", "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "e30", "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "W3sidHlwZSI6ICJ0YXNrLXN0YXJ0ZWQiLCAidXVpZCI6ICJ1In1d", "properties": {"body_encoding": "base64"}} "#,
        #"  {"body":"W3sidHlwZSI6ICJ0YXNrLXN0YXJ0ZWQiLCAidXVpZCI6ICJ1In1d","properties":{"body_encoding":"base64"}}"#,
        #"{"body": "W3sidHlwZSI6ICJ0YXNrLXN0YXJ0ZWQiLCAidXVpZCI6ICJ1In1d", "properties": {"body_encoding": "base64"}} x"#,
        #"{"body": "W3sidHlwZSI6ICJ0YXNrLXN0YXJ0ZWQiLCAidXVpZCI6ICJ1In1d", "properties": {"body_encoding": "base64"},}"#,
        #"{"body": "W3sidHlwZSI6ICJ0YXNrLXN0YXJ0ZWQiLCAidXVpZCI6ICJ1In1d", "properties": {"body_encoding": "base64"}, "x": [1e5, {"y": "\n"}]}"#,
        #"[]"#,
        #"{}"#,
        "",
    ]

    @Test(arguments: edgeEnvelopes)
    func agreesWithTheGeneralDecoderOnEdgeEnvelopes(envelope: String) {
        Self.expectSame(Array(envelope.utf8))
    }

    // MARK: Damaged messages

    /// Every prefix, and random byte changes in the envelope and in the body (re-wrapped, so
    /// the damage reaches the events): never a crash, always the general decoder's answer.
    @Test func agreesWithTheGeneralDecoderOnDamagedMessages() throws {
        var messages = Self.workerMessages()
        for name in WireSamples.events { messages.append(try WireSamples.bytes(name + ".json")) }
        let seed = TestSeed.value(default: 6)
        let context = "\n" + TestSeed.replay(seed)
        var rng = SplitMix64(seed: seed)
        for message in messages.prefix(12) {
            for n in stride(from: 0, to: message.count, by: 5) { Self.expectSame(Array(message[..<n]), context: context) }
        }
        for message in messages {
            let body = try KombuEnvelope.decode(message).body
            for _ in 0..<150 {
                var m = message
                let k = Int(rng.next() % 3) + 1
                rng.damage(&m, times: k)
                Self.expectSame(m, context: context)
                var b = body
                rng.damage(&b, times: k)
                Self.expectSame(Self.envelope(body: b), context: context)
                // Insert or delete a byte somewhere in the body.
                var c = body
                let at = Int(rng.next() % UInt64(c.count))
                if rng.next() % 2 == 0 { c.remove(at: at) } else { c.insert(rng.damageByte(), at: at) }
                Self.expectSame(Self.envelope(body: c), context: context)
            }
        }
    }
}
