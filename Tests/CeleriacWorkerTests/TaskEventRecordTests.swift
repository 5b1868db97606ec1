import Celeriac
@testable import CeleriacWorker
import CeleriacTestTags
import Testing

/// The worker's direct event writer produces exactly the bytes of Core's event builders, which
/// the event samples captured from Celery pin down.
@Suite(.tags(.integration)) struct TaskEventRecordTests {
    let sender = EventSender(hostname: "w1@host \"q\" é", utcoffset: -1, pid: 4242)

    private func expectSame(_ record: TaskEventRecord, _ event: CeleryEvent, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(String(decoding: record.json, as: UTF8.self) == String(decoding: JSONValue.object(event.fields).serialized(), as: UTF8.self),
                sourceLocation: sourceLocation)
    }

    @Test func everyTaskEventMatchesCoresBuilder() throws {
        let t = 1_764_000_000.123456
        expectSame(.taskReceived(sender, clock: 7, timestamp: t, uuid: "id-1", name: "demo.add", args: "(1, 2)", kwargs: "{'a': '日本'}",
                                 rootID: "root", parentID: nil, retries: 2, eta: "2026-11-25T06:00:00.000001+00:00", expires: nil),
                   .taskReceived(sender, clock: 7, timestamp: t, uuid: "id-1", name: "demo.add", args: "(1, 2)", kwargs: "{'a': '日本'}",
                                 rootID: "root", parentID: nil, retries: 2, eta: "2026-11-25T06:00:00.000001+00:00", expires: nil))
        expectSame(.taskStarted(sender, clock: 8, timestamp: t, uuid: "id-1"), .taskStarted(sender, clock: 8, timestamp: t, uuid: "id-1"))
        expectSame(.taskSucceeded(sender, clock: 9, timestamp: t, uuid: "id-1", result: "'x\\n'", runtime: 0.000123),
                   .taskSucceeded(sender, clock: 9, timestamp: t, uuid: "id-1", result: "'x\\n'", runtime: 0.000123))
        expectSame(.taskFailed(sender, clock: 10, timestamp: t, uuid: "id-1", exception: "ValueError('boom')", traceback: "Traceback\n  line\n"),
                   .taskFailed(sender, clock: 10, timestamp: t, uuid: "id-1", exception: "ValueError('boom')", traceback: "Traceback\n  line\n"))
        expectSame(.taskFailed(sender, clock: 10, timestamp: t, uuid: "id-1", exception: "NotRegistered('x')", traceback: nil),
                   .taskFailed(sender, clock: 10, timestamp: t, uuid: "id-1", exception: "NotRegistered('x')", traceback: nil))
        expectSame(.taskRetried(sender, clock: 11, timestamp: t, uuid: "id-1", exception: "Retry()", traceback: "tb"),
                   .taskRetried(sender, clock: 11, timestamp: t, uuid: "id-1", exception: "Retry()", traceback: "tb"))
        expectSame(.taskRevoked(sender, clock: 12, timestamp: t, uuid: "id-1", terminated: true, signum: 15, expired: false),
                   .taskRevoked(sender, clock: 12, timestamp: t, uuid: "id-1", terminated: true, signum: 15, expired: false))
        expectSame(.taskRevoked(sender, clock: 12, timestamp: t, uuid: "id-1", terminated: false, signum: nil, expired: true),
                   .taskRevoked(sender, clock: 12, timestamp: t, uuid: "id-1", terminated: false, signum: nil, expired: true))
    }

    @Test func aBatchDecodesAsTheEventsItHolds() throws {
        let events: [TaskEventRecord] = [
            .taskStarted(sender, clock: 1, timestamp: 1.5, uuid: "a"),
            .taskSucceeded(sender, clock: 2, timestamp: 2.5, uuid: "a", result: "None", runtime: 0.25),
        ]
        let publication = EventCodec.encodeTaskBatch(serializedBody: TaskEventRecord.batchBody(events), hostname: sender.hostname, deliveryTag: "t")
        #expect(publication.routingKey == "task.multi")
        let decoded = try EventCodec.decode(channel: nil, payload: publication.payload)
        #expect(decoded.map(\.type) == ["task-started", "task-succeeded"])
        #expect(decoded.map(\.clock) == [1, 2])
        #expect(decoded[1].task?.runtime == 0.25)
    }
}
