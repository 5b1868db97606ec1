public import Foundation
import Yams

/// An application's settings, named and defaulted as Celery names them.
///
/// Values come from three layers, each overriding the one before: built-in defaults, a YAML
/// config file (`celeriac.yaml` in the working directory, or the path in `CELERIAC_CONFIG` or
/// `--config`), then environment variables named `CELERY_` plus the setting's name in upper case
/// (`CELERY_BROKER_URL`, `CELERY_RESULT_BACKEND`, …), as Celery itself reads them. Command-line
/// flags of `qworker`/`qmon` override all three.
public struct CeleriacConfig: Sendable, Equatable {
    /// `broker_url`: where task messages, events and remote control travel.
    public var brokerURL: String = "redis://localhost:6379/0"
    /// `result_backend`: where results are stored; `nil` means "the broker's Redis" (the
    /// common Celery setup), and the word `disabled` in a file or variable turns results off.
    public var resultBackend: String? = nil
    /// `result_backend: disabled` was given.
    public var resultsDisabled: Bool = false
    /// `task_default_queue`: the queue a task goes to when none is named.
    public var taskDefaultQueue: String = "celery"
    /// `result_expires`: seconds a result stays in Redis (SETEX), 1 day as in Celery.
    public var resultExpires: Int = 86_400
    /// `result_extended`: also store name, args, kwargs, worker, retries and queue with results.
    public var resultExtended: Bool = false
    /// `task_send_sent_event`: clients publish `task-sent` events.
    public var taskSendSentEvent: Bool = false
    /// `worker_send_task_events`: workers publish task events (`-E`).
    public var workerSendTaskEvents: Bool = false
    /// `task_inherit_parent_priority`: chain steps and callbacks a worker sends get their
    /// parent's priority.
    public var taskInheritParentPriority: Bool = false
    /// `result_chord_join_timeout`, seconds: a chord's join claim lasts twice this (at least 5 s).
    public var resultChordJoinTimeout: Double = 3.0
    /// `task_acks_late`: ack tasks after they ran rather than when they start.
    public var taskAcksLate: Bool = false
    /// `worker_prefetch_multiplier`: messages held per unit of concurrency.
    public var workerPrefetchMultiplier: Int = 4
    /// `worker_concurrency`: `nil` means the number of CPU cores, as in Celery.
    public var workerConcurrency: Int? = nil
    /// `worker_pool`: `async` (Swift tasks in the worker, the default) or `process` (`prefork`).
    public var workerPool: String? = nil
    /// `worker_max_tasks_per_child`: a pool process is replaced after this many tasks; `nil` never.
    public var workerMaxTasksPerChild: Int? = nil
    /// `task_reject_on_worker_lost`: with acks_late, a task whose pool process died is requeued.
    public var taskRejectOnWorkerLost: Bool = false
    /// `worker_eta_task_limit`: the most messages a worker holds while ETA messages wait;
    /// `nil` (also given as 0 or `none`) is no limit, as in Celery.
    public var workerEtaTaskLimit: Int? = nil
    /// `broker_transport_options.visibility_timeout`, in seconds: how long a worker may go without
    /// a sign of life before its peers put back the messages it holds; `nil` is Celeriac's default.
    public var visibilityTimeout: Double? = nil

    public init() {}

    /// Celery settings the config file names that Celeriac does not use (yet), such as
    /// `timezone` from a tutorial's config: ignored, for the programs to warn about once
    /// (``ignoredSettingsWarning``). A name Celery does not know either is an error.
    public private(set) var ignoredCelerySettings: [String] = []

    /// The one line to log about ``ignoredCelerySettings``, or `nil` when there are none.
    public var ignoredSettingsWarning: String? {
        guard !ignoredCelerySettings.isEmpty else { return nil }
        return "config: ignoring Celery settings Celeriac does not use: \(ignoredCelerySettings.joined(separator: ", "))"
    }

    /// The result backend URL in effect: `nil` when results are disabled.
    public var effectiveResultBackend: String? {
        resultsDisabled ? nil : (resultBackend ?? brokerURL)
    }

    /// Every setting this type understands, by its Celery name.
    public static let settingNames: [String] = [
        "broker_url", "result_backend", "task_default_queue", "result_expires", "result_extended",
        "task_send_sent_event", "task_acks_late", "worker_send_task_events", "worker_prefetch_multiplier", "worker_concurrency",
        "worker_pool", "worker_max_tasks_per_child", "task_reject_on_worker_lost", "worker_eta_task_limit",
        "broker_transport_options", "task_inherit_parent_priority", "result_chord_join_timeout",
    ]

    /// The keys of `broker_transport_options` Celeriac reads (kombu's Redis transport has more;
    /// naming one it does not read is an error rather than a setting silently ignored).
    public static let transportOptionNames: [String] = ["visibility_timeout"]

    /// Loads defaults, then the config file, then the environment.
    ///
    /// - Parameters:
    ///   - file: an explicit config file path (must exist); `nil` looks at `CELERIAC_CONFIG`, then
    ///     `./celeriac.yaml` if present.
    ///   - environment: the process environment (injected so tests stay pure).
    /// - Throws: ``ConfigError`` naming the file and the setting that is wrong.
    public static func load(
        file: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(ConfigError) -> CeleriacConfig {
        var config = CeleriacConfig()
        let path: String?
        if let file {
            path = file
        } else if let fromEnv = environment["CELERIAC_CONFIG"], !fromEnv.isEmpty {
            path = fromEnv
        } else {
            let candidate = (workingDirectory as NSString).appendingPathComponent("celeriac.yaml")
            path = FileManager.default.fileExists(atPath: candidate) ? candidate : nil
        }
        if let path {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigError("cannot read config file \(path): \(error.localizedDescription)")
            }
            let settings: [String: String]
            do {
                (settings, config.ignoredCelerySettings) = try Self.flatten(yaml: text)
            } catch let e as ConfigError {
                throw ConfigError("\(path): \(e.message)")
            } catch {
                throw ConfigError("\(path): not valid YAML: \(Self.describeWithoutText(error))")
            }
            for (name, value) in settings.sorted(by: { $0.key < $1.key }) {
                try config.set(name, value, source: path)
            }
        }
        for name in settingNames {
            if let value = environment["CELERY_" + name.uppercased()] {
                try config.set(name, value, source: "environment variable CELERY_\(name.uppercased())")
            }
        }
        return config
    }

    /// Reads a YAML mapping of scalars into strings, rejecting nesting and unknown names; returns
    /// the settings and, sorted, the Celery settings Celeriac does not use.
    private static func flatten(yaml: String) throws -> (settings: [String: String], ignored: [String]) {
        guard let node = try Yams.compose(yaml: yaml) else { return ([:], []) }
        guard let mapping = node.mapping else { throw ConfigError("the top level must be a mapping of settings") }
        var out: [String: String] = [:]
        var ignored: [String] = []
        for (key, value) in mapping {
            guard let name = key.string else { throw ConfigError("setting names must be strings") }
            guard settingNames.contains(name) else {
                if CelerySettingNames.all.contains(name) {
                    ignored.append(name)
                    continue
                }
                throw ConfigError("unknown setting '\(name)' (known: \(settingNames.joined(separator: ", ")))")
            }
            if name == "broker_transport_options" {
                // A mapping, as in Celery's config; handed on as YAML and read like the variable.
                guard value.mapping != nil, let text = try? Yams.serialize(node: value) else {
                    throw ConfigError("broker_transport_options must be a mapping (visibility_timeout: seconds)")
                }
                out[name] = text
                continue
            }
            guard let scalar = value.scalar else { throw ConfigError("setting '\(name)' must be a single value") }
            out[name] = scalar.string
        }
        return (out, ignored.sorted())
    }

    /// Yams' own description of a parse error quotes the offending line, which in a config file
    /// is often `broker_url: "redis://:password@…`; this keeps where and what (libyaml's fixed
    /// wording, line and column) and drops the quoted text.
    static func describeWithoutText(_ error: any Error) -> String {
        func at(_ mark: Mark, _ context: YamlError.Context?, _ problem: String) -> String {
            let during = context.map { " (\($0.text), from line \($0.mark.line) column \($0.mark.column))" } ?? ""
            return "line \(mark.line), column \(mark.column): \(problem)\(during)"
        }
        guard let yamlError = error as? YamlError else { return "the YAML parser failed" }
        switch yamlError {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
            let .composer(context, problem, mark, _):
            return at(mark, context, problem)
        case let .reader(problem, offset, _, yaml):
            // The offset counts characters; count lines up to it rather than quote the line.
            guard let offset, offset >= 0 else { return problem }
            let line = yaml.prefix(offset).reduce(1) { $1.isNewline ? $0 + 1 : $0 }
            return "line \(line): \(problem)"
        case let .duplicatedKeysInMapping(duplicates, context):
            // The keys are the user's text; they reach the user only through ConfigError's redaction.
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            // Yams marks the mapping, not the repeated line.
            return "a setting is given twice: \(keys) (in the mapping from line \(context.mark.line))"
        case .dataCouldNotBeDecoded:
            return "the file is not UTF-8"
        case .no, .memory, .writer, .emitter, .representer:
            return "the YAML parser failed"
        @unknown default:
            return "the YAML parser failed"
        }
    }

    private mutating func set(_ name: String, _ raw: String, source: String) throws(ConfigError) {
        let value = raw.trimmingCharacters(in: .whitespaces)
        func int() throws(ConfigError) -> Int {
            guard let i = Int(value), i >= 0 else { throw ConfigError("\(source): \(name) must be a whole number ≥ 0, not '\(value)'") }
            return i
        }
        func bool() throws(ConfigError) -> Bool {
            switch value.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw ConfigError("\(source): \(name) must be true or false, not '\(value)'")
            }
        }
        switch name {
        case "broker_url": brokerURL = value
        case "result_backend":
            if value.lowercased() == "disabled" || value.isEmpty {
                resultsDisabled = true
                resultBackend = nil
            } else {
                resultsDisabled = false
                resultBackend = value
            }
        case "task_default_queue":
            guard !value.isEmpty else { throw ConfigError("\(source): task_default_queue must not be empty") }
            taskDefaultQueue = value
        case "result_expires": resultExpires = try int()
        case "result_extended": resultExtended = try bool()
        case "task_send_sent_event": taskSendSentEvent = try bool()
        case "task_acks_late": taskAcksLate = try bool()
        case "worker_send_task_events": workerSendTaskEvents = try bool()
        case "worker_prefetch_multiplier":
            let n = try int()
            guard n >= 1 else { throw ConfigError("\(source): worker_prefetch_multiplier must be at least 1") }
            workerPrefetchMultiplier = n
        case "worker_concurrency":
            let n = try int()
            workerConcurrency = n == 0 ? nil : n
        case "worker_pool":
            guard !value.isEmpty else { throw ConfigError("\(source): worker_pool must not be empty") }
            workerPool = value
        case "worker_max_tasks_per_child":
            let n = try int()
            workerMaxTasksPerChild = n == 0 ? nil : n
        case "task_reject_on_worker_lost": taskRejectOnWorkerLost = try bool()
        case "worker_eta_task_limit":
            // Celery's None; 0 also means no limit there (kombu's QoS takes 0 as unlimited).
            if ["", "none", "null", "~"].contains(value.lowercased()) {
                workerEtaTaskLimit = nil
            } else {
                let n = try int()
                workerEtaTaskLimit = n == 0 ? nil : n
            }
        case "broker_transport_options": try setTransportOptions(value, source: source)
        case "task_inherit_parent_priority": taskInheritParentPriority = try bool()
        case "result_chord_join_timeout":
            guard let seconds = Double(value), seconds.isFinite, seconds > 0 else {
                throw ConfigError("\(source): result_chord_join_timeout must be a positive number of seconds, not '\(value)'")
            }
            resultChordJoinTimeout = seconds
        default: throw ConfigError("unknown setting '\(name)'")
        }
    }
}

extension CeleriacConfig {
    /// Reads `broker_transport_options`, a YAML mapping (`{visibility_timeout: 30}` in the
    /// environment variable, nested lines in the file).
    fileprivate mutating func setTransportOptions(_ text: String, source: String) throws(ConfigError) {
        let what = "\(source): broker_transport_options"
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw ConfigError("\(what) is not a YAML mapping: \(Self.describeWithoutText(error))") }
        guard let mapping = node?.mapping else { throw ConfigError("\(what) must be a mapping, such as {visibility_timeout: 30}") }
        for (key, value) in mapping {
            guard let option = key.string, Self.transportOptionNames.contains(option) else {
                throw ConfigError("\(what): unknown option '\(key.string ?? "?")' (known: \(Self.transportOptionNames.joined(separator: ", ")))")
            }
            let raw = value.scalar?.string.trimmingCharacters(in: .whitespaces) ?? ""
            // kombu takes any number of seconds; Celeriac's liveness refresh needs at least one.
            guard let seconds = Double(raw), seconds.isFinite, seconds >= 1 else {
                throw ConfigError("\(what): visibility_timeout must be a number of seconds ≥ 1, not '\(raw)'")
            }
            visibilityTimeout = seconds
        }
    }
}

/// A configuration problem, described in one line that names where the bad value came from.
///
/// The message quotes what the user wrote (a wrong value, an unknown name), which may be a URL
/// with a password pasted into the wrong setting: it is passed through
/// ``CredentialRedactor/redact(_:)`` when the error is made, so no credential can leave in it.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// The problem, credentials masked.
    public let message: String
    /// Creates an error; credentials in `message` are masked.
    public init(_ message: String) { self.message = CredentialRedactor.redact(message) }
    public var description: String { message }
}
