import Celeriac
import Foundation
import Logging

/// Builds a model by listening to the live feed for a while: what `snapshot` and `status`
/// do instead of drawing.
enum ClusterListener {
    /// Connects a ``RedisMonitorFeed``, optionally backfills stored results, applies what
    /// arrives for `seconds`, and closes the feed. Notices go to stderr.
    ///
    /// Every event published before the window closes is included, even one Redis had sent
    /// but qmon had not read or decoded yet (a 1 MB event on a busy machine): at the deadline
    /// the feed ends its event stream at a sync marker (``RedisMonitorFeed/finishEvents(fallback:)``)
    /// and what came before it is applied. If the marker does not come within
    /// ``RedisMonitorFeed/syncFallback`` (Redis went away), a notice says the last events may
    /// be missing.
    ///
    /// - Throws: ``Celeriac/RedisError`` from the first connect.
    static func listen(
        config: CeleriacConfig, seconds: Double, enableEvents: Bool, backfill: Int,
        configuration: ClusterState.Configuration = .init(localUTCOffset: CeleryEvent.localUTCOffset()), logger: Logger
    ) async throws(RedisError) -> ClusterState {
        var options = RedisOptions()
        options.connectTimeout = .seconds(3)
        let feed = try await RedisMonitorFeed.connect(
            config: config, options: options, logger: logger, enableEvents: enableEvents)
        var state = ClusterState(configuration: configuration)
        if backfill > 0 { _ = await feed.backfill(limit: backfill) }
        let deadline = ContinuousClock.now + .seconds(clamping: seconds)
        repeat {
            for input in feed.drain() {
                if let notice = state.apply(input) { QMonConsole.error(notice) }
            }
            if ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(100))
        } while true
        let complete = await feed.finishEvents()
        for input in feed.drain() {
            if let notice = state.apply(input) { QMonConsole.error(notice) }
        }
        if !complete {
            QMonConsole.error("qmon: Redis did not confirm the end of the listen window; events published just before it may be missing")
        }
        await feed.close()
        return state
    }
}
