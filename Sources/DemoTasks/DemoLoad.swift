public import Celeriac
import Foundation

/// A varied load of demo tasks sent from Swift: successes, failures, a flaky task, slow tasks,
/// priorities, a countdown, and workflows (a chain and a chord every fifth round, for qmon's
/// workflow view). The demo script runs it beside a Python client.
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
            let n = JSONValue.int(round)
            sent.append(("demo.add(\(round), 1)", try await client.delay(DemoTasks.Add.self, .init(x: n, y: 1)).untyped))
            sent.append(("demo.mul(\(round), 3)", try await client.delay(DemoTasks.Mul.self, .init(x: n, y: 3)).untyped))
            sent.append(("demo.echo({'round': \(round)})", try await client.delay(DemoTasks.Echo.self, .init(value: ["round": n, "from": "swift"])).untyped))
            if round % 3 == 0 { sent.append(("demo.fail('round \(round)')", try await client.delay(DemoTasks.Fail.self, .init(message: "round \(round)")).untyped)) }
            if round % 4 == 0 { sent.append(("demo.sleep(0.3)", try await client.delay(DemoTasks.Sleep.self, .init(seconds: 0.3)).untyped)) }
            if round % 5 == 0 {
                var options = TaskSendOptions()
                options.priority = 9
                options.countdown = 1
                sent.append(("demo.add(100, \(round)) countdown=1 priority=9", try await client.send(DemoTasks.Add.self, .init(x: 100, y: n), options: options).untyped))
            }
            if round % 5 == 2 {
                let chain = try DemoTasks.Add.s(.init(x: n, y: 1)).then(DemoTasks.Mul.partial(2))
                if case .task(let r) = try await client.apply(chain).untyped { sent.append(("chain(demo.add(\(round), 1), demo.mul(2))", r)) }
                let header = try (0..<4).map { try DemoTasks.Add.s(.init(x: .int($0), y: n)) }
                if case .task(let r) = try await client.apply(chord(header, DemoTasks.TSum.partial())).untyped {
                    sent.append(("chord([demo.add(i, \(round)) for i in 0..<4], demo.tsum())", r))
                }
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
