import Celeriac
import Foundation

/// The job the worker sends a pool child: what the child needs to call the task and to build
/// the same ``TaskContext`` the in-process pool would, plus the soft limit the child enforces.
struct PoolRequest: Sendable, Equatable {
    var id: String
    var name: String
    var args: [JSONValue]
    var kwargs: JSONObject
    var retries: Int
    var rootID: String?
    var parentID: String?
    var hostname: String
    var argsRepr: String
    var kwargsRepr: String
    var softLimit: Double?

    init(context: TaskContext, args: [JSONValue], kwargs: JSONObject, softLimit: Double?) {
        id = context.id
        name = context.name
        self.args = args
        self.kwargs = kwargs
        retries = context.retries
        rootID = context.rootID
        parentID = context.parentID
        hostname = context.hostname
        argsRepr = context.argsRepr
        kwargsRepr = context.kwargsRepr
        self.softLimit = softLimit
    }

    var json: JSONValue {
        [
            "id": .string(id), "name": .string(name), "args": .array(args), "kwargs": .object(kwargs), "retries": .int(retries),
            "root_id": rootID.map(JSONValue.string) ?? .null, "parent_id": parentID.map(JSONValue.string) ?? .null,
            "hostname": .string(hostname), "argsrepr": .string(argsRepr), "kwargsrepr": .string(kwargsRepr),
            "soft_limit": softLimit.map(JSONValue.double) ?? .null,
        ]
    }

    init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let name = json["name"]?.stringValue, let args = json["args"]?.arrayValue,
              let kwargs = json["kwargs"]?.objectValue, let retries = json["retries"]?.intValue,
              let hostname = json["hostname"]?.stringValue else { return nil }
        self.id = id
        self.name = name
        self.args = args
        self.kwargs = kwargs
        self.retries = retries
        rootID = json["root_id"]?.stringValue
        parentID = json["parent_id"]?.stringValue
        self.hostname = hostname
        argsRepr = json["argsrepr"]?.stringValue ?? "()"
        kwargsRepr = json["kwargsrepr"]?.stringValue ?? "{}"
        softLimit = json["soft_limit"]?.doubleValue
    }
}

/// What a pool child tells the worker about a job: that it started, then how it ended, in the
/// same terms the in-process pool reports (a value, a ``TaskError``, a ``RetryRequest`` or the
/// soft limit), so both pools record identical outcomes.
enum PoolReply: Sendable, Equatable {
    case started(pid: Int)
    case success(JSONValue)
    case failure(TaskError)
    case retry(eta: Date, reason: TaskError)
    case softLimit(seconds: Double)

    /// The reply for a body's ending as `TaskRun` reports it in the child.
    init(_ ending: TaskRun.Ending) {
        switch ending {
        case .finished(.success(let value)): self = .success(value)
        case .finished(.failure(let request as RetryRequest)): self = .retry(eta: request.eta, reason: request.reason)
        case .finished(.failure(let error)): self = .failure(TaskError.from(error))
        case .softLimit(let seconds): self = .softLimit(seconds: seconds)
        // The child runs bodies without a hard limit and never loses itself.
        case .hardLimit(let seconds): self = .failure(TaskError(type: "TimeLimitExceeded", arguments: [.double(seconds)], module: "billiard.exceptions"))
        case .workerLost(let reason): self = .failure(TaskError(type: "WorkerLostError", arguments: [.string(reason)], module: "billiard.exceptions"))
        }
    }

    /// The ending the worker records, as if the body had run in-process.
    var ending: TaskRun.Ending? {
        switch self {
        case .started: nil
        case .success(let value): .finished(.success(value))
        case .failure(let error): .finished(.failure(error))
        case .retry(let eta, let reason): .finished(.failure(RetryRequest(eta: eta, reason: reason)))
        case .softLimit(let seconds): .softLimit(seconds: seconds)
        }
    }

    var json: JSONValue {
        switch self {
        case .started(let pid): ["started": .int(pid)]
        case .success(let value): ["ok": value]
        case .failure(let error): ["error": Self.json(error)]
        case .retry(let eta, let reason): ["retry": ["eta": .double(eta.timeIntervalSince1970), "reason": Self.json(reason)]]
        case .softLimit(let seconds): ["soft_limit": .double(seconds)]
        }
    }

    init?(json: JSONValue) {
        if let pid = json["started"]?.intValue {
            self = .started(pid: pid)
        } else if let value = json["ok"] {
            self = .success(value)
        } else if let error = json["error"].flatMap(Self.error) {
            self = .failure(error)
        } else if let retry = json["retry"], let eta = retry["eta"]?.doubleValue, let reason = retry["reason"].flatMap(Self.error) {
            self = .retry(eta: Date(timeIntervalSince1970: eta), reason: reason)
        } else if let seconds = json["soft_limit"]?.doubleValue {
            self = .softLimit(seconds: seconds)
        } else {
            return nil
        }
    }

    private static func json(_ error: TaskError) -> JSONValue {
        ["type": .string(error.type), "args": .array(error.arguments), "module": .string(error.module)]
    }

    private static func error(_ json: JSONValue) -> TaskError? {
        guard let type = json["type"]?.stringValue, let args = json["args"]?.arrayValue, let module = json["module"]?.stringValue else { return nil }
        return TaskError(type: type, arguments: args, module: module)
    }
}
