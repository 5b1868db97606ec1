/// Terminal display width of text, as `wcwidth` measures it: combining marks take no column,
/// East Asian wide characters and emoji take two, everything else one.
///
/// Layouts measure, pad and truncate with these functions instead of `String.count`, so a row
/// of CJK task names or emoji arguments never runs past the screen edge and wraps (which is
/// how `celery events` corrupts its screen). Everything shown is first passed through
/// ``sanitize(_:)``: a newline or escape sequence in task arguments must never reach the terminal.
public enum DisplayWidth {
    /// Columns one character (grapheme) takes: 0, 1 or 2.
    public static func of(_ c: Character) -> Int {
        let scalars = c.unicodeScalars
        guard let first = scalars.first else { return 0 }
        // An emoji presentation selector makes the grapheme wide.
        if scalars.count > 1, scalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
        return of(first)
    }

    /// Columns one scalar takes (like `wcwidth`, with 0 for controls).
    public static func of(_ s: Unicode.Scalar) -> Int {
        let v = s.value
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return 0 }
        if v < 0x300 { return 1 }
        switch s.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if v == 0x200B { return 0 }
        return isWide(v) ? 2 : 1
    }

    /// Columns a string takes.
    public static func of(_ text: String) -> Int {
        var n = 0
        for c in text {
            if c.isASCII { n += 1 } else { n += of(c) }
        }
        return n
    }

    /// East Asian Wide/Fullwidth ranges and the emoji blocks (a compact wcwidth table).
    private static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3,
            0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB,
            0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE, 0x26D4, 0x26EA, 0x26F2...0x26F3, 0x26F5, 0x26FA,
            0x26FD, 0x2705, 0x270A...0x270B, 0x2728, 0x274C, 0x274E, 0x2753...0x2755, 0x2757,
            0x2795...0x2797, 0x27B0, 0x27BF, 0x2B1B...0x2B1C, 0x2B50, 0x2B55,
            0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
            0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
            0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1B000...0x1B2FF,
            0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F251, 0x1F300...0x1F64F,
            0x1F680...0x1F6FF, 0x1F7E0...0x1F7EB, 0x1F90C...0x1F9FF, 0x1FA70...0x1FAFF,
            0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }

    /// The longest prefix of `text` that fits in `width` columns (a wide character that would
    /// straddle the edge is left out).
    public static func prefix(_ text: String, width: Int) -> String {
        guard width > 0 else { return "" }
        var used = 0
        var end = text.startIndex
        for i in text.indices {
            let w = text[i].isASCII ? 1 : of(text[i])
            if used + w > width { break }
            used += w
            end = text.index(after: i)
        }
        return String(text[..<end])
    }

    /// `text` cut to `width` columns, ending in `…` when something was cut.
    public static func truncate(_ text: String, to width: Int) -> String {
        guard width > 0 else { return "" }
        if of(text) <= width { return text }
        return prefix(text, width: width - 1) + "…"
    }

    /// `text` truncated or padded with spaces to exactly `width` columns.
    ///
    /// - Parameters:
    ///   - text: The text.
    ///   - width: Target width.
    ///   - alignRight: Pad on the left (numbers) instead of the right.
    public static func fit(_ text: String, to width: Int, alignRight: Bool = false) -> String {
        guard width > 0 else { return "" }
        let t = truncate(text, to: width)
        let pad = String(repeating: " ", count: max(0, width - of(t)))
        return alignRight ? pad + t : t + pad
    }

    /// Splits `text` into lines of at most `width` columns, at newlines and wherever a line is
    /// full (hard wrap: arguments and tracebacks have no useful word boundaries).
    public static func wrap(_ text: String, width: Int) -> [String] {
        guard width > 0 else { return [] }
        var out: [String] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = sanitize(String(rawLine))
            if line.isEmpty {
                out.append("")
                continue
            }
            var current = ""
            var used = 0
            for c in line {
                let w = c.isASCII ? 1 : of(c)
                if used + w > width {
                    out.append(current)
                    current = ""
                    used = 0
                }
                current.append(c)
                used += w
            }
            out.append(current)
        }
        return out
    }

    /// `text` made safe for one screen line: newlines become `↵`, tabs a space, other control
    /// characters (escape sequences included) `�`.
    public static func sanitize(_ text: String) -> String {
        if !text.unicodeScalars.contains(where: isControl) { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            switch s.value {
            case 0x0A: out.append("↵")
            case 0x0D: continue
            case 0x09: out.append(" ")
            default: out.append(isControl(s) ? "\u{FFFD}" : s)
            }
        }
        return String(out)
    }

    private static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (s.value >= 0x7F && s.value < 0xA0)
    }
}
