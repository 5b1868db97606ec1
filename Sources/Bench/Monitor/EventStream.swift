import Celeriac
import Foundation

/// A generated stream of Celery event messages, as workers publish them on Redis pub/sub: for
/// each task `task-received`, `task-started`, `task-succeeded`, from four workers running eight
/// task names, with a `worker-heartbeat` from each worker every 100 blocks of 8 tasks.
///
/// ``Batching/single`` publishes every event as its own message; ``Batching/multi`` sends each
/// block's 24 task events as one `task.multi` array, as a Celery worker flushes its buffer.
public enum EventStream {
    /// How events are grouped into messages.
    public enum Batching: String, Sendable, CaseIterable {
        case single
        case multi
    }

    static let tasksPerBlock = 8
    static let workers = (0..<4).map { EventSender(hostname: "bench\($0)@qbench", utcoffset: 0, pid: 1000 + $0) }

    /// Calls `body` with each message (a kombu envelope, the PUBLISHed bytes) for `tasks` tasks.
    ///
    /// - Parameters:
    ///   - tasks: Tasks in the stream (each gives 3 events).
    ///   - batching: One event per message, or `task.multi` batches.
    ///   - start: Sender timestamp of the first event; each event is 0.1 ms after the previous.
    ///   - body: Receives every message in order, with the number of events in it.
    public static func generate(
        tasks: Int, batching: Batching, start: Double = 1_700_000_000, _ body: ([UInt8], Int) throws -> Void
    ) rethrows {
        var clocks = Array(repeating: 0, count: workers.count)
        var time = start
        var block = 0
        var taskIndex = 0
        func tick(_ w: Int) -> (Int, Double) {
            clocks[w] += 1
            time += 0.0001
            return (clocks[w], time)
        }
        while taskIndex < tasks {
            let w = block % workers.count
            let sender = workers[w]
            if block % 100 == 0 {
                for (i, worker) in workers.enumerated() {
                    let (c, t) = tick(i)
                    let hb = CeleryEvent.worker(
                        .workerHeartbeat, worker, clock: c, timestamp: t, active: 2, processed: taskIndex,
                        loadavg: [0.5, 0.4, 0.3], swIdent: "py-celery", swVer: "5.7.0", swSys: "Linux")
                    try body(EventCodec.encode(hb, hostname: worker.hostname, deliveryTag: tag(block, i)).payload, 1)
                }
            }
            let indices = taskIndex..<min(taskIndex + tasksPerBlock, tasks)
            let ids = indices.map(taskID)
            var events: [CeleryEvent] = []
            events.reserveCapacity(ids.count * 3)
            for (i, id) in zip(indices, ids) {
                let (c, t) = tick(w)
                let name = "bench.task\(i % 8)"
                events.append(.taskReceived(
                    sender, clock: c, timestamp: t, uuid: id, name: name, args: "(1, 2)", kwargs: "{}",
                    rootID: id, parentID: nil, retries: 0, eta: nil, expires: nil))
            }
            for id in ids {
                let (c, t) = tick(w)
                events.append(.taskStarted(sender, clock: c, timestamp: t, uuid: id))
            }
            for id in ids {
                let (c, t) = tick(w)
                events.append(.taskSucceeded(sender, clock: c, timestamp: t, uuid: id, result: "3", runtime: 0.0004))
            }
            switch batching {
            case .single:
                for (i, e) in events.enumerated() {
                    try body(EventCodec.encode(e, hostname: sender.hostname, deliveryTag: tag(block, 10 + i)).payload, 1)
                }
            case .multi:
                try body(EventCodec.encode(events, hostname: sender.hostname, deliveryTag: tag(block, 9)).payload, events.count)
            }
            taskIndex += ids.count
            block += 1
        }
    }

    /// A uuid-shaped id, unique per index (deterministic, so runs compare).
    static func taskID(_ i: Int) -> String {
        let hex = String(i, radix: 16)
        let padded = String(repeating: "0", count: max(0, 12 - hex.count)) + hex
        return "0b5e1f2a-7c3d-4e6f-9a1b-" + padded
    }

    static func tag(_ block: Int, _ i: Int) -> String { "d\(block)-\(i)" }

    /// Writes the stream to `path`, one message per line (a kombu envelope is JSON without raw
    /// newlines); returns the number of events.
    @discardableResult
    public static func write(tasks: Int, batching: Batching, to path: String) throws -> Int {
        var bytes: [UInt8] = []
        var events = 0
        generate(tasks: tasks, batching: batching) { message, n in
            bytes += message
            bytes.append(0x0A)
            events += n
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw BenchError("cannot write \(path)")
        }
        return events
    }

    /// Reads a stream file back: one message per non-empty line.
    public static func read(from path: String) throws -> [[UInt8]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw BenchError("cannot read \(path)") }
        return [UInt8](data).split(separator: 0x0A).map(Array.init)
    }
}
