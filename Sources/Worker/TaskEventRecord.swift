import Celeriac

/// One task event as the worker publishes it, already serialized.
///
/// The worker sends three events per task with `-E`; building each as a ``CeleryEvent`` (an
/// ordered dictionary, then the typed fields read back out of it) cost more than running a
/// no-op task. These builders write the same bytes straight from their arguments: the fields
/// Celery's dispatcher adds (hostname, utcoffset, pid, clock), the type's own fields, then
/// timestamp and type, exactly as ``CeleryEvent``'s builders of the same name order them (a
/// test compares both for every type).
struct TaskEventRecord: Sendable {
    /// The event as a JSON object, Python's separators.
    let json: [UInt8]

    private init(type: String, sender: EventSender, clock: Int, timestamp: Double, body: (inout [UInt8]) -> Void) {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"hostname": "#.utf8)
        JSONWriter.write(.string(sender.hostname), into: &out)
        Self.key("utcoffset", &out)
        JSONWriter.write(.double(sender.utcoffset), into: &out)
        Self.key("pid", &out)
        out.append(contentsOf: String(sender.pid).utf8)
        Self.key("clock", &out)
        out.append(contentsOf: String(clock).utf8)
        body(&out)
        Self.key("timestamp", &out)
        JSONWriter.write(.double(timestamp), into: &out)
        Self.key("type", &out)
        JSONWriter.write(.string(type), into: &out)
        out.append(UInt8(ascii: "}"))
        json = out
    }

    /// `, "<name>": ` — names here are plain ASCII, no escaping needed.
    private static func key(_ name: StaticString, _ out: inout [UInt8]) {
        out.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: " "), UInt8(ascii: "\"")])
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":"), UInt8(ascii: " ")])
    }

    private static func string(_ name: StaticString, _ value: String?, _ out: inout [UInt8]) {
        key(name, &out)
        JSONWriter.write(value.map(JSONValue.string) ?? .null, into: &out)
    }

    static func taskReceived(
        _ sender: EventSender, clock: Int, timestamp: Double, uuid: String, name: String, args: String, kwargs: String,
        rootID: String?, parentID: String?, retries: Int, eta: String?, expires: String?
    ) -> TaskEventRecord {
        TaskEventRecord(type: "task-received", sender: sender, clock: clock, timestamp: timestamp) { out in
            string("uuid", uuid, &out)
            string("name", name, &out)
            string("args", args, &out)
            string("kwargs", kwargs, &out)
            string("root_id", rootID, &out)
            string("parent_id", parentID, &out)
            key("retries", &out)
            out.append(contentsOf: String(retries).utf8)
            string("eta", eta, &out)
            string("expires", expires, &out)
        }
    }

    static func taskStarted(_ sender: EventSender, clock: Int, timestamp: Double, uuid: String) -> TaskEventRecord {
        TaskEventRecord(type: "task-started", sender: sender, clock: clock, timestamp: timestamp) { out in
            string("uuid", uuid, &out)
        }
    }

    static func taskSucceeded(_ sender: EventSender, clock: Int, timestamp: Double, uuid: String, result: String, runtime: Double) -> TaskEventRecord {
        TaskEventRecord(type: "task-succeeded", sender: sender, clock: clock, timestamp: timestamp) { out in
            string("uuid", uuid, &out)
            string("result", result, &out)
            key("runtime", &out)
            JSONWriter.write(.double(runtime), into: &out)
        }
    }

    static func taskFailed(_ sender: EventSender, clock: Int, timestamp: Double, uuid: String, exception: String, traceback: String?) -> TaskEventRecord {
        TaskEventRecord(type: "task-failed", sender: sender, clock: clock, timestamp: timestamp) { out in
            string("uuid", uuid, &out)
            string("exception", exception, &out)
            if let traceback { string("traceback", traceback, &out) }
        }
    }

    static func taskRetried(_ sender: EventSender, clock: Int, timestamp: Double, uuid: String, exception: String, traceback: String) -> TaskEventRecord {
        TaskEventRecord(type: "task-retried", sender: sender, clock: clock, timestamp: timestamp) { out in
            string("uuid", uuid, &out)
            string("exception", exception, &out)
            string("traceback", traceback, &out)
        }
    }

    static func taskRevoked(
        _ sender: EventSender, clock: Int, timestamp: Double, uuid: String, terminated: Bool, signum: Int?, expired: Bool
    ) -> TaskEventRecord {
        TaskEventRecord(type: "task-revoked", sender: sender, clock: clock, timestamp: timestamp) { out in
            string("uuid", uuid, &out)
            key("terminated", &out)
            JSONWriter.write(.bool(terminated), into: &out)
            key("signum", &out)
            JSONWriter.write(signum.map(JSONValue.int) ?? .null, into: &out)
            key("expired", &out)
            JSONWriter.write(.bool(expired), into: &out)
        }
    }

    /// A `task.multi` body: the events as one JSON array, as a Celery worker flushes its buffer.
    static func batchBody(_ events: [TaskEventRecord]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(events.reduce(2) { $0 + $1.json.count + 2 })
        for (i, event) in events.enumerated() {
            if i > 0 { out.append(contentsOf: [UInt8(ascii: ","), UInt8(ascii: " ")]) }
            out.append(contentsOf: event.json)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}
