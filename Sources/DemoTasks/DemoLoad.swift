public import Celeriac
import Foundation

/// A varied load of demo tasks sent from Swift: successes, failures, a flaky task, slow tasks,
/// priorities and a countdown. The demo script runs it beside a Python client.
public enum DemoLoad {
    /// One line of what happened to a task.
    public struct Outcome: Sendable {
        public let call: String
        public let state: TaskState
        public let detail: String
    }

    /// Sends `rounds` rounds of the mix and waits for every result.
    public static func run(client: CeleriacClient, rounds: Int, timeout: Duration = .seconds(60)) async throws -> [Outcome] {
        var sent: [(String, AsyncResult)] = []
        for round in 0..<rounds {
            sent.append(("demo.add(\(round), 1)", try await client.delay("demo.add", round, 1)))
            sent.append(("demo.mul(\(round), 3)", try await client.delay("demo.mul", round, 3)))
            sent.append(("demo.echo({'round': \(round)})", try await client.send("demo.echo", args: [["round": .int(round), "from": "swift"]])))
            if round % 3 == 0 { sent.append(("demo.fail('round \(round)')", try await client.delay("demo.fail", "round \(round)"))) }
            if round % 4 == 0 { sent.append(("demo.sleep(0.3)", try await client.delay("demo.sleep", 0.3))) }
            if round % 5 == 0 {
                var options = TaskSendOptions()
                options.priority = 9
                options.countdown = 1
                sent.append(("demo.add(100, \(round)) countdown=1 priority=9", try await client.send("demo.add", args: [100, .int(round)], options: options)))
            }
        }
        var outcomes: [Outcome] = []
        for (call, result) in sent {
            let meta = try await result.wait(timeout: timeout)
            let detail = meta.status == .success ? PythonRepr.repr(meta.result) : (meta.exception?.summary ?? "")
            outcomes.append(Outcome(call: call, state: meta.status, detail: detail))
        }
        return outcomes
    }
}
