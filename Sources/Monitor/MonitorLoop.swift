import Celeriac

/// The dashboard's loop: the one owner of the model, the view and the screen.
///
/// Each pass (``step(key:size:now:)``) handles at most one key, drains the feed and applies
/// its inputs, takes finished action outcomes, and then (``frameIfDue(now:)``) lays out a frame
/// when something changed, at most 10 times a second, and at least once a second because ages
/// and rates move. ``run(on:clock:stopSignal:)`` is the same passes against a real screen;
/// tests drive ``step(key:size:now:)`` directly with a scripted feed and a recording performer.
///
/// Actions run on detached tasks through the ``ActionPerformer``; their outcomes come back
/// through a mutex-protected inbox, so this thread never waits on the network.
///
/// Workflows: while a task detail or the workflow view is shown, the loop asks the
/// ``ResultMetaReader`` once a second (one request at a time, at most 256 ids) for the stored
/// results of that workflow's finished tasks not read yet and of their possible group siblings
/// (``ClusterState/unreadResultIDs(near:limit:)``), and merges what comes back
/// (``ClusterState/noteResults(_:requested:)``): that is how group ids and children, which task
/// events do not carry, reach the tree. Nothing is read on other screens.
///
/// Pause: inputs keep being applied to the live model (nothing is buffered or lost); the screen
/// shows a frozen copy taken when `p` was pressed, at the time it was pressed, until `p` again.
/// The copy shares storage with the live model until the live one changes (copy-on-write), so a
/// pause costs at most one extra copy of the bounded model.
public final class MonitorLoop {
    /// Why ``run(on:clock:stopSignal:)`` returned.
    public enum Exit: Sendable, Hashable {
        /// The operator pressed `q`.
        case quit
        /// A termination signal arrived (its number).
        case signal(Int32)
    }

    /// The live model, always up to date.
    public private(set) var model: ClusterState
    /// The view.
    public private(set) var view: ViewState
    /// Actions started whose outcome has not arrived.
    public private(set) var actionsInFlight = 0
    /// Seconds a status line stays (pending ones stay until their outcome).
    public var statusLifetime: Double = 10

    private var frozen: (model: ClusterState, now: Double)?
    private let feed: any MonitorFeed
    private let performer: any ActionPerformer
    private let inbox = ActionInbox()
    private let results: (any ResultMetaReader)?
    private let resultInbox = ResultInbox()
    private var resultReadInFlight = false
    private var lastResultRead = -Double.infinity
    /// Seconds between two reads of stored results for the workflow on screen.
    public var resultReadInterval: Double = 1
    private var dirty = true
    private var urgent = true
    private var lastDraw = -Double.infinity

    /// Creates a loop.
    ///
    /// - Parameters:
    ///   - model: The initial (usually empty) model, with its limits.
    ///   - view: The initial view (read-only flag, connection label).
    ///   - feed: Where inputs come from.
    ///   - performer: What carries out confirmed actions.
    ///   - results: Reads stored results (group ids, children) for the workflow on screen;
    ///     `nil` reads none (results disabled).
    public init(
        model: ClusterState, view: ViewState, feed: any MonitorFeed, performer: any ActionPerformer,
        results: (any ResultMetaReader)? = nil
    ) {
        self.model = model
        self.view = view
        self.feed = feed
        self.performer = performer
        self.results = results
    }

    /// The model on screen: the frozen copy while paused, else the live one.
    public var displayedModel: ClusterState { frozen?.model ?? model }

    /// One pass without drawing.
    ///
    /// - Parameters:
    ///   - key: The key read this pass, if any.
    ///   - size: The terminal size now.
    ///   - now: Local time, epoch seconds.
    /// - Returns: ``Exit/quit`` when the operator asked to quit, else `nil`.
    @discardableResult
    public func step(key: Key?, size: TerminalSize, now: Double) -> Exit? {
        if size != view.size {
            view.size = size
            markDirty(urgent: true)
        }
        if let key, let command = KeyMap.command(for: key, textEntry: view.isTextEntry) {
            if view.screen == .tasks { view.refreshListing(model: displayedModel) }
            view.refreshWorkflow(model: displayedModel)
            let wasPaused = view.isPaused
            let effect = view.handle(command, model: displayedModel)
            if view.isPaused != wasPaused {
                frozen = view.isPaused ? (model, now) : nil
                view.modelVersion += 1
            }
            switch effect {
            case .none: break
            case .redraw: markDirty(urgent: true)
            case .perform(let action):
                perform(action)
                markDirty(urgent: true)
            case .quit: return .quit
            }
        }

        let inputs = feed.drain()
        if !inputs.isEmpty {
            for input in inputs { apply(input) }
            if frozen == nil {
                view.modelVersion += 1
                markDirty()
            }
        }

        for outcome in inbox.drain() {
            actionsInFlight -= 1
            if outcome.succeeded, case .retry(let original) = outcome.action, let resent = outcome.newTaskID {
                model.linkRetry(original: original, resent: resent, at: now)
                if frozen == nil { view.modelVersion += 1 }
            }
            var text = (outcome.succeeded ? "✓ " : "✗ ") + outcome.action.summary + ": " + outcome.message
            if let id = outcome.newTaskID { text += " (new task \(id))" }
            view.status = StatusLine(text, tone: outcome.succeeded ? .success : .failure)
            markDirty(urgent: true)
        }

        for batch in resultInbox.drain() {
            resultReadInFlight = false
            model.noteResults(batch.metas, requested: batch.requested)
            if frozen == nil {
                view.modelVersion += 1
                markDirty()
            }
            if let failure = batch.failure { view.status = StatusLine("could not read stored results: \(failure)", tone: .failure) }
        }
        readResultsIfDue(now: now)

        if var s = view.status {
            if let at = s.setAt {
                if s.tone != .pending, now - at > statusLifetime {
                    view.status = nil
                    markDirty()
                }
            } else {
                s.setAt = now
                view.status = s
            }
        }
        return nil
    }

    /// The frame to draw now, if one is due: something changed and 100 ms passed since the last
    /// (or a key was pressed), or a second passed anyway.
    ///
    /// - Parameter now: Local time, epoch seconds.
    public func frameIfDue(now: Double) -> Frame? {
        let since = now - lastDraw
        guard (dirty && (urgent || since >= 0.1)) || since >= 1 else { return nil }
        dirty = false
        urgent = false
        lastDraw = now
        return frame(now: now)
    }

    /// Lays out the current frame (for tests and for ``frameIfDue(now:)``).
    public func frame(now: Double) -> Frame {
        let shown = displayedModel
        if view.screen == .tasks { view.refreshListing(model: shown) }
        view.refreshWorkflow(model: shown)
        return Layout.layout(model: shown, view: view, size: view.size, now: frozen?.now ?? now)
    }

    /// Runs passes against a screen until `q` or a termination signal.
    ///
    /// - Parameters:
    ///   - screen: The terminal; ``MonitorScreen/readKey()`` paces the loop (~100 ms).
    ///   - clock: Local time, epoch seconds.
    ///   - stopSignal: A termination signal received, if any (``TerminationSignals/pending``).
    /// - Returns: Why it stopped.
    public func run(on screen: some MonitorScreen, clock: () -> Double, stopSignal: () -> Int32?) -> Exit {
        while true {
            if let sig = stopSignal() { return .signal(sig) }
            let key = screen.readKey()
            if let sig = stopSignal() { return .signal(sig) }
            let now = clock()
            if let exit = step(key: key, size: screen.size(), now: now) { return exit }
            if let frame = frameIfDue(now: now) { screen.draw(frame) }
        }
    }

    // MARK: Private

    private func markDirty(urgent: Bool = false) {
        dirty = true
        if urgent { self.urgent = true }
    }

    private func apply(_ input: MonitorInput) {
        switch input {
        case .events(let events, let receivedAt):
            model.apply(contentsOf: events, receivedAt: receivedAt)
        case .queues(let samples, let at):
            model.updateQueues(samples, at: at)
        case .workerStats(let hostname, let stats):
            model.mergeStats(stats, hostname: hostname)
        case .retryLinked(let original, let resent, let at):
            model.linkRetry(original: original, resent: resent, at: at)
        case .notice(let text):
            view.status = StatusLine(text, tone: .info)
            markDirty(urgent: true)
        case .dropped(let count):
            model.noteDropped(events: count)
        }
    }

    /// Starts one read of stored results for the workflow on screen, if due (see the type's discussion).
    private func readResultsIfDue(now: Double) {
        guard let results, !resultReadInFlight, now - lastResultRead >= resultReadInterval else { return }
        let around: [String]
        switch view.screen {
        case .taskDetail(let id):
            around = [id] + view.detailLinks(model: model).map(\.id)
        case .workflow(let id):
            view.refreshWorkflow(model: displayedModel)
            around = [id] + (view.currentWorkflow(model: model)?.taskIDs ?? [])
        default: return
        }
        let ids = model.unreadResultIDs(near: around)
        lastResultRead = now
        guard !ids.isEmpty else { return }
        resultReadInFlight = true
        let inbox = resultInbox
        Task.detached {
            do {
                inbox.post(try await results.read(ids: ids), requested: ids, failure: nil)
            } catch {
                inbox.post([], requested: [], failure: "\(error)")
            }
        }
    }

    private func perform(_ action: MonitorAction) {
        actionsInFlight += 1
        let performer = self.performer
        let inbox = self.inbox
        Task.detached {
            inbox.post(await performer.perform(action))
        }
    }
}
