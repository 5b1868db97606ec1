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

    /// The pool's `implementation` in `inspect stats`, in Celery's `module:Class` form with the
    /// kind as the module's last part (Celery 5.7 says `celery.concurrency.prefork:TaskPool`), so
    /// Flower, `celery inspect stats` and qmon read `async` or `process` from it as they read
    /// `prefork` from Celery's.
    public var statsImplementation: String {
        switch self {
        case .async: "celeriac.concurrency.async:AsyncPool"
        case .process: "celeriac.concurrency.process:ProcessPool"
        }
    }
}
