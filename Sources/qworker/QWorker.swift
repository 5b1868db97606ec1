import CeleriacDemoTasks
import CeleriacWorker

/// `qworker`: the worker with Celeriac's built-in demo tasks. Applications build their own
/// binary the same way with their own registry (see ``WorkerCommand``).
@main
enum QWorker {
    static func main() async {
        await WorkerCommand.run(tasks: DemoTasks.registry)
    }
}
