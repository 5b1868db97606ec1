@testable import Celeriac
import Foundation
import CeleriacTestTags
import CeleriacTestSupport
import Testing

/// The fast task decoder (``TaskMessageFastDecoder``, the first thing
/// ``TaskMessage/decode(bytes:maxSize:)`` tries) against the general one
/// (``KombuEnvelope/decode(_:maxSize:)`` then ``TaskMessage/decode(_:)``): for every captured
/// sample, for messages built with every option, for edge cases and for thousands of damaged
/// messages, the fast one either declines or gives exactly the general one's message.
@Suite(.tags(.unit)) struct TaskMessageFastDecoderTests {
    static func general(_ bytes: [UInt8]) -> Result<TaskMessage, ProtocolError> {
        Result { () throws(ProtocolError) -> TaskMessage in try TaskMessage.decode(KombuEnvelope.decode(bytes)) }
    }

    /// Checks the fast decoder on `bytes`; returns whether it answered.
    @discardableResult
    /// - Parameter context: Added to the failure messages (a fuzz test's seed).
    static func expectAgrees(_ bytes: [UInt8], context: String = "", sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        guard let fast = TaskMessageFastDecoder.decode(bytes) else { return false }
        let general = general(bytes)
        if case .success(let message) = general, message == fast {
            // Equal and also the same bytes again: nothing Hashable could hide differs.
            #expect(fast.encoded() == message.encoded(), "\(context)", sourceLocation: sourceLocation)
        } else {
            Issue.record("fast \(fast) != general \(general)\nmessage: \(String(decoding: bytes, as: UTF8.self))\(context)",
                         sourceLocation: sourceLocation)
        }
        return true
    }

    static func message(_ options: TaskSendOptions = TaskSendOptions(), args: [JSONValue] = [1, 2], kwargs: JSONObject = [:]) -> TaskMessage {
        TaskMessage.make(name: "demo.add", args: args, kwargs: kwargs, options: options, origin: "gen1@test",
                         now: Date(timeIntervalSince1970: 1_700_000_000.25), newID: { UUID().uuidString.lowercased() })
    }

    @Test(arguments: TaskMessageTests.taskSamples)
    func decodesEveryCapturedTaskSampleAsTheGeneralDecoder(name: String) throws {
        let bytes = try Samples.bytes(name)
        #expect(Self.expectAgrees(bytes), "a message Celery sent takes the fast path")
    }

    @Test func decodesMessagesBuiltWithEveryOption() throws {
        var all = TaskSendOptions()
        all.countdown = 10
        all.expiresIn = 60
        all.priority = 7
        all.queue = "q\u{e9}"
        all.shadow = "shadowed"
        all.timeLimit = 30
        all.softTimeLimit = 20.5
        all.group = "g"
        all.groupIndex = 3
        all.retries = 2
        all.parentID = "p"
        all.rootID = "r"
        all.replyTo = "reply"
        all.headers = ["custom": ["a": [1, 2.5, "x"]], "flag": true]
        all.callbacks = .array([.object(["task": "cb", "args": []])])
        all.chain = .array([.object(["task": "next"])])
        var byName = TaskSendOptions()
        byName.byName = true
        var redelivered = Self.message(all, args: ["é\"\\\n\u{1F600}", .double(1.5), .null, .bigInt("123456789012345678901234")],
                                       kwargs: ["k": .object(["nested": .array([])])])
        redelivered.markRedelivered()
        redelivered.extraProperties = ["origin": "gen2@test"]
        for m in [Self.message(), Self.message(all), Self.message(byName), redelivered] {
            #expect(Self.expectAgrees(m.encoded()), "\(m)")
        }
    }

    /// Envelopes a Celery client does not write but the general decoder accepts or rejects:
    /// the fast decoder answers the same or declines.
    static let edgeEnvelopes: [String] = [
        // Compact separators, kwargs null, no embed, no content type.
        #"{"body":"W1sxXSxudWxsXQ==","headers":{"task":"t","id":"i"},"properties":{"delivery_tag":"d","body_encoding":"base64"}}"#,
        // A body without body_encoding is its text.
        #"{"body": "[[], {}, {}]", "headers": {"task": "t", "id": "i"}, "properties": {"delivery_tag": "d"}}"#,
        #"{"body": "[[], {}, {}]", "headers": {"task": "t", "id": "i"}, "properties": {"delivery_tag": "d", "body_encoding": null}}"#,
        // Escapes in header values, unknown top-level keys, nulls everywhere.
        #"{"x": [1, {"y": null}], "body": "W1tdLCB7fSwge31d", "headers": {"task": "t\u00e9", "id": "i\"", "shadow": null, "eta": null, "retries": null, "timelimit": null, "ignore_result": null}, "properties": {"delivery_tag": "d", "delivery_info": null, "body_encoding": "base64"}}"#,
        // Dates with and without fractions and offsets.
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": "t", "id": "i", "eta": "2026-11-25T10:00:00+00:00", "expires": "2026-11-25T10:00:00.123456"}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        // Wrong types: the general decoder's errors.
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": "t", "id": "i", "retries": "1"}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": "t", "id": "i", "retries": 1.0}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": "t", "id": 5}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": "t", "id": "i", "eta": "tomorrow"}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": "t", "id": "i", "timelimit": [1]}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": "t", "id": "i"}, "properties": {"delivery_tag": "d", "body_encoding": "base64", "delivery_info": {"exchange": 1}}}"#,
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": "t", "id": "i"}, "properties": {"delivery_tag": "d", "body_encoding": "hex"}}"#,
        #"{"body": "W1tdLCB7fSwge31d", "content-type": "application/x-python-serialize", "headers": {"task": "t", "id": "i"}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        // Missing pieces: no task (protocol v1), no id, no tag, no headers, no body.
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"id": "i"}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": null, "id": "i"}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": "t"}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": "t", "id": "i"}, "properties": {"body_encoding": "base64"}}"#,
        #"{"body": "W1tdLCB7fSwge31d", "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        #"{"headers": {"task": "t", "id": "i"}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        // Repeated keys: the general parser keeps the last value.
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": "t", "id": "i", "id": "j"}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        #"{"body": "W1tdLCB7fSwge31d", "headers": {"task": "t", "id": "i", "x": 1, "x": 2}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        // Bad bodies: not base64, not JSON, not a list, kwargs a list.
        #"{"body": "W1td!", "headers": {"task": "t", "id": "i"}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        #"{"body": "e30=", "headers": {"task": "t", "id": "i"}, "properties": {"delivery_tag": "d", "body_encoding": "base64"}}"#,
        #"{"body": "[[], [], {}]", "headers": {"task": "t", "id": "i"}, "properties": {"delivery_tag": "d"}}"#,
        #"{"body": "[[]", "headers": {"task": "t", "id": "i"}, "properties": {"delivery_tag": "d"}}"#,
    ]

    @Test(arguments: edgeEnvelopes)
    func agreesWithTheGeneralDecoderOnEdgeEnvelopes(envelope: String) {
        let bytes = Array(envelope.utf8)
        Self.expectAgrees(bytes)
        // And the public entry point gives the general answer, error included.
        let decoded = Result { () throws(ProtocolError) -> TaskMessage in try TaskMessage.decode(bytes: bytes) }
        #expect(decoded == Self.general(bytes))
    }

    @Test func takesTheFastPathForPlainAndCompactMessages() {
        #expect(TaskMessageFastDecoder.decode(Array(Self.edgeEnvelopes[0].utf8)) != nil)
        #expect(TaskMessageFastDecoder.decode(Array(Self.edgeEnvelopes[3].utf8)) != nil)
        #expect(TaskMessageFastDecoder.decode(Array(Self.edgeEnvelopes[5].utf8)) == nil, "a mistyped field is the general path's to report")
    }

    @Test func aSizeLimitIsCheckedBeforeEitherPath() throws {
        let bytes = Self.message().encoded()
        #expect(throws: ProtocolError.self) { try TaskMessage.decode(bytes: bytes, maxSize: 100) }
        #expect(try TaskMessage.decode(bytes: bytes, maxSize: bytes.count) == TaskMessage.decode(KombuEnvelope.decode(bytes)))
    }

    /// Every prefix, and random byte changes in the envelope and in the body (re-wrapped, so
    /// the damage reaches the arguments): never a crash, and never a different answer.
    @Test func agreesWithTheGeneralDecoderOnDamagedMessages() throws {
        var messages = try TaskMessageTests.taskSamples.map(Samples.bytes)
        var options = TaskSendOptions()
        options.countdown = 5
        options.headers = ["custom": [1, "two"]]
        messages.append(Self.message(options, kwargs: ["x": "y"]).encoded())
        let seed = TestSeed.value(default: 11)
        let context = "\n" + TestSeed.replay(seed)
        var rng = SplitMix64(seed: seed)
        for message in messages.prefix(4) {
            for n in stride(from: 0, to: message.count, by: 3) { Self.expectAgrees(Array(message[..<n]), context: context) }
        }
        for message in messages {
            let envelope = try KombuEnvelope.decode(message)
            for _ in 0..<200 {
                var m = message
                let k = Int(rng.next() % 3) + 1
                rng.damage(&m, times: k)
                Self.expectAgrees(m, context: context)
                var e = envelope
                rng.damage(&e.body, times: k)
                Self.expectAgrees(e.encoded(), context: context)
            }
        }
    }

    /// A body that is not UTF-8 is the general decoder's to refuse (with its reason): the fast
    /// one declines instead of repairing it.
    @Test func declinesABodyThatIsNotUTF8() throws {
        let bad = TaskMessageTests.envelope(body: Array(#"[["caf"#.utf8) + [0xE9] + Array(#""], {}, {}]"#.utf8))
        #expect(TaskMessageFastDecoder.decode(bad) == nil)
        let good = TaskMessageTests.envelope(body: Array(#"[["café"], {}, {}]"#.utf8))
        #expect(TaskMessageFastDecoder.decode(good)?.args == ["café"])
        #expect(Self.expectAgrees(good))
    }
}
