/// The fields of `worker-online`, `worker-heartbeat` and `worker-offline`, typed.
///
/// All optional for decoding, since other Celery versions and non-Python workers may omit some;
/// a present field of an unexpected type reads as `nil` and stays in ``CeleryEvent/fields``.
public struct WorkerEventFields: Sendable, Hashable {
    /// Heartbeat interval in seconds (2.0 by default). Monitors consider a worker alive while
    /// `local receive time of the last heartbeat + 2 * freq` is in the future.
    public var freq: Double?
    /// Number of tasks executing now.
    public var active: Int?
    /// Number of tasks processed since start.
    public var processed: Int?
    /// 1, 5 and 15 minute load averages, rounded by Celery to 2 decimals.
    public var loadavg: [Double]?
    /// Software name, `"py-celery"` for Python workers.
    public var swIdent: String?
    /// Software version, e.g. `"5.7.0"`.
    public var swVer: String?
    /// Operating system, `platform.system()`: `"Linux"`, `"Darwin"`.
    public var swSys: String?

    /// Creates the fields.
    public init(
        freq: Double? = nil, active: Int? = nil, processed: Int? = nil, loadavg: [Double]? = nil,
        swIdent: String? = nil, swVer: String? = nil, swSys: String? = nil
    ) {
        self.freq = freq
        self.active = active
        self.processed = processed
        self.loadavg = loadavg
        self.swIdent = swIdent
        self.swVer = swVer
        self.swSys = swSys
    }

    /// Reads the typed view of an event's fields.
    init(reading f: JSONObject) {
        var load: [Double]?
        if let items = f["loadavg"]?.arrayValue {
            let numbers = items.compactMap(\.doubleValue)
            if numbers.count == items.count { load = numbers }
        }
        self.init(
            freq: f.eventDouble("freq"), active: f.eventInt("active"), processed: f.eventInt("processed"),
            loadavg: load, swIdent: f.eventString("sw_ident"), swVer: f.eventString("sw_ver"),
            swSys: f.eventString("sw_sys"))
    }
}
