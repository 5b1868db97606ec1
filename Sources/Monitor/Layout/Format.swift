import Celeriac

/// Number, time and duration formats shared by the layouts: short, fixed-ish width, no locale
/// (so frames are the same on every machine and in tests). ``count(_:)`` is Core's
/// ``Celeriac/GroupedDigits``, which the benchmark's tables use too.
public enum Format {
    /// An age in the largest sensible units: `0s`, `42s`, `3m05s`, `2h04m`, `3d02h`.
    static func age(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = max(0, whole(seconds))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(pad2(s % 60))s" }
        if s < 86_400 { return "\(s / 3600)h\(pad2(s % 3600 / 60))m" }
        return "\(s / 86_400)d\(pad2(s % 86_400 / 3600))h"
    }

    /// A run time: `850µs`, `12ms`, `1.25s`, `2m05s`.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite else { return "-" }
        if seconds < 0.001 { return "\(whole((seconds * 1e6).rounded()))µs" }
        if seconds < 1 { return "\(whole((seconds * 1000).rounded()))ms" }
        if seconds < 60 { return fixed(seconds, 2) + "s" }
        return age(seconds)
    }

    /// A rate: `0`, `0.35`, `4.2`, `120`, `1.2k`.
    static func rate(_ v: Double) -> String {
        guard v.isFinite, v > 0 else { return "0" }
        if v < 1 { return fixed(v, 2) }
        if v < 100 { return fixed(v, 1) }
        if v < 10_000 { return "\(whole(v.rounded()))" }
        return fixed(v / 1000, 1) + "k"
    }

    /// A count with thousands separators: `1,234,567`.
    public static func count(_ n: Int) -> String { GroupedDigits.string(n) }

    /// `v` with `places` decimals, without Foundation.
    static func fixed(_ v: Double, _ places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = whole((abs(v) * scale).rounded())
        let whole = scaled / Int(scale)
        var frac = String(scaled % Int(scale))
        while frac.count < places { frac = "0" + frac }
        return (v < 0 ? "-" : "") + "\(whole)" + (places > 0 ? "." + frac : "")
    }

    /// Local wall-clock time of an epoch time: `2024-05-01 12:00:03.250`.
    ///
    /// - Parameters:
    ///   - t: Epoch seconds.
    ///   - utcOffset: Celery's convention, hours *west* of UTC (``ClusterState/Configuration/localUTCOffset``).
    ///   - withDate: Include the date.
    static func clock(_ t: Double, utcOffset: Double, withDate: Bool = true) -> String {
        // Beyond years 1–9999 (a timestamp is whatever its sender wrote) there is no date to show.
        let local = t - utcOffset * 3600
        guard local.isFinite, local > -62_135_596_800, local < 253_402_300_800 else { return "?" }
        let millisTotal = Int((local * 1000).rounded(.down))
        let days = Int((Double(millisTotal) / 86_400_000).rounded(.down))
        let msOfDay = millisTotal - days * 86_400_000
        let h = msOfDay / 3_600_000, m = msOfDay / 60_000 % 60, s = msOfDay / 1000 % 60, ms = msOfDay % 1000
        let time = "\(pad2(h)):\(pad2(m)):\(pad2(s)).\(ms < 10 ? "00" : ms < 100 ? "0" : "")\(ms)"
        guard withDate else { return time }
        let (y, mo, d) = CeleryDate.civilFromDays(days)
        return "\(y)-\(pad2(mo))-\(pad2(d)) \(time)"
    }

    /// `v` rounded down to an `Int`, clamped to ±2^62 rather than trapping (values come from
    /// events: a run time of `1e300` is legal JSON).
    static func whole(_ v: Double) -> Int {
        guard v.isFinite else { return v > 0 ? 1 << 62 : -(1 << 62) }
        return Int(min(max(v.rounded(.down), -0x1p62), 0x1p62))
    }

    /// A signal number's name, as workers report `signum` for terminated tasks.
    static func signalName(_ n: Int?) -> String? {
        guard let n else { return nil }
        let names = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL", 10: "SIGUSR1", 12: "SIGUSR2", 15: "SIGTERM"]
        return names[n] ?? "signal \(n)"
    }

    /// The short pool name from `inspect stats`' implementation path, the module's last part:
    /// `celery.concurrency.prefork:TaskPool` → `prefork`, `celeriac.concurrency.async:AsyncPool`
    /// → `async`.
    static func poolName(_ implementation: String?) -> String {
        guard let implementation else { return "-" }
        let parts = implementation.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let module = String(parts[0])
        // Celeriac workers before the kind was in the module path sent `celeriac:AsyncPool` and
        // `celeriac:ProcessPool`: there only the class names the kind.
        if module == "celeriac", parts.count == 2, parts[1].hasSuffix("Pool"), parts[1].count > 4 {
            return parts[1].dropLast(4).lowercased()
        }
        return module.split(separator: ".").last.map(String.init) ?? module
    }

    private static func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
