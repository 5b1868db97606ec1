import Celeriac
import Synchronization

/// Runs one task body under Celery's time limits and reports how it ended.
///
/// The body runs in its own task so it can be cancelled alone (revoke --terminate, cold shutdown,
/// soft limit). Swift cancellation is cooperative, so:
/// - at the **soft** limit the body is cancelled: a body that lets the `CancellationError` out
///   fails with `SoftTimeLimitExceeded`; one that catches it can clean up and return, as a Python
///   task catching `SoftTimeLimitExceeded` does;
/// - at the **hard** limit the worker stops waiting: the task is recorded as
///   `TimeLimitExceeded` and its slot freed, even if the body ignores cancellation (it is then
///   abandoned; only a process pool could kill it outright).
struct TaskRun: Sendable {
    enum Ending: Sendable {
        case finished(Result<JSONValue, any Error>)
        case softLimit(seconds: Double)
        case hardLimit(seconds: Double)
        /// The pool process running the body died (`--pool process` only); `reason` is Celery's
        /// `WorkerLostError` message.
        case workerLost(reason: String)
    }

    let body: Task<JSONValue, any Error>
    let soft: Double?
    let hard: Double?

    /// Waits for the body or a limit, whichever comes first. Cancelling the waiting task cancels the body.
    func wait() async -> Ending {
        if soft == nil && hard == nil {
            // No limits to race against: wait for the body directly (no watcher tasks), which
            // is most tasks and most of the per-task overhead otherwise.
            return .finished(await withTaskCancellationHandler { await body.result } onCancel: { body.cancel() })
        }
        let softHit = TimeoutFlag()
        let ending: Ending = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Ending, Never>) in
                let once = Once()
                let timers = Mutex<[Task<Void, Never>]>([])
                let finish = { @Sendable (e: Ending) in
                    guard once.claim() else { return }
                    timers.withLock { $0.forEach { $0.cancel() } }
                    continuation.resume(returning: e)
                }
                Task { finish(.finished(await body.result)) }
                if let soft {
                    timers.withLock { $0.append(Task {
                        guard (try? await Task.sleep(for: .seconds(clamping: soft))) != nil else { return }
                        softHit.set()
                        body.cancel()
                    }) }
                }
                if let hard {
                    timers.withLock { $0.append(Task {
                        guard (try? await Task.sleep(for: .seconds(clamping: hard))) != nil else { return }
                        body.cancel()
                        finish(.hardLimit(seconds: hard))
                    }) }
                }
            }
        } onCancel: {
            body.cancel()
        }
        if case .finished(.failure(let error)) = ending, error is CancellationError, let soft, softHit.isSet {
            return .softLimit(seconds: soft)
        }
        return ending
    }
}

/// Lets exactly one of several racing callers through.
final class Once: Sendable {
    private let done = Atomic<Bool>(false)
    func claim() -> Bool { !done.exchange(true, ordering: .relaxed) }
}
