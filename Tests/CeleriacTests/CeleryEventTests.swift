import Celeriac
import Foundation
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct CeleryEventTests {
    private static func event(_ name: String, at index: Int = 0) throws -> CeleryEvent {
        let events = try EventCodec.decode(channel: nil, payload: try WireSamples.bytes(name + ".json"))
        return try #require(events.dropFirst(index).first)
    }

    @Test func readsTaskSentFromAClient() throws {
        let e = try Self.event("event_task-sent")
        #expect(e.kind == .taskSent)
        #expect(e.hostname == "gen6639@vm" && e.pid == 6639 && e.clock == 1)
        #expect(e.timestamp == 1795571954.2393332)
        let t = try #require(e.task)
        #expect(t.uuid == "8bd1c012-b0f8-49ee-a1a5-341a16517ca8" && t.rootID == t.uuid && t.parentID == nil)
        #expect(t.name == "wireapp.add" && t.args == "(2, 3)" && t.kwargs == "{}" && t.retries == 0)
        #expect(t.eta == nil && t.expires == nil)
        #expect(t.queue == "celery" && t.exchange == "" && t.routingKey == "celery")
        #expect(e.fields["parent_id"] == .null)
    }

    @Test func readsTaskSentForARetryFromAPoolChild() throws {
        let t = try #require(try Self.event("event_task-sent_retry_from_pool_child").task)
        #expect(t.parentID == t.uuid && t.retries == 1)
        #expect(t.eta == "2026-11-25T01:59:17.307019+00:00")
        #expect(try Self.event("event_task-sent_retry_from_pool_child").hostname == "gen4845@vm")
    }

    @Test func readsTaskReceivedWithAndWithoutETA() throws {
        let e = try Self.event("event_task-received")
        #expect(e.kind == .taskReceived && e.hostname == "w1@vm" && e.pid == 4781 && e.clock == 56)
        #expect(e.task?.name == "wireapp.add" && e.task?.args == "(2, 3)" && e.task?.eta == nil)
        #expect(e.task?.queue == nil)
        let eta = try #require(try Self.event("event_task-received_eta_expires").task)
        #expect(eta.eta == "2026-11-25T01:59:22.347288+00:00")
        #expect(eta.expires == "2026-11-25T02:00:19.347288+00:00")
        #expect(CeleryDate.parse(try #require(eta.eta)) != nil)
    }

    @Test func readsStartedAndSucceeded() throws {
        let started = try Self.event("event_task-started")
        #expect(started.kind == .taskStarted && started.task == TaskEventFields(uuid: "8bd1c012-b0f8-49ee-a1a5-341a16517ca8"))
        let ok = try #require(try Self.event("event_task-succeeded").task)
        #expect(ok.result == "5" && ok.runtime == 0.0059455770000340635)
        let dict = try #require(try Self.event("event_task-succeeded_dict_result").task)
        #expect(dict.result == "{'f': 0.15000000000000002, 'list': [1, 2.0, '\u{e9}'], 'none': None}")
    }

    @Test func readsFailuresAndRetries() throws {
        let failed = try #require(try Self.event("event_task-failed").task)
        #expect(failed.exception == "ValueError('boom: bad value')")
        #expect(failed.traceback?.hasPrefix("Traceback (most recent call last):\n") == true)
        let unregistered = try Self.event("event_task-failed_notregistered")
        #expect(unregistered.task?.exception == "NotRegistered('wireapp.noresult')")
        #expect(unregistered.task?.traceback == nil && unregistered.fields["traceback"] == nil)
        let retried = try Self.event("event_task-retried")
        #expect(retried.kind == .taskRetried && retried.task?.exception == "KeyError('again')")
        #expect(retried.task?.traceback?.contains("Retry in 1s: KeyError('again')") == true)
    }

    @Test func readsTheThreeRevokedVariants() throws {
        let beforeRun = try #require(try Self.event("event_task-revoked_before_run").task)
        #expect(beforeRun.terminated == false && beforeRun.signum == nil && beforeRun.expired == false)
        let expired = try #require(try Self.event("event_task-revoked_expired").task)
        #expect(expired.terminated == false && expired.expired == true)
        let terminated = try #require(try Self.event("event_task-revoked_terminated").task)
        #expect(terminated.terminated == true && terminated.signum == 15 && terminated.expired == false)
    }

    @Test func readsWorkerLifecycleEvents() throws {
        let online = try Self.event("event_worker-online")
        #expect(online.kind == .workerOnline && online.clock == 1 && online.task == nil)
        #expect(
            online.worker
                == WorkerEventFields(
                    freq: 2.0, active: 0, processed: 0, loadavg: [0.34, 0.17, 0.07], swIdent: "py-celery", swVer: "5.7.0",
                    swSys: "Linux"))
        #expect(try Self.event("event_worker-heartbeat").clock == 2)
        let offline = try Self.event("event_worker-offline")
        #expect(offline.kind == .workerOffline && offline.clock == 211)
        #expect(offline.worker?.processed == 14 && offline.worker?.loadavg == [1.4, 0.56, 0.23])
    }

    /// Rebuilds a decoded event through the typed builders, from its typed view only.
    private static func rebuild(_ e: CeleryEvent) throws -> CeleryEvent {
        let s = EventSender(hostname: try #require(e.hostname), utcoffset: try #require(e.utcoffset), pid: try #require(e.pid))
        let ts = try #require(e.timestamp)
        if let w = e.worker {
            return CeleryEvent.worker(
                e.kind, s, clock: e.clock, timestamp: ts, freq: try #require(w.freq), active: try #require(w.active),
                processed: try #require(w.processed), loadavg: try #require(w.loadavg), swIdent: try #require(w.swIdent),
                swVer: try #require(w.swVer), swSys: try #require(w.swSys))
        }
        let t = try #require(e.task)
        switch e.kind {
        case .taskSent:
            return .taskSent(
                s, clock: e.clock, timestamp: ts, uuid: t.uuid, rootID: t.rootID, parentID: t.parentID,
                name: try #require(t.name), args: try #require(t.args), kwargs: try #require(t.kwargs),
                retries: try #require(t.retries), eta: t.eta, expires: t.expires, queue: try #require(t.queue),
                exchange: try #require(t.exchange), routingKey: try #require(t.routingKey))
        case .taskReceived:
            return .taskReceived(
                s, clock: e.clock, timestamp: ts, uuid: t.uuid, name: try #require(t.name), args: try #require(t.args),
                kwargs: try #require(t.kwargs), rootID: t.rootID, parentID: t.parentID, retries: try #require(t.retries),
                eta: t.eta, expires: t.expires)
        case .taskStarted:
            return .taskStarted(s, clock: e.clock, timestamp: ts, uuid: t.uuid)
        case .taskSucceeded:
            return .taskSucceeded(
                s, clock: e.clock, timestamp: ts, uuid: t.uuid, result: try #require(t.result), runtime: try #require(t.runtime))
        case .taskFailed:
            return .taskFailed(
                s, clock: e.clock, timestamp: ts, uuid: t.uuid, exception: try #require(t.exception), traceback: t.traceback)
        case .taskRetried:
            return .taskRetried(
                s, clock: e.clock, timestamp: ts, uuid: t.uuid, exception: try #require(t.exception),
                traceback: try #require(t.traceback))
        case .taskRevoked:
            return .taskRevoked(
                s, clock: e.clock, timestamp: ts, uuid: t.uuid, terminated: try #require(t.terminated as Bool?), signum: t.signum,
                expired: try #require(t.expired as Bool?))
        case .taskRejected:
            return .taskRejected(s, clock: e.clock, timestamp: ts, uuid: t.uuid, requeue: try #require(t.requeue as Bool?))
        default:
            Issue.record("no builder for \(e.kind)")
            return e
        }
    }

    /// The builders must emit Celery's exact field order and value types: rebuilding each
    /// captured event from typed values reproduces the captured body bytes.
    @Test(arguments: WireSamples.events)
    func buildersReproduceCapturedBodiesByteForByte(name: String) throws {
        let original = try WireSamples.bytes(name + ".json")
        let envelope = try KombuEnvelope.decode(original)
        let events = try EventCodec.decode(channel: nil, payload: original)
        let rebuilt = try events.map(Self.rebuild)
        #expect(rebuilt == events)
        let hostname = try #require(envelope.headers["hostname"]?.stringValue)
        let tag = try #require(envelope.deliveryTag)
        let isBatch = try JSONParser.parse(try WireSamples.bytes(name + ".body.json")).arrayValue != nil
        let payload =
            isBatch
            ? EventCodec.encode(rebuilt, hostname: hostname, deliveryTag: tag).payload
            : EventCodec.encode(try #require(rebuilt.first), hostname: hostname, deliveryTag: tag).payload
        #expect(try KombuEnvelope.decode(payload).body == WireSamples.bytes(name + ".body.json"))
        #expect(WireSamples.ascii(payload) == WireSamples.ascii(original))
    }

    @Test func everyTaskFieldIsReadAndTheFirstOfTwoEqualKeysWins() throws {
        let fields = JSONObject([
            JSONMember("hostname", "w@h"), JSONMember("utcoffset", -2.0), JSONMember("pid", 7), JSONMember("clock", 9),
            JSONMember("uuid", "u1"), JSONMember("uuid", "u2"), JSONMember("name", .null), JSONMember("name", "late"),
            JSONMember("args", "(1,)"), JSONMember("kwargs", "{}"), JSONMember("root_id", "r"), JSONMember("parent_id", "p"),
            JSONMember("retries", 2), JSONMember("eta", "e"), JSONMember("expires", "x"), JSONMember("queue", "q"),
            JSONMember("exchange", "ex"), JSONMember("routing_key", "rk"), JSONMember("result", "5"),
            JSONMember("runtime", 0.5), JSONMember("exception", "E()"), JSONMember("traceback", "tb"),
            JSONMember("terminated", true), JSONMember("signum", 15), JSONMember("expired", false),
            JSONMember("requeue", true), JSONMember("clock", 99), JSONMember("timestamp", 1.5), JSONMember("type", "task-revoked"),
        ])
        let e = try CeleryEvent(fields: fields)
        #expect(e.hostname == "w@h" && e.utcoffset == -2 && e.pid == 7 && e.clock == 9 && e.timestamp == 1.5)
        let t = try #require(e.task)
        #expect(t == TaskEventFields(
            uuid: "u1", name: nil, args: "(1,)", kwargs: "{}", rootID: "r", parentID: "p", retries: 2, eta: "e",
            expires: "x", queue: "q", exchange: "ex", routingKey: "rk", result: "5", runtime: 0.5, exception: "E()",
            traceback: "tb", terminated: true, signum: 15, expired: false, requeue: true))
        // Wrong types read as nil, as Celery's receivers never validate fields.
        let loose = try CeleryEvent(fields: ["uuid": "u", "retries": "2", "runtime": "x", "expired": 1, "type": "task-x"])
        #expect(loose.task == TaskEventFields(uuid: "u"))
        #expect(loose.kind.isTaskEvent && !loose.kind.isWorkerEvent)
        #expect(CeleryEventKind(type: "worker-custom").isWorkerEvent)
        #expect(CeleryEventKind(type: "task").isTaskEvent)
        #expect(!CeleryEventKind(type: "taskish-x").isTaskEvent, "the group is what comes before the dash")
    }

    @Test func genericInitPutsDispatcherFieldsAroundTheBody() {
        let e = CeleryEvent(
            type: "task-progress", sender: EventSender(hostname: "w@h", utcoffset: -2.0, pid: 7), clock: nil,
            timestamp: 1.5, body: ["uuid": "u", "timestamp": 99.0, "pid": 1, "done": 3])
        #expect(e.fields.keys == ["hostname", "utcoffset", "pid", "clock", "uuid", "done", "timestamp", "type"])
        #expect(e.fields["clock"] == .null && e.clock == nil && e.pid == 7 && e.timestamp == 1.5)
        #expect(e.kind == .other("task-progress") && e.kind.group == "task" && e.task?.uuid == "u")
        #expect(String(decoding: JSONValue.object(e.fields).serialized(), as: UTF8.self).contains(#""utcoffset": -2.0"#))
    }

    @Test(arguments: [
        ("task-sent", CeleryEventKind.taskSent, "task.sent"), ("task-received", .taskReceived, "task.received"),
        ("task-started", .taskStarted, "task.started"), ("task-succeeded", .taskSucceeded, "task.succeeded"),
        ("task-failed", .taskFailed, "task.failed"), ("task-retried", .taskRetried, "task.retried"),
        ("task-revoked", .taskRevoked, "task.revoked"), ("task-rejected", .taskRejected, "task.rejected"),
        ("worker-online", .workerOnline, "worker.online"), ("worker-heartbeat", .workerHeartbeat, "worker.heartbeat"),
        ("worker-offline", .workerOffline, "worker.offline"), ("foo-bar-baz", .other("foo-bar-baz"), "foo.bar.baz"),
        ("plain", .other("plain"), "plain"),
    ])
    func mapsTypeStringsToKindsAndRoutingKeys(type: String, kind: CeleryEventKind, routingKey: String) {
        #expect(CeleryEventKind(type: type) == kind)
        #expect(kind.type == type)
        #expect(kind.routingKey == routingKey)
    }

    // MARK: utcoffset

    /// Celery's sign: hours *west* of UTC.
    @Test(arguments: [(7200, -2.0), (3600, -1.0), (0, 0.0), (-18000, 5.0), (-25200, 7.0), (19800, -5.5), (20700, -5.75)])
    func utcOffsetIsHoursWestOfUTC(secondsEast: Int, celery: Double) {
        let v = CeleryEvent.utcOffset(secondsEastOfUTC: secondsEast)
        #expect(v == celery)
        #expect(v.sign == celery.sign, "UTC must be 0.0, not -0.0")
    }

    @Test(arguments: [
        ("UTC", "2026-07-01T12:00:00Z", 0.0), ("Europe/Berlin", "2026-07-01T12:00:00Z", -2.0),
        ("Europe/Berlin", "2026-01-15T12:00:00Z", -1.0), ("America/New_York", "2026-01-15T12:00:00Z", 5.0),
        ("America/New_York", "2026-07-01T12:00:00Z", 4.0), ("Asia/Kolkata", "2026-07-01T12:00:00Z", -5.5),
    ])
    func localUTCOffsetFollowsTheZoneAndDST(zone: String, instant: String, expected: Double) throws {
        let tz = try #require(TimeZone(identifier: zone))
        let date = try #require(CeleryDate.parse(instant.replacingOccurrences(of: "Z", with: "+00:00")))
        #expect(CeleryEvent.localUTCOffset(timeZone: tz, at: date) == expected)
    }

    /// `timestamp - (utcoffset - local) * 3600`, as `celery.utils.time.adjust_timestamp`.
    @Test(arguments: [
        (1000.0, 0.0, 0.0, 1000.0), (1000.0, -2.0, -2.0, 1000.0), (1000.0, -2.0, 0.0, 8200.0),
        (1000.0, 0.0, -2.0, -6200.0), (1000.0, 5.0, 0.0, -17000.0), (1000.0, -5.5, 1.0, 24400.0),
    ])
    func adjustsTimestampsByTheOffsetDifference(ts: Double, sender: Double, local: Double, expected: Double) {
        #expect(CeleryEvent.adjustTimestamp(ts, utcoffset: sender, localOffset: local) == expected)
    }

    @Test func adjustedTimestampUsesTheEventsOwnOffset() throws {
        let e = try Self.event("event_task-started")
        #expect(e.adjustedTimestamp(localOffset: 0.0) == 1795571954.2470036)
        #expect(e.adjustedTimestamp(localOffset: -2.0) == 1795571954.2470036 - 7200)
        let noOffset = try CeleryEvent(fields: ["type": "worker-heartbeat", "timestamp": 5.0])
        #expect(noOffset.adjustedTimestamp(localOffset: -2.0) == 5.0)
        let noTimestamp = try CeleryEvent(fields: ["type": "worker-heartbeat", "utcoffset": 0.0])
        #expect(noTimestamp.adjustedTimestamp(localOffset: 0.0) == nil)
    }

    @Test func acceptsIntegerUTCOffsetsFromOlderSenders() throws {
        let e = try CeleryEvent(fields: ["type": "worker-heartbeat", "utcoffset": -2, "timestamp": 10])
        #expect(e.utcoffset == -2.0 && e.timestamp == 10.0)
    }
}
