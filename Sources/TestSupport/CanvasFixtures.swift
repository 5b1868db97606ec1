public import Celeriac
public import Foundation
import Synchronization

/// The Celery 5.7 workflow captures in `Tests/Fixtures/celery-wire/canvas/` (made with
/// `scripts/capture/run.sh`): messages as a Python client or worker sent them and the results
/// it stored, by the names the fixtures' README lists.
public enum CanvasFixtures {
    /// The directory, found from this file's path so any clone finds it.
    public static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tests/Fixtures/celery-wire/canvas").standardizedFileURL

    /// The message `<name>.json`.
    public static func message(_ name: String) throws -> TaskMessage {
        try TaskMessage.decode(bytes: Array(Data(contentsOf: directory.appendingPathComponent(name + ".json"))))
    }

    /// The stored result `<name>.meta.json`.
    public static func meta(_ name: String) throws -> ResultMeta {
        try ResultMeta.decode(Array(Data(contentsOf: directory.appendingPathComponent(name + ".meta.json"))))
    }

    /// Any JSON file, e.g. `chord_fail.evalsha.json`.
    public static func json(_ file: String) throws -> JSONValue {
        try JSONParser.parse(Array(Data(contentsOf: directory.appendingPathComponent(file))))
    }

    /// How `sent` differs from `captured`, leaving out `origin` and `delivery_tag` (which name
    /// the sending process): headers, properties and body, each as both sides' JSON.
    public static func differences(_ sent: TaskMessage, _ captured: TaskMessage) -> [String] {
        var sent = sent
        sent.origin = captured.origin
        sent.deliveryTag = captured.deliveryTag
        var out: [String] = []
        for (part, a, b) in [("headers", JSONValue.object(sent.headers).serialized(), JSONValue.object(captured.headers).serialized()),
                             ("properties", JSONValue.object(sent.properties).serialized(), JSONValue.object(captured.properties).serialized()),
                             ("body", sent.bodyBytes, captured.bodyBytes)] where a != b {
            out.append("\(part):\n  sent     \(String(decoding: a, as: UTF8.self))\n  captured \(String(decoding: b, as: UTF8.self))")
        }
        return out
    }

    /// Hands out the ids a Python process made, in the order Celery's code made them, then
    /// fresh ones (delivery tags, which ``differences(_:_:)`` leaves out).
    public final class IDs: Sendable {
        private let queue: Mutex<[String]>
        public init(_ ids: [String]) { queue = Mutex(ids) }
        public func next() -> String { queue.withLock { $0.isEmpty ? UUID().uuidString.lowercased() : $0.removeFirst() } }
    }
}
