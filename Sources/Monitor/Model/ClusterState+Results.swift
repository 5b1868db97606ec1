public import Celeriac

/// What the monitor learns from stored results besides outcomes: group membership and children.
///
/// Task events carry `root_id` and `parent_id` but no group id and no list of children; the
/// result backend has both (`group_id`, `children` in `celery-task-meta-<id>`). qmon reads them
/// only where a workflow is being looked at (the task detail and the workflow view ask the loop
/// for ``unreadResultIDs(near:limit:)`` once a second), never for every task: a busy cluster
/// finishes tens of thousands of tasks a second and a read per task would cost more than the
/// events themselves. Only held records are changed; a result never creates a record.
extension ClusterState {
    /// Merges stored results into the records they belong to: ``TaskRecord/groupID``, a
    /// missing ``TaskRecord/parentID``, ``TaskRecord/childIDs``; a child listed inside a group
    /// tuple gets that group id and this parent when its own record does not know them yet.
    ///
    /// Every record is counted again for the byte budget (``TaskStore/approximateBytes``) and
    /// the oldest are evicted beyond it, as for events.
    ///
    /// - Parameters:
    ///   - metas: The results read.
    ///   - requested: The ids that were asked for: a ready task among them whose result was
    ///     not found (expired, results disabled) is not asked for again.
    public mutating func noteResults(_ metas: [ResultMeta], requested: [String] = []) {
        let names = configuration.maxNameBytes
        for id in requested {
            tasks.update(StoredText.prefix(id, bytes: names)) { r in
                if r.isReady { r.accounted.insert(.resultRead) }
            }
        }
        for meta in metas {
            let id = StoredText.prefix(meta.taskID, bytes: names)
            guard tasks.contains(id) else { continue }
            let (children, total) = ResultChildren.parse(meta.children, limit: TaskRecord.maxChildIDs)
            tasks.update(id) { r in
                if let g = meta.groupID, !g.isEmpty { r.groupID = StoredText.prefix(g, bytes: names) }
                if r.parentID == nil, let p = meta.parentID, !p.isEmpty { r.parentID = StoredText.prefix(p, bytes: names) }
                if total > 0 || !r.childIDs.isEmpty { r.setChildren(children.map(\.id), total: total, nameBytes: names) }
                if meta.status.isReady, r.isReady { r.accounted.insert(.resultRead) }
            }
            for child in children {
                tasks.update(StoredText.prefix(child.id, bytes: names)) { c in
                    if c.parentID == nil { c.parentID = id }
                    if c.groupID == nil, let g = child.groupID { c.groupID = StoredText.prefix(g, bytes: names) }
                }
            }
        }
    }

    /// The ready tasks whose stored results are worth reading for the workflow around `ids`:
    /// those of `ids` not read yet, then other unread ready tasks first seen within
    /// ``siblingWindow`` seconds of any of them (a group's or chord header's members are sent
    /// together, and only their results name the group), newest first.
    ///
    /// - Parameters:
    ///   - ids: The tasks of the workflow on screen.
    ///   - limit: Most ids returned (one pipelined read).
    public func unreadResultIDs(near ids: [String], limit: Int = 256) -> [String] {
        var out: [String] = []
        var seen = Set<String>()
        var times: [Double] = []
        for id in ids {
            guard let r = tasks[id] else { continue }
            times.append(r.sentAt ?? r.receivedAt ?? r.lastEventReceivedAt)
            if out.count < limit, r.isReady, !r.accounted.contains(.resultRead), seen.insert(id).inserted { out.append(id) }
        }
        guard let low = times.min(), let high = times.max(), out.count < limit else { return out }
        for r in tasks.newestFirst {
            if out.count >= limit { break }
            guard r.isReady, !r.accounted.contains(.resultRead) else { continue }
            let t = r.sentAt ?? r.receivedAt ?? r.lastEventReceivedAt
            guard t >= low - Self.siblingWindow, t <= high + Self.siblingWindow else { continue }
            if seen.insert(r.uuid).inserted { out.append(r.uuid) }
        }
        return out
    }

    /// How far apart in time (seconds, by `task-sent`, else `task-received`) a task may be from a
    /// workflow's tasks and still have its result read as a possible group sibling.
    public static let siblingWindow: Double = 5
}
