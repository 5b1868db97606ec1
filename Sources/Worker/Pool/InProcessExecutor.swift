import Celeriac
import Foundation

/// `--pool async` (the default): bodies run as Swift tasks in the worker process, as many at
/// once as `--concurrency` allows. Light and fast, suited to tasks that `await` I/O; a body that
/// ignores cancellation cannot be stopped and a crash takes the worker down (use
/// ``ProcessPool`` for those).
struct InProcessExecutor: TaskExecutor {
    func run(context: TaskContext, task: RegisteredTask, args: [JSONValue], kwargs: JSONObject, limits: TimeLimit,
             started: @Sendable (Int, @escaping @Sendable (Int) -> Void) async -> Bool) async -> TaskRun.Ending? {
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        if limits.soft == nil && limits.hard == nil {
            // No limit to race against (most tasks): the body runs in this task, and a terminate
            // cancels this task while the body runs (``BodyCanceller``).
            let canceller = BodyCanceller()
            guard await started(pid, { _ in canceller.cancel() }) else { return nil }
            return await canceller.run {
                do {
                    return .finished(.success(try await TaskContext.$current.withValue(context) {
                        try await task.body(TaskArguments(args: args, kwargs: kwargs))
                    }))
                } catch {
                    return .finished(.failure(error))
                }
            }
        }
        // With limits the body runs in its own task, so it can be abandoned at the hard limit
        // while this one reports the limit.
        let body = Task { () async throws -> JSONValue in
            try await TaskContext.$current.withValue(context) {
                try await task.body(TaskArguments(args: args, kwargs: kwargs))
            }
        }
        guard await started(pid, { _ in body.cancel() }) else {
            body.cancel()
            return nil
        }
        return await TaskRun(body: body, soft: limits.soft, hard: limits.hard).wait()
    }

    func start() throws {}
    func resize(to concurrency: Int) {}
    func shutdown() async {}

    func info(concurrency: Int, timeLimit: TimeLimit) -> JSONObject {
        [
            "implementation": .string(WorkerPoolKind.async.statsImplementation), "max-concurrency": .int(concurrency),
            "processes": .array([.int(Int(ProcessInfo.processInfo.processIdentifier))]),
            "max-tasks-per-child": "N/A", "put-guarded-by-semaphore": false, "timeouts": [0, 0],
        ]
    }
}
