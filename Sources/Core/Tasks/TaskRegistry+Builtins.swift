/// Celery's built-in tasks (`celery/app/builtins.py`) that a worker must run for the canvas:
/// `celery.map` and `celery.starmap` (what `task.map(it)`, `task.starmap(it)` and `chunks` send)
/// and `celery.accumulate` (what a replaced group ends with). Like Celery, they run the inner
/// task in-process, with no messages and no inner results stored; an inner task not registered
/// here is a `NotRegistered` failure, as on a Python worker without it.
///
/// They are looked up after the registered tasks (a task of the same name wins) and are not in
/// ``TaskRegistry/names``, as `inspect registered` leaves `celery.*` out by default.
extension TaskRegistry {
    /// The built-in names this worker runs.
    public static let builtinNames: Set<String> = ["celery.map", "celery.starmap", "celery.accumulate"]

    /// The built-in task `name`, whose body runs inner tasks from this registry.
    func builtin(_ name: String) -> RegisteredTask? {
        let registry = self
        switch name {
        case "celery.map", "celery.starmap":
            let star = name == "celery.starmap"
            return RegisteredTask(name: name, parameters: ["task", "it"]) { call in
                let bound = try call.bind(to: ["task", "it"], taskName: name)
                let inner = try Signature(json: bound[0])
                guard let task = registry.tasks[inner.task] ?? registry.builtin(inner.task) else { throw TaskError.notRegistered(inner.task) }
                guard case .array(let items) = bound[1] else { throw TaskError.typeError("'\(bound[1])' object is not iterable") }
                var results: [JSONValue] = []
                results.reserveCapacity(items.count)
                for item in items {
                    if star {
                        guard case .array(let args) = item else { throw TaskError.typeError("\(inner.task)() argument after * must be an iterable") }
                        results.append(try await task.body(TaskArguments(args: args)))
                    } else {
                        results.append(try await task.body(TaskArguments(args: [item])))
                    }
                }
                return .array(results)
            }
        case "celery.accumulate":
            return RegisteredTask(name: name, parameters: []) { call in
                if let index = call.kwargs["index"], !index.isNull {
                    guard let i = index.intValue, call.args.indices.contains(i) else { throw TaskError(type: "IndexError", arguments: ["tuple index out of range"]) }
                    return call.args[i]
                }
                return .array(call.args)
            }
        default:
            return nil
        }
    }
}
