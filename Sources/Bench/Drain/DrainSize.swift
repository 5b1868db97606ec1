/// How many tasks a drain run takes: enough for the run to last about ``seconds`` at the rate
/// a calibration drain showed, within ``minimum``…``maximum``. So a slow worker is not kept
/// busy for minutes and a fast one is not timed over a few milliseconds.
public struct DrainSize: Sendable, Hashable {
    /// The run length aimed at.
    public var seconds: Double
    /// Fewest tasks per run.
    public var minimum: Int
    /// Most tasks per run (also bounds Redis memory for large payloads).
    public var maximum: Int
    /// Tasks in the unmeasured calibration drain.
    public var calibration: Int

    public init(seconds: Double, minimum: Int, maximum: Int, calibration: Int) {
        self.seconds = seconds
        self.minimum = minimum
        self.maximum = maximum
        self.calibration = calibration
    }

    /// Tasks per run for a worker that drained at `rate` tasks/s.
    public func tasks(atRate rate: Double) -> Int {
        guard rate.isFinite, rate > 0 else { return minimum }
        return min(maximum, max(minimum, Int(rate * seconds)))
    }
}
