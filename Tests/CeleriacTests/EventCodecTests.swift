import Celeriac
import Foundation
import CeleriacTestTags
import CeleriacTestSupport
import Testing

@Suite(.tags(.unit)) struct EventCodecTests {
    private static func decodeSample(_ name: String) throws -> [CeleryEvent] {
        let channel = try WireSamples.text(name + ".channel.txt")
        return try EventCodec.decode(channel: channel, payload: try WireSamples.bytes(name + ".json"))
    }

    @Test func listsCoverEverySample() {
        #expect(Set(Samples.names(prefix: "event_").map { String($0.dropLast(5)) }) == Set(WireSamples.events))
        let commands = Samples.names(prefix: "control_").filter { !$0.contains("_REPLY") }
        #expect(Set(commands.map { String($0.dropLast(5)) }) == Set(WireSamples.commands))
    }

    @Test(arguments: WireSamples.events)
    func decodesEveryCapturedEventMessage(name: String) throws {
        let events = try Self.decodeSample(name)
        let body = try JSONParser.parse(try WireSamples.bytes(name + ".body.json"))
        let objects: [JSONValue] = body.arrayValue ?? [body]
        try #require(events.count == objects.count)
        for (event, object) in zip(events, objects) {
            // Nothing is lost: the event is its fields, in order.
            #expect(JSONValue.object(event.fields) == object)
            #expect(event.type == object["type"]?.stringValue)
            #expect(event.kind.isKnown)
            #expect(event.hostname != nil && event.pid != nil && event.clock != nil && event.timestamp != nil)
            #expect(event.utcoffset == 0.0)
            if event.kind.isTaskEvent { #expect(event.task?.uuid == object["uuid"]?.stringValue) }
            if event.kind.isWorkerEvent { #expect(event.worker?.freq == 2.0) }
        }
    }

    @Test func takesTheTypeFromEachItemNotFromTheChannel() throws {
        let payload = try WireSamples.bytes("event_task.multi_batch_task-failed_plus_task-rejected.json")
        for channel in ["/0.celeryev/task.multi", "/0.celeryev/worker.heartbeat", "nonsense", nil] as [String?] {
            let events = try EventCodec.decode(channel: channel, payload: payload)
            #expect(events.map(\.kind) == [.taskFailed, .taskRejected])
        }
        let single = try EventCodec.decode(
            channel: "/0.celeryev/task.multi", payload: try WireSamples.bytes("event_worker-heartbeat.json"))
        #expect(single.map(\.kind) == [.workerHeartbeat])
    }

    @Test func decodesBothTaskMultiBatchesInOrder() throws {
        let a = try Self.decodeSample("event_task.multi_batch_started_plus_succeeded")
        #expect(a.map(\.kind) == [.taskStarted, .taskSucceeded])
        #expect(a.map(\.clock) == [96, 97])
        #expect(a[0].task?.uuid == "baa8b7f0-65b8-4368-91d5-f373c8769ae6")
        #expect(a[1].task?.uuid == "ddd25d5b-1ce8-4df7-bc99-03a70ea7a697")
        #expect(a[1].task?.result == "3")
        #expect(a[1].task?.runtime == 0.017705169000009846)

        let b = try Self.decodeSample("event_task.multi_batch_task-failed_plus_task-rejected")
        #expect(b.map(\.kind) == [.taskFailed, .taskRejected])
        #expect(b.map(\.pid) == [9115, 9115])
        #expect(b[0].task?.exception == "reject requeue=False: no thanks")
        #expect(b[0].task?.traceback?.hasSuffix("celery.exceptions.Reject: ('no thanks', False)\n") == true)
        #expect(b[1].task?.uuid == b[0].task?.uuid)
        #expect(b[1].task?.requeue == false)
    }

    /// Encoding with the captured delivery tag must reproduce the whole PUBLISHed envelope.
    @Test(arguments: WireSamples.events)
    func reencodesEveryCapturedMessageByteForByte(name: String) throws {
        let original = try WireSamples.bytes(name + ".json")
        let envelope = try KombuEnvelope.decode(original)
        let tag = try #require(envelope.deliveryTag)
        let hostname = try #require(envelope.headers["hostname"]?.stringValue)
        let events = try EventCodec.decode(channel: nil, payload: original)
        let isBatch = try JSONParser.parse(try WireSamples.bytes(name + ".body.json")).arrayValue != nil
        let publication =
            isBatch
            ? EventCodec.encode(events, hostname: hostname, deliveryTag: tag)
            : EventCodec.encode(try #require(events.first), hostname: hostname, deliveryTag: tag)
        #expect(WireSamples.ascii(publication.payload) == WireSamples.ascii(original))
        #expect(try KombuEnvelope.decode(publication.payload).body == WireSamples.bytes(name + ".body.json"))
        #expect(publication.channel(db: 0) == (try WireSamples.text(name + ".channel.txt")))
    }

    @Test func routesSingleEventsByTypeAndBatchesOnGroupMulti() {
        let w = EventSender(hostname: "w1@vm", utcoffset: 0, pid: 1)
        let hb = CeleryEvent.worker(
            .workerHeartbeat, w, clock: 1, timestamp: 1, active: 0, processed: 0, loadavg: [0, 0, 0], swIdent: "x",
            swVer: "1", swSys: "Linux")
        #expect(EventCodec.encode(hb, hostname: "w1@vm", deliveryTag: "t").routingKey == "worker.heartbeat")
        let sent = CeleryEvent.taskStarted(w, clock: 2, timestamp: 2, uuid: "u")
        #expect(EventCodec.encode(sent, hostname: "w1@vm", deliveryTag: "t").routingKey == "task.started")
        #expect(EventCodec.encode([sent, sent], hostname: "w1@vm", deliveryTag: "t").routingKey == "task.multi")
        #expect(EventCodec.encode([], hostname: "w1@vm", deliveryTag: "t").routingKey == "task.multi")
        #expect(EventCodec.encode([sent], hostname: "w1@vm", deliveryTag: "t").channel(db: 2) == "/2.celeryev/task.multi")
    }

    // MARK: malformed input

    private static func envelope(body: [UInt8]) -> [UInt8] {
        KombuEnvelope(body: body, headers: ["hostname": "w1@vm"], properties: ["body_encoding": "base64"]).encoded()
    }

    private static func expectError(_ code: ProtocolError.Code, _ payload: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: ProtocolError.self, sourceLocation: sourceLocation) {
            try EventCodec.decode(channel: "/0.celeryev/task.multi", payload: payload)
        }
        #expect(error?.code == code, "\(String(describing: error))", sourceLocation: sourceLocation)
    }

    @Test func rejectsPayloadsThatAreNotJSON() {
        Self.expectError(.invalidJSON, [])
        Self.expectError(.invalidJSON, Array("not json".utf8))
        Self.expectError(.invalidJSON, Array(#"{"body": "e30=", "properties": {"#.utf8))
    }

    @Test func rejectsBodiesThatAreNotBase64OrNotJSON() {
        Self.expectError(.invalidBase64, Array(#"{"body": "!!!", "properties": {"body_encoding": "base64"}}"#.utf8))
        Self.expectError(.invalidBase64, Array(#"{"body": "e30", "properties": {"body_encoding": "base64"}}"#.utf8))
        Self.expectError(.invalidJSON, Self.envelope(body: Array("{'type': 'x'}".utf8)))
    }

    @Test func rejectsEventsWithoutAStringType() {
        Self.expectError(.missingField, Self.envelope(body: Array(#"{"hostname": "w1@vm", "clock": 1}"#.utf8)))
        Self.expectError(.missingField, Self.envelope(body: Array(#"[{"type": null}]"#.utf8)))
        Self.expectError(.wrongType, Self.envelope(body: Array(#"{"type": 7}"#.utf8)))
    }

    @Test func rejectsBodiesAndBatchItemsThatAreNotObjects() {
        Self.expectError(.wrongType, Self.envelope(body: Array(#"[{"type": "task-started", "uuid": "u"}, 5]"#.utf8)))
        Self.expectError(.wrongType, Self.envelope(body: Array(#"[["type", "task-started"]]"#.utf8)))
        Self.expectError(.wrongType, Self.envelope(body: Array(#""task-started""#.utf8)))
        Self.expectError(.wrongType, Self.envelope(body: Array("42".utf8)))
        Self.expectError(.wrongType, Array("[]".utf8))
    }

    @Test func rejectsCeleryTaskEventsWithoutAUUID() {
        Self.expectError(.missingField, Self.envelope(body: Array(#"[{"type": "task-succeeded", "result": "5"}]"#.utf8)))
        Self.expectError(.wrongType, Self.envelope(body: Array(#"{"type": "task-started", "uuid": 5}"#.utf8)))
    }

    @Test func errorsNameTheBatchItem() throws {
        let error = #expect(throws: ProtocolError.self) {
            try EventCodec.decode(
                channel: "/0.celeryev/task.multi",
                payload: Self.envelope(body: Array(#"[{"type": "task-started", "uuid": "u"}, {"uuid": "v"}]"#.utf8)))
        }
        #expect(error?.details.contains("body[1]") == true)
        #expect(error?.details.contains("/0.celeryev/task.multi") == true)
    }

    @Test func toleratesMissingAndOddOptionalFields() throws {
        let events = try EventCodec.decode(
            channel: nil,
            payload: Self.envelope(
                body: Array(
                    #"[{"type": "worker-heartbeat"}, {"type": "task-started", "uuid": "u", "pid": "oops", "retries": 1.5}, {"type": "custom-thing", "x": [1, 2]}]"#
                        .utf8)))
        try #require(events.count == 3)
        #expect(events[0].hostname == nil && events[0].clock == nil && events[0].timestamp == nil)
        #expect(events[0].worker == WorkerEventFields())
        #expect(events[1].pid == nil)
        #expect(events[1].fields["pid"] == "oops")
        #expect(events[1].task?.retries == nil)
        #expect(events[2].kind == .other("custom-thing"))
        #expect(events[2].task == nil && events[2].worker == nil)
        #expect(events[2].fields["x"] == [1, 2])
    }

    @Test func neverCrashesOnTruncatedOrCorruptedMessages() throws {
        let original = try WireSamples.bytes("event_task.multi_batch_task-failed_plus_task-rejected.json")
        let intact = try EventCodec.decode(channel: nil, payload: original)
        #expect(!intact.isEmpty)
        var truncatedRejected = 0
        for n in stride(from: 0, to: original.count, by: 7) {
            if (try? EventCodec.decode(channel: nil, payload: Array(original[..<n]))) == nil { truncatedRejected += 1 }
        }
        // A prefix of the envelope is never a whole JSON document.
        #expect(truncatedRejected == (original.count + 6) / 7, "every truncated envelope is refused")
        // Corrupt the decoded body and re-wrap it, so the damage reaches the event layer.
        let body = try KombuEnvelope.decode(original).body
        let seed = TestSeed.value(default: 0xE7E4_7C0D)
        var rng = SplitMix64(seed: seed)
        var rejected = 0
        for round in 0..<300 {
            var b = body
            for _ in 0..<3 { b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            let cut = Array(b[..<Int.random(in: 0..<b.count, using: &rng)])
            for damaged in [b, cut] {
                let payload = Self.envelope(body: damaged)
                let first = Result { () throws(ProtocolError) in try EventCodec.decode(channel: nil, payload: payload) }
                let again = Result { () throws(ProtocolError) in try EventCodec.decode(channel: nil, payload: payload) }
                // Whatever happens happens the same way twice: no state leaks between decodes.
                #expect(first.events == again.events, "round \(round), \(TestSeed.replay(seed))")
                if first.events == nil { rejected += 1 }
            }
        }
        // The cut bodies (a prefix of a JSON array) are refused, so the damage did reach the decoder.
        #expect(rejected >= 300, "\(rejected) of 600 refused; \(TestSeed.replay(seed))")
    }
}

extension Result where Success == [CeleryEvent] {
    /// The decoded events, or `nil` if the decode threw.
    fileprivate var events: [CeleryEvent]? { try? get() }
}
