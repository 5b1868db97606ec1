import Celeriac

/// How figures are written in the table: few digits, thousands grouped, so a row reads at a
/// glance (`45,120`, `865`, `12.4`, `0.42`).
public enum FigureFormat {
    /// A number with about three significant digits, integers above 100 with grouped thousands.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "n/a" : (value > 0 ? "∞" : "-∞") }
        let magnitude = abs(value)
        if magnitude >= 100 { return grouped(Int(value.rounded())) }
        if magnitude >= 10 { return fixed(value, decimals: 1) }
        if magnitude >= 0.01 || magnitude == 0 { return fixed(value, decimals: 2) }
        return fixed(value, decimals: 4)
    }

    /// `median [min–max]`, or just the value for a single run.
    public static func sample(_ sample: Sample) -> String {
        if sample.runs.count == 1 { return number(sample.median) }
        return "\(number(sample.median)) [\(number(sample.min))–\(number(sample.max))]"
    }

    /// A ratio as `52×`, `3.4×`, `0.45×`.
    public static func ratio(_ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        if value >= 10 { return grouped(Int(value.rounded())) + "×" }
        if value >= 1 { return fixed(value, decimals: 1) + "×" }
        return fixed(value, decimals: 2) + "×"
    }

    /// An integer with `,` between thousands, as qmon writes counts (``Celeriac/GroupedDigits``).
    public static func grouped(_ value: Int) -> String { GroupedDigits.string(value) }

    /// `value` rounded half away from zero to `decimals` places, without Foundation's formatter.
    static func fixed(_ value: Double, decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int(scaled / scale)
        let fraction = Int(scaled - Double(whole) * scale)
        var text = String(fraction)
        while text.count < decimals { text = "0" + text }
        return (value < 0 && scaled != 0 ? "-" : "") + String(whole) + (decimals > 0 ? "." + text : "")
    }
}
