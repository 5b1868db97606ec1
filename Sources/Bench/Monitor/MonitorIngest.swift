import Celeriac
public import CeleriacMonitor
import Foundation

/// Events per second qmon's model takes in: each message decoded (``Celeriac/EventCodec``, the
/// envelope, base64 and JSON) and applied to a fresh ``CeleriacMonitor/ClusterState`` with the
/// default limits, stamped with the wall-clock time as the live feed does.
public enum MonitorIngest {
    /// Events per second over `messages`, and the model afterwards (to check it took them).
    public static func measure(_ messages: [[UInt8]]) throws -> (rate: Double, state: ClusterState) {
        var state = ClusterState()
        var events = 0
        let start = ContinuousClock.now
        for payload in messages {
            let decoded = try EventCodec.decode(channel: nil, payload: payload)
            events += decoded.count
            state.apply(contentsOf: decoded, receivedAt: Date().timeIntervalSince1970)
        }
        let seconds = (ContinuousClock.now - start).inSeconds
        return (Double(events) / seconds, state)
    }

    /// Applies a generated stream of `tasks` tasks (batched as a worker sends them) to `state`,
    /// decoding every message, without keeping the messages.
    ///
    /// - Parameter afterMessage: Called after each message is applied, with the model as it is
    ///   then (e.g. to sample memory as the stream goes on).
    public static func feed(
        _ state: inout ClusterState, tasks: Int, afterMessage: (borrowing ClusterState) -> Void = { _ in }
    ) throws {
        try EventStream.generate(tasks: tasks, batching: .multi) { payload, _ in
            state.apply(contentsOf: try EventCodec.decode(channel: nil, payload: payload), receivedAt: Date().timeIntervalSince1970)
            afterMessage(state)
        }
    }
}
