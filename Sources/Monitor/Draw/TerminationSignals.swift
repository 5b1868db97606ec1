import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT, SIGTERM and SIGHUP while the dashboard runs: the handler only stores the signal
/// number; the loop sees it within one input timeout (~100 ms), leaves, and the screen restores
/// the terminal. (ncurses' own handlers would restore the tty but exit without our cleanup.)
public enum TerminationSignals {
    private static let received = Atomic<Int32>(0)

    /// Installs the handlers (idempotent).
    public static func install() {
        _ = received.load(ordering: .relaxed)  // initialise the static outside the handler
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig) { n in TerminationSignals.received.store(n, ordering: .relaxed) }
        }
    }

    /// The signal received, if any.
    public static var pending: Int32? {
        let n = received.load(ordering: .relaxed)
        return n == 0 ? nil : n
    }
}
