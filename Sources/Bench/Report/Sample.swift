/// The figures of one measurement repeated: every run's value, and the median, min and max the
/// report shows (the issue asks for the median of at least three runs with its spread).
public struct Sample: Sendable, Hashable {
    /// Each run's value, in the order measured.
    public let runs: [Double]

    /// A sample of at least one run; `nil` for none.
    public init?(_ runs: [Double]) {
        guard !runs.isEmpty else { return nil }
        self.runs = runs
    }

    /// The middle value; the mean of the two middle values for an even count.
    public var median: Double {
        let sorted = runs.sorted()
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }

    /// The smallest run.
    public var min: Double { runs.min()! }
    /// The largest run.
    public var max: Double { runs.max()! }
}
