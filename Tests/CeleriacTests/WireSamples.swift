
/// Named lists of the captured event and pidbox samples (`event_*`, `control_*`), read
/// through ``Samples``.
///
/// The sample lists are spelled out so a missing capture fails loudly instead of shrinking a
/// parameterized test; `listsCoverEverySample` catches captures added later.
enum WireSamples {
    /// Base names (without `.json`) of every event message sample.
    static let events = [
        "event_task-sent", "event_task-sent_retry_from_pool_child",
        "event_task-received", "event_task-received_eta_expires",
        "event_task-started",
        "event_task-succeeded", "event_task-succeeded_dict_result",
        "event_task-failed", "event_task-failed_notregistered",
        "event_task-retried",
        "event_task-revoked_before_run", "event_task-revoked_expired", "event_task-revoked_terminated",
        "event_task.multi_batch_started_plus_succeeded", "event_task.multi_batch_task-failed_plus_task-rejected",
        "event_worker-online", "event_worker-heartbeat", "event_worker-offline",
    ]

    /// Base names of every control command sample.
    static let commands = [
        "control_heartbeat_from_events_monitor", "control_hello_mingle",
        "control_inspect_active", "control_inspect_active_queues", "control_inspect_clock",
        "control_inspect_query_task", "control_inspect_registered", "control_inspect_reserved",
        "control_inspect_revoked", "control_inspect_scheduled", "control_inspect_stats",
        "control_ping", "control_ping_destination", "control_rate_limit",
        "control_revoke_list_terminate_unknown_ids", "control_revoke_no_terminate_no_reply",
        "control_revoke_no_terminate_with_reply", "control_revoke_terminate_SIGKILL_no_reply",
        "control_revoke_terminate_SIGTERM_with_reply", "control_unknown_command",
    ]

    /// Commands that were answered; each has `<name>_REPLY.*`.
    static let answered = commands.filter {
        !$0.hasSuffix("_no_reply") && $0 != "control_heartbeat_from_events_monitor"
    }

    /// The exact bytes of a sample file; fails the test if the file is missing.
    static func bytes(_ file: String) throws -> [UInt8] { try Samples.bytes(file) }

    /// Envelopes are ASCII (`ensure_ascii`), so comparing them as text is exact and gives
    /// readable failure messages instead of byte arrays.
    static func ascii(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// A `.txt` sample without its trailing newline.
    static func text(_ file: String) throws -> String {
        var s = String(decoding: try bytes(file), as: UTF8.self)
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
