public import Celeriac

/// The report as JSON (written with Core's JSON): when and where it ran, every row with every
/// run's value, and the per-command Redis breakdowns.
public enum ReportJSON {
    /// The document.
    ///
    /// - Parameters:
    ///   - rows: The measurements.
    ///   - context: Date, machine and settings, as flat fields.
    ///   - details: Extra sections (command breakdowns, RSS series), keyed by name.
    public static func document(rows: [Measurement], context: JSONObject, details: JSONObject) -> JSONValue {
        var doc = context
        doc.append("rows", .array(rows.map(row)))
        doc.append("details", .object(details))
        return .object(doc)
    }

    static func row(_ m: Measurement) -> JSONValue {
        var o = JSONObject()
        o.append("id", .string(m.id))
        o.append("section", .string(m.section))
        o.append("title", .string(m.title))
        o.append("unit", .string(m.unit))
        o.append("higher_is_better", .bool(m.higherIsBetter))
        o.append("swift", sample(m.swift))
        o.append("python", sample(m.python))
        o.append("ratio", m.ratio.map(JSONValue.double) ?? .null)
        o.append("target", m.target.map { .string($0.text) } ?? .null)
        o.append("target_met", m.targetMet.map(JSONValue.bool) ?? .null)
        o.append("note", m.note.map(JSONValue.string) ?? .null)
        return .object(o)
    }

    static func sample(_ s: Sample?) -> JSONValue {
        guard let s else { return .null }
        return [
            "median": .double(s.median), "min": .double(s.min), "max": .double(s.max),
            "runs": .array(s.runs.map(JSONValue.double)),
        ]
    }
}
