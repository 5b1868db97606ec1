import Synchronization

/// Cancels a task body that runs inline in the task handling its message, from another task
/// (`revoke --terminate`, which arrives through the control server).
///
/// Why not a `Task` per body, whose handle could be cancelled: that costs a task and two
/// executor hops per message, a large share of a no-op task's cost. Running the body in the
/// message's own task needs a way to cancel *that* task from outside, which Swift gives only
/// as an `UnsafeCurrentTask`. It is kept here only while ``run(_:)`` is executing, which is
/// inside the very task it refers to, and is dropped under the same lock that ``cancel()``
/// takes; so it is never used after its task could have ended.
final class BodyCanceller: Sendable {
    /// The running task's handle. `@unchecked Sendable` because `UnsafeCurrentTask` is not:
    /// its only use from other threads is `cancel()`, which the runtime makes thread-safe, and
    /// only while the task is alive (set and dropped by ``run(_:)`` inside that task, under the
    /// lock ``cancel()`` holds while using it).
    private struct RunningTask: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private enum State {
        /// `cancel()` came before the body began: it is cancelled as it starts.
        case waiting(cancelled: Bool)
        case running(RunningTask)
        case finished
    }

    private let state = Mutex<State>(.waiting(cancelled: false))

    /// Cancels the body if it is running or has yet to run; nothing once it finished.
    func cancel() {
        state.withLock { s in
            switch s {
            case .waiting: s = .waiting(cancelled: true)
            case .running(let running): running.task.cancel()
            case .finished: break
            }
        }
    }

    /// Runs `body` in the current task, cancellable through ``cancel()`` until it returns.
    func run<T>(_ body: () async -> T) async -> T {
        withUnsafeCurrentTask { task in
            guard let task else { return }
            let running = RunningTask(task: task)
            state.withLock { s in
                if case .waiting(cancelled: true) = s { running.task.cancel() }
                s = .running(running)
            }
        }
        defer { state.withLock { $0 = .finished } }
        return await body()
    }
}
