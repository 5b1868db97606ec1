/// Integers written with `,` between thousands (`1,234,567`, `-45,120`), the way qmon and the
/// benchmark write counts.
///
/// No locale and no Foundation formatter, so a screen or a table reads the same on every machine
/// and in tests. In Core because both the monitor and the benchmark use it and neither should
/// depend on the other for it.
public enum GroupedDigits {
    /// `n` with a `,` every three digits from the right; a `-` in front of a negative number.
    /// Every `Int` works, `Int.min` included (the digits come from its magnitude).
    public static func string(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }
}
