/// One row of the report: a figure for Swift and one for Python Celery measured the same way in
/// the same run, how many times better Swift is, and the target for it.
public struct Measurement: Sendable {
    /// A stable key for the JSON file, e.g. `drain.results_events`.
    public var id: String
    /// The group the row is printed under, e.g. "Worker drain".
    public var section: String
    /// What was measured, as the table says it.
    public var title: String
    /// The unit of both figures, e.g. `tasks/s`.
    public var unit: String
    /// Whether a larger figure is better (rates) or a smaller one (latency, memory, commands).
    public var higherIsBetter: Bool
    /// The Swift side; `nil` when not measured.
    public var swift: Sample?
    /// The Python Celery side; `nil` when it has no counterpart or was not measured.
    public var python: Sample?
    /// The target for this row, if it has one.
    public var target: Target?
    /// A short remark printed under the table (how the row was measured when not obvious).
    public var note: String?

    /// Creates a row.
    public init(
        id: String, section: String, title: String, unit: String, higherIsBetter: Bool,
        swift: Sample?, python: Sample?, target: Target? = nil, note: String? = nil
    ) {
        self.id = id
        self.section = section
        self.title = title
        self.unit = unit
        self.higherIsBetter = higherIsBetter
        self.swift = swift
        self.python = python
        self.target = target
        self.note = note
    }

    /// How many times better the Swift median is: Swift ÷ Python for rates, Python ÷ Swift for
    /// costs; `nil` without both sides or with a zero divisor.
    public var ratio: Double? {
        guard let s = swift?.median, let p = python?.median else { return nil }
        let (num, den) = higherIsBetter ? (s, p) : (p, s)
        guard den > 0 else { return nil }
        return num / den
    }

    /// Whether the target is met, judged on the Swift median (or the ratio); `nil` without a
    /// target or without the figure it needs.
    public var targetMet: Bool? {
        guard let target else { return nil }
        switch target {
        case .atLeast(let v): return swift.map { $0.median >= v }
        case .atMost(let v): return swift.map { $0.median <= v }
        case .ratioAtLeast(let v): return ratio.map { $0 >= v }
        }
    }
}

/// A row's goal from issue #6.
public enum Target: Sendable, Hashable {
    /// The Swift median must be at least this.
    case atLeast(Double)
    /// The Swift median must be at most this.
    case atMost(Double)
    /// Swift must be at least this many times better than Python.
    case ratioAtLeast(Double)

    /// As the table prints it: `≥ 30,000`, `≤ 5`, `≥ 20×`.
    public var text: String {
        switch self {
        case .atLeast(let v): "≥ " + FigureFormat.number(v)
        case .atMost(let v): "≤ " + FigureFormat.number(v)
        case .ratioAtLeast(let v): "≥ " + FigureFormat.ratio(v)
        }
    }
}
