import Celeriac
import Foundation
import Glibc
import Logging

/// The pool child's side: reads jobs from fd 3, runs each with the same registry as the worker,
/// and writes `started` and the ending to fd 4, until the worker closes the job pipe.
///
/// The child enforces the soft limit itself (the body is cancelled, as in-process); the hard
/// limit and terminates are the worker's, by signal. It ignores SIGINT so a Ctrl-C at the
/// terminal (sent to the whole process group) leaves running tasks to the worker's warm shutdown.
enum PoolChildProcess {
    static func serve(tasks: TaskRegistry, number: String, environment: [String: String]) async -> Never {
        _ = Glibc.signal(SIGINT, SIG_IGN)
        watchParent(Int32(environment[PoolChildCommand.parentKey] ?? "") ?? getppid())
        let level = environment[PoolChildCommand.logLevelKey].flatMap(CeleryLogHandler.level(named:)) ?? .info
        let process = "PoolWorker-\(number)"
        LoggingSystem.bootstrap { label in CeleryLogHandler(label: label, level: level, process: process) }
        let logger = Logger(label: "qworker.pool")
        let pid = Int(getpid())
        // Blocking reads are fine here: between jobs this process has nothing else to do.
        while let frame = PoolPipe.readFrame(from: 3) {
            guard let request = PoolRequest(json: frame) else {
                logger.critical("pool child got a job it cannot read; exiting")
                exit(70)
            }
            guard PoolPipe.writeBlocking(PoolPipe.frame(PoolReply.started(pid: pid).json), to: 4) else { exit(0) }
            let reply = await run(request, tasks: tasks, logger: logger)
            guard PoolPipe.writeBlocking(PoolPipe.frame(reply.json), to: 4) else { exit(0) }
        }
        exit(0)
    }

    private static func run(_ request: PoolRequest, tasks: TaskRegistry, logger: Logger) async -> PoolReply {
        guard let task = tasks[request.name] else { return .failure(.notRegistered(request.name)) }
        let context = TaskContext(id: request.id, name: request.name, retries: request.retries, rootID: request.rootID,
                                  parentID: request.parentID, hostname: request.hostname, logger: logger, options: task.options,
                                  argsRepr: request.argsRepr, kwargsRepr: request.kwargsRepr)
        let body = Task { () async throws -> JSONValue in
            try await TaskContext.$current.withValue(context) {
                try await task.body(TaskArguments(args: request.args, kwargs: request.kwargs))
            }
        }
        return PoolReply(await TaskRun(body: body, soft: request.softLimit, hard: nil).wait())
    }

    /// Exits when the worker is gone (the child was re-parented), even in the middle of a task
    /// that never ends: an orphaned child must not keep running work nobody will record.
    private static func watchParent(_ parent: Int32) {
        Thread.detachNewThread {
            while getppid() == parent { usleep(500_000) }
            _exit(0)
        }
    }
}
