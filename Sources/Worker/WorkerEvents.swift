import Celeriac
import Foundation
import Logging
import Synchronization

/// The worker's side of Celery's event stream.
///
/// Worker events (`worker-online`, `worker-heartbeat` every ``heartbeatInterval``,
/// `worker-offline`) are always sent, as Celery's worker does unless told `--without-heartbeat`;
/// task events only while task events are enabled (`-E`, `worker_send_task_events`, or the
/// `enable_events` control command). Task events are buffered and published as one `task.multi`
/// JSON array per flush (at 24 events, or ``flushWindow`` after the first event buffered), as Celery batches them;
/// each event takes its Lamport clock when it is created, not when the batch goes out.
final class WorkerEvents: Sendable {
    static let heartbeatInterval: Double = 2.0
    static let batchLimit = 24
    /// How long buffered task events wait for more before they are published: events made
    /// together (received, started, succeeded of short tasks) go out as one `task.multi`,
    /// and none waits longer than this (the old flush loop's 5 ms tick).
    static let flushWindow: Duration = .milliseconds(5)
    static let softwareIdent = "celeriac"
    static let softwareVersion = "0.1.0"

    /// `nil` for a worker on a driver without Celery's event stream (``Worker/init(settings:tasks:logger:middleware:driver:)``):
    /// no events are sent, and task events cannot be switched on.
    let publisher: EventPublisher?
    let sender: EventSender
    private let taskEventsOn: Atomic<Bool>
    private let buffer = Mutex<[TaskEventRecord]>([])
    /// One element each time the buffer gets its first event: wakes ``flushContinuously()``.
    /// Holds at most one, so a burst is one wake-up.
    private let buffered: AsyncStream<Void>
    private let bufferedInput: AsyncStream<Void>.Continuation

    init(publisher: EventPublisher?, sender: EventSender, taskEvents: Bool) {
        self.publisher = publisher
        self.sender = sender
        taskEventsOn = Atomic(taskEvents && publisher != nil)
        (buffered, bufferedInput) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The sender a worker named `hostname` publishes as: this process's pid and UTC offset.
    static func sender(hostname: String) -> EventSender {
        EventSender(hostname: hostname, utcoffset: CeleryEvent.localUTCOffset(), pid: Int(ProcessInfo.processInfo.processIdentifier))
    }

    var taskEventsEnabled: Bool { taskEventsOn.load(ordering: .relaxed) }

    /// Switches task events; returns whether the setting changed (for Celery's reply wording).
    func setTaskEvents(_ on: Bool) -> Bool {
        guard publisher != nil else { return false }
        return taskEventsOn.exchange(on, ordering: .relaxed) != on
    }

    /// Queues a task event built with the next clock value and the current time, if task events are on.
    func task(_ build: (EventSender, Int, Double) -> TaskEventRecord) {
        guard taskEventsEnabled else { return }
        let event = build(sender, nextClock(), Date().timeIntervalSince1970)
        let (first, full) = buffer.withLock { b -> (Bool, [TaskEventRecord]?) in
            b.append(event)
            guard b.count >= Self.batchLimit else { return (b.count == 1, nil) }
            defer { b.removeAll(keepingCapacity: true) }
            return (false, b)
        }
        if first { bufferedInput.yield() }
        if let full { Task { await publisher?.publishTaskEvents(serializedBody: TaskEventRecord.batchBody(full), count: full.count) } }
    }

    /// Publishes whatever task events are buffered.
    func flush() async {
        let batch = buffer.withLock { b -> [TaskEventRecord] in
            defer { b.removeAll(keepingCapacity: true) }
            return b
        }
        if !batch.isEmpty { await publisher?.publishTaskEvents(serializedBody: TaskEventRecord.batchBody(batch), count: batch.count) }
    }

    /// Publishes buffered task events within ``flushWindow`` of the first one buffered, until
    /// ``stopFlushing()``; sleeps while nothing is buffered (task events off, an idle worker).
    func flushContinuously() async {
        for await _ in buffered {
            try? await Task.sleep(for: Self.flushWindow)
            await flush()
        }
    }

    /// Ends ``flushContinuously()`` once it has flushed what it was woken for; events buffered
    /// later are published by the next ``flush()``.
    func stopFlushing() {
        bufferedInput.finish()
    }

    /// Sends a `worker-*` event now.
    func worker(_ kind: CeleryEventKind, active: Int, processed: Int, freq: Double = heartbeatInterval) async {
        let event = CeleryEvent.worker(kind, sender, clock: nextClock(), timestamp: Date().timeIntervalSince1970,
                                       freq: freq, active: active, processed: processed, loadavg: Self.loadAverage(),
                                       swIdent: Self.softwareIdent, swVer: Self.softwareVersion, swSys: Self.system)
        await publisher?.publish(event)
    }

    /// The next Lamport clock value for an event or a control reply.
    func nextClock() -> Int { publisher?.nextClock() ?? 0 }

    /// `[1m, 5m, 15m]` rounded to 2 decimals, as Celery reports it.
    static func loadAverage() -> [Double] {
        var values = [Double](repeating: 0, count: 3)
        guard getloadavg(&values, 3) == 3 else { return [0, 0, 0] }
        return values.map { ($0 * 100).rounded() / 100 }
    }

    static var system: String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: &u.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
