import Celeriac
import Foundation
import Testing

/// Builds scripted Celery events for replay tests, with Celery's field order (via the
/// `CeleryEvent` builders), and reads the captured samples from Tests/Fixtures/celery-wire.
enum EventScript {
    static let worker = EventSender(hostname: "w1@host", utcoffset: 0, pid: 100)
    static let client = EventSender(hostname: "gen200@host", utcoffset: 0, pid: 200)

    static func sent(_ id: String, _ name: String = "app.add", at t: Double, retries: Int = 0, from sender: EventSender = client) -> CeleryEvent {
        .taskSent(
            sender, clock: 1, timestamp: t, uuid: id, rootID: id, parentID: nil, name: name, args: "(2, 3)",
            kwargs: "{}", retries: retries, eta: nil, expires: nil, queue: "celery", exchange: "", routingKey: "celery")
    }

    static func received(_ id: String, _ name: String = "app.add", at t: Double, retries: Int = 0, from sender: EventSender = worker) -> CeleryEvent {
        .taskReceived(
            sender, clock: 10, timestamp: t, uuid: id, name: name, args: "(2, 3)", kwargs: "{}", rootID: id,
            parentID: nil, retries: retries, eta: nil, expires: nil)
    }

    static func started(_ id: String, at t: Double, from sender: EventSender = worker) -> CeleryEvent {
        .taskStarted(sender, clock: 11, timestamp: t, uuid: id)
    }

    static func succeeded(_ id: String, at t: Double, runtime: Double = 0.5, from sender: EventSender = worker) -> CeleryEvent {
        .taskSucceeded(sender, clock: 12, timestamp: t, uuid: id, result: "5", runtime: runtime)
    }

    static func failed(_ id: String, at t: Double, exception: String = "ValueError('boom')", traceback: String? = "Traceback…\nValueError: boom", from sender: EventSender = worker) -> CeleryEvent {
        .taskFailed(sender, clock: 13, timestamp: t, uuid: id, exception: exception, traceback: traceback)
    }

    static func retried(_ id: String, at t: Double, from sender: EventSender = worker) -> CeleryEvent {
        .taskRetried(sender, clock: 14, timestamp: t, uuid: id, exception: "KeyError('again')", traceback: "Traceback…\nRetry in 1s")
    }

    static func revoked(_ id: String, at t: Double, terminated: Bool = false, signum: Int? = nil, expired: Bool = false) -> CeleryEvent {
        .taskRevoked(worker, clock: 15, timestamp: t, uuid: id, terminated: terminated, signum: signum, expired: expired)
    }

    static func heartbeat(_ kind: CeleryEventKind = .workerHeartbeat, at t: Double, active: Int = 0, processed: Int = 0, freq: Double = 2.0, from sender: EventSender = worker) -> CeleryEvent {
        .worker(
            kind, sender, clock: 1, timestamp: t, freq: freq, active: active, processed: processed,
            loadavg: [0.5, 0.25, 0.1], swIdent: "py-celery", swVer: "5.7.0", swSys: "Linux")
    }

    // MARK: Captured samples

    static let samplesDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/celery-wire/samples").standardizedFileURL

    /// Decodes `event_<name>.json` (a kombu envelope) through `EventCodec`.
    static func sample(_ name: String) throws -> [CeleryEvent] {
        let url = samplesDirectory.appendingPathComponent("event_\(name).json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("sample missing at \(url.path)")
            throw CocoaError(.fileNoSuchFile)
        }
        return try EventCodec.decode(channel: nil, payload: [UInt8](data))
    }
}
