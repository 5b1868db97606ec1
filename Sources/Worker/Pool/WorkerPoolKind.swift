/// Where a worker runs task bodies (`--pool`).
public enum WorkerPoolKind: String, Sendable, CaseIterable {
    /// Swift tasks inside the worker process, bounded by `--concurrency` (the default). Named
    /// after what it is, cooperative async tasks: like Celery's gevent/eventlet pools, bodies
    /// should `await` rather than block, and a crash or a body that ignores cancellation
    /// cannot be contained.
    case async
    /// Child processes of the worker's own binary, one task each at a time (Celery's prefork):
    /// crash isolation, hard limits and terminates by signal, `--max-tasks-per-child`.
    case process

    /// Parses `--pool`: `async`, or `process` with Celery's names `prefork` and `processes`.
    public init?(name: String) {
        switch name.lowercased() {
        case "async": self = .async
        case "process", "prefork", "processes": self = .process
        default: return nil
        }
    }
}
