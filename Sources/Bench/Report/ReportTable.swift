/// The report as a Markdown table, one row per measurement grouped by section, readable in a
/// terminal and pasted as is into README's Performance section.
public enum ReportTable {
    /// The table, then the notes of rows that have one.
    ///
    /// - Parameters:
    ///   - rows: Measurements in print order; a row whose section differs from the previous
    ///     one starts a new group (a bold section row).
    ///   - pythonLabel: The Python column's heading.
    public static func markdown(_ rows: [Measurement], pythonLabel: String = "Python Celery 5.7") -> String {
        var lines = [
            "| measurement | unit | Swift median [min–max] | \(pythonLabel) median [min–max] | Swift vs Python | target |",
            "|---|---|---:|---:|---:|---|",
        ]
        var section: String?
        var notes: [String] = []
        for row in rows {
            if row.section != section {
                section = row.section
                lines.append("| **\(row.section)** | | | | | |")
            }
            var title = row.title
            if let note = row.note {
                notes.append(note)
                title += " [\(notes.count)]"
            }
            lines.append("| \(title) | \(row.unit) | \(cell(row.swift)) | \(cell(row.python)) | \(ratioCell(row)) | \(targetCell(row)) |")
        }
        if !notes.isEmpty {
            lines.append("")
            for (i, note) in notes.enumerated() { lines.append("\(i + 1). \(note)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func cell(_ sample: Sample?) -> String { sample.map(FigureFormat.sample) ?? "—" }

    /// Rates: `52×` (Swift's rate over Python's). Costs: `5.7× less`, or `1.2× more` when
    /// Swift costs more.
    static func ratioCell(_ row: Measurement) -> String {
        guard let r = row.ratio else { return "—" }
        if row.higherIsBetter { return FigureFormat.ratio(r) }
        return r >= 1 ? FigureFormat.ratio(r) + " less" : FigureFormat.ratio(1 / r) + " more"
    }

    static func targetCell(_ row: Measurement) -> String {
        guard let target = row.target else { return "" }
        switch row.targetMet {
        case true?: return target.text + " ✅"
        case false?: return target.text + " ❌"
        case nil: return target.text
        }
    }
}
