/// A child's wait status in billiard's words, as Celery's `WorkerLostError` quotes it:
/// `signal 9 (SIGKILL)`, `exitcode 1`.
enum WaitStatus {
    static func human(_ status: Int32) -> String {
        let signal = status & 0x7f
        guard signal != 0 else { return "exitcode \((status >> 8) & 0xff)" }
        return names[Int(signal)].map { "signal \(signal) (\($0))" } ?? "signal \(signal)"
    }

    /// billiard's `SIGMAP` on Linux: Python's `signal` names by number, where the alias sorted
    /// last wins except for SIGHUP and SIGABRT (so 2 is `SIG_SETMASK` and 17 `SIGCLD`, as
    /// Celery prints them).
    private static let names: [Int: String] = [
        1: "SIGHUP", 2: "SIG_SETMASK", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
        9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
        16: "SIGSTKFLT", 17: "SIGCLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU",
        23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGPOLL",
        30: "SIGPWR", 31: "SIGSYS",
    ]
}
