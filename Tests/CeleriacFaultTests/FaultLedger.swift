import Foundation

/// Collects each fault's count and prints the suite's summary line once every ``Fault`` has
/// reported, whatever order the tests ran in (Swift Testing has no suite teardown that prints).
actor FaultLedger {
    static let shared = FaultLedger()

    private var counts: [Fault: FaultCount] = [:]

    /// Records `count`; returns the summary line when this was the last fault to report.
    func record(_ count: FaultCount) -> String? {
        counts[count.fault] = count
        guard counts.count == Fault.allCases.count else { return nil }
        return Self.summary(Fault.allCases.compactMap { counts[$0] })
    }

    /// `fault suite: 6 faults, sent …, finished …, lost 0, run twice …`.
    static func summary(_ counts: [FaultCount]) -> String {
        let sent = counts.reduce(0) { $0 + $1.sent }
        let finished = counts.reduce(0) { $0 + $1.finished }
        let lost = counts.reduce(0) { $0 + $1.lost }
        let twice = counts.reduce(0) { $0 + $1.runTwice }
        let failing = counts.filter { $0.lost > 0 }.map(\.fault.rawValue)
        return "fault suite: \(counts.count) faults, sent \(sent), finished \(finished), lost \(lost), run twice \(twice)"
            + (failing.isEmpty ? "" : " — LOST in \(failing.joined(separator: ", "))")
    }
}
