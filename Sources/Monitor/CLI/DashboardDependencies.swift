public import Celeriac
import Synchronization

/// What the dashboard needs from the outside world, made by the `qmon` executable: the live
/// feed and the action performer (over Redis), and how to close them.
///
/// The dashboard is written against this seam so it builds and is tested without Redis; the
/// `qmon` main sets ``DashboardCommand/makeDependencies`` before parsing the command line.
public struct DashboardDependencies: Sendable {
    /// Makes the dependencies for a parsed command and its resolved configuration. Called
    /// after the terminal checks; a thrown error is printed as one line and `qmon` exits 2.
    public typealias Factory = @Sendable (_ command: DashboardCommand, _ config: CeleriacConfig) async throws -> DashboardDependencies

    /// The live inputs (events, queue depths, worker stats, notices).
    public var feed: any MonitorFeed
    /// Carries out confirmed actions (and writes the action log, `--action-log`).
    public var performer: any ActionPerformer
    /// Reads stored results for the workflow view and task links; `nil` when results are disabled.
    public var results: (any ResultMetaReader)?
    /// Called once after the dashboard closed (stop the feed, close connections).
    public var close: @Sendable () async -> Void

    /// Creates the dependencies.
    public init(
        feed: any MonitorFeed, performer: any ActionPerformer, results: (any ResultMetaReader)? = nil,
        close: @escaping @Sendable () async -> Void = {}
    ) {
        self.feed = feed
        self.performer = performer
        self.results = results
        self.close = close
    }

    static let factory = Mutex<Factory?>(nil)
}
