/// Python's textual representations of JSON values, as Celery puts them on the wire.
///
/// Two flavours exist and Celery uses both:
/// - ``repr(_:)`` is Python's builtin `repr` (quote choice, `\n`/`\xNN` escapes). Celery uses
///   it for exception summaries such as `NotRegistered('nope.unknown')` (see ``ExceptionInfo``).
/// - ``saferepr(_:maxlen:maxlevels:)`` is `celery.utils.saferepr`, which Celery uses for the
///   `argsrepr`/`kwargsrepr` headers and the `args`/`kwargs`/`result` event fields. It differs
///   from `repr`: strings are *always* single-quoted with only `'` escaped (a newline stays a
///   raw newline, a backslash stays single), containers nested deeper than `maxlevels` become
///   `[...]`/`{...}`, and output is cut near `maxlen` characters ending in `, ...` plus the
///   closing brackets.
///
/// Never parse these strings as JSON; they are for display.
public enum PythonRepr {
    /// The size Celery caps `argsrepr`/`kwargsrepr` at (`argsrepr_maxsize`).
    public static let defaultMaxLength = 1024
    /// Celery's default `task_repr_maxlevels`.
    public static let defaultMaxLevels = 3

    /// `saferepr(tuple(args), 1024)`: what `.delay(...)`/`apply_async(args=(...))` sends,
    /// e.g. `(2, 3)`, `(2,)`, `()`.
    public static func argsRepr(_ args: [JSONValue], maxlen: Int? = defaultMaxLength) -> String {
        var r = SafeRepr(maxlen: maxlen, maxlevels: defaultMaxLevels)
        return r.run(.tuple(args))
    }

    /// `saferepr(list(args), 1024)`: what `send_task(name, args=[...])` sends, e.g. `[7, 8]`.
    public static func argsListRepr(_ args: [JSONValue], maxlen: Int? = defaultMaxLength) -> String {
        var r = SafeRepr(maxlen: maxlen, maxlevels: defaultMaxLevels)
        return r.run(.value(.array(args)))
    }

    /// `saferepr(kwargs, 1024)`, e.g. `{'x': 10, 'y': 20}`.
    public static func kwargsRepr(_ kwargs: JSONObject, maxlen: Int? = defaultMaxLength) -> String {
        var r = SafeRepr(maxlen: maxlen, maxlevels: defaultMaxLevels)
        return r.run(.value(.object(kwargs)))
    }

    /// `celery.utils.saferepr.saferepr(value, maxlen, maxlevels)`.
    public static func saferepr(_ value: JSONValue, maxlen: Int? = defaultMaxLength, maxlevels: Int = defaultMaxLevels) -> String {
        var r = SafeRepr(maxlen: maxlen, maxlevels: maxlevels)
        return r.run(.value(value))
    }

    /// Python's builtin `repr` of the value decoded from JSON (`None`, `True`, `'it'`, `[1, 2]`).
    public static func repr(_ value: JSONValue) -> String {
        var out = ""
        appendRepr(value, to: &out)
        return out
    }

    /// Python's `repr` of a tuple of values: `(1,)`, `('a', False)`, `()`.
    public static func tupleRepr(_ values: [JSONValue]) -> String {
        var out = "("
        for (i, v) in values.enumerated() {
            if i > 0 { out += ", " }
            appendRepr(v, to: &out)
        }
        out += values.count == 1 ? ",)" : ")"
        return out
    }

    /// Python's `repr(str)`: single quotes unless the text contains `'` and no `"`;
    /// escapes `\\`, the quote, `\t` `\n` `\r`, and non-printable characters as
    /// `\xNN`/`\uNNNN`/`\UNNNNNNNN`; printable non-ASCII stays as is (Python 3).
    public static func stringRepr(_ s: String) -> String {
        var hasSingle = false, hasDouble = false
        for u in s.utf8 {
            if u == UInt8(ascii: "'") { hasSingle = true } else if u == UInt8(ascii: "\"") { hasDouble = true }
        }
        let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for c in s.unicodeScalars {
            switch c {
            case quote, "\\":
                out.append("\\")
                out.append(c)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            default:
                if isPrintable(c) {
                    out.append(c)
                } else {
                    let v = c.value
                    let (prefix, width) = v < 0x100 ? ("\\x", 2) : v < 0x10000 ? ("\\u", 4) : ("\\U", 8)
                    let hex = String(v, radix: 16)
                    out.append(contentsOf: (prefix + String(repeating: "0", count: width - hex.count) + hex).unicodeScalars)
                }
            }
        }
        out.append(quote)
        return String(out)
    }

    /// Python's `repr(float)`: the shortest round-trip digits, in positional form for
    /// decimal exponents -4…15 (`0.0001`, `1e-05`, `1000000000000000.0`, `1e+16`),
    /// always with `.0` or an exponent; `inf`, `-inf`, `nan`.
    public static func floatRepr(_ d: Double) -> String {
        PythonFloat.repr(d)
    }

    /// Python's `str.isprintable()` for one character: everything except the Unicode
    /// categories "Other" and "Separator", with the ASCII space allowed.
    static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x7F { return c.value >= 0x20 }
        if c.value < 0xA0 { return false }
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned,
            .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    static func appendRepr(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let i): out += String(i)
        case .bigInt(let s): out += s
        case .double(let d): out += floatRepr(d)
        case .string(let s): out += stringRepr(s)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += ", " }
                appendRepr(v, to: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, m) in o.enumerated() {
                if i > 0 { out += ", " }
                out += stringRepr(m.key)
                out += ": "
                appendRepr(m.value, to: &out)
            }
            out += "}"
        }
    }
}

/// A port of `celery.utils.saferepr._saferepr`: a token stream over the value plus the
/// `maxlen` budget, so truncation lands where Celery's does.
private struct SafeRepr {
    enum Root { case value(JSONValue), tuple([JSONValue]) }

    enum Token {
        /// Punctuation. `truncatable` separators are dropped after the cut; brackets are not.
        case literal(String, truncatable: Bool, direction: Int)
        case key(String)
        case quoted(String)
        case text(String)
    }

    struct Frame {
        enum Items { case list([JSONValue]), dict(JSONObject) }
        var items: Items
        var open: String
        var close: String
        var opened = false
        var index = 0
        /// Dict: 0 = key next, 1 = `: ` next, 2 = value next. List: unused.
        var stage = 0
        var count: Int {
            switch items {
            case .list(let a): a.count
            case .dict(let o): o.count
            }
        }
    }

    var maxlen: Int?
    let maxlevels: Int
    var stack: [Frame] = []
    var level = 0
    var pending: Token?

    init(maxlen: Int?, maxlevels: Int) {
        self.maxlen = maxlen
        self.maxlevels = maxlevels
    }

    mutating func run(_ root: Root) -> String {
        switch root {
        case .tuple(let a):
            stack.append(Frame(items: .list(a), open: "(", close: a.count == 1 ? ",)" : ")"))
        case .value(let v):
            pending = expand(v)
        }
        var out = ""
        while let token = next() {
            if let m = maxlen, m <= 0 {
                if case .literal(let v, _, let dir) = token, dir < 0 {
                    out += v
                    continue
                }
                out += ", ..."
                // Close every container still open, except one whose opening bracket was the
                // token just cut off: it was never shown, so neither is its closing bracket.
                var justOpened = false
                if case .literal(_, _, let dir) = token, dir > 0 { justOpened = true }
                for (i, f) in stack.enumerated().reversed() where f.opened {
                    if justOpened && i == stack.count - 1 { continue }
                    out += f.close
                }
                return out
            }
            let val: String
            switch token {
            case .literal(let v, _, _): val = v
            case .key(let k): val = Self.formatChars(k, maxlen)
            case .quoted(let s): val = Self.formatChars(s, maxlen)
            case .text(let t): val = Self.truncate(t, maxlen)
            }
            out += val
            if let m = maxlen { maxlen = m - val.unicodeScalars.count }
        }
        return out
    }

    /// The next token, or `nil` at the end. Containers are pushed as frames and yield their
    /// opening bracket first; `level` counts open containers as reprstream's does.
    mutating func next() -> Token? {
        if let p = pending {
            pending = nil
            return p
        }
        while !stack.isEmpty {
            let top = stack.count - 1
            if !stack[top].opened {
                stack[top].opened = true
                level += 1
                return .literal(stack[top].open, truncatable: false, direction: 1)
            }
            let f = stack[top]
            if f.index >= f.count {
                stack.removeLast()
                level -= 1
                return .literal(f.close, truncatable: false, direction: -1)
            }
            switch f.items {
            case .list(let a):
                if f.stage == 1 {
                    stack[top].stage = 0
                    return .literal(", ", truncatable: true, direction: 0)
                }
                stack[top].index += 1
                if stack[top].index < f.count { stack[top].stage = 1 }
                if let t = expand(a[f.index]) { return t }
            case .dict(let o):
                switch f.stage {
                case 0:
                    stack[top].stage = 1
                    return .key(o[f.index].key)
                case 1:
                    stack[top].stage = 2
                    return .literal(": ", truncatable: true, direction: 0)
                case 2:
                    stack[top].stage = 3
                    stack[top].index += 1
                    if stack[top].index == f.count { stack[top].stage = 0 }
                    if let t = expand(o[f.index].value) { return t }
                default:
                    stack[top].stage = 0
                    return .literal(", ", truncatable: true, direction: 0)
                }
            }
        }
        return nil
    }

    /// A scalar's token, the elision literal for a too-deep container, or `nil` after
    /// pushing a container frame.
    mutating func expand(_ v: JSONValue) -> Token? {
        switch v {
        case .null: return .text("None")
        case .bool(let b): return .text(b ? "True" : "False")
        case .int(let i): return .text(String(i))
        case .bigInt(let s): return .text(s)
        case .double(let d): return .text(PythonRepr.floatRepr(d))
        case .string(let s): return .quoted(s)
        case .array(let a):
            if maxlevels > 0 && level >= maxlevels { return .literal("[...]", truncatable: false, direction: 0) }
            stack.append(Frame(items: .list(a), open: "[", close: "]"))
            return nil
        case .object(let o):
            if maxlevels > 0 && level >= maxlevels { return .literal("{...}", truncatable: false, direction: 0) }
            stack.append(Frame(items: .dict(o), open: "{", close: "}"))
            return nil
        }
    }

    /// celery's `_format_chars`: single quotes, only `'` escaped, after truncation.
    static func formatChars(_ s: String, _ maxlen: Int?) -> String {
        var t = truncate(s, maxlen)
        if t.utf8.contains(UInt8(ascii: "'")) { t = t.replacing("'", with: "\\'") }
        return "'" + t + "'"
    }

    /// celery's `truncate`: if `len(s) >= maxlen`, keep the first `maxlen` characters, cut
    /// back to the last space if there is one, and append `...`. Only looks at the first
    /// `maxlen` characters, so a 100 MB string costs nothing.
    static func truncate(_ s: String, _ maxlen: Int?) -> String {
        guard let maxlen, maxlen != 0 else { return s }
        let scalars = s.unicodeScalars
        guard maxlen > 0 else {
            // Python slices s[:negative]; never reached from run(), kept total for safety.
            return "..."
        }
        guard let end = scalars.index(scalars.startIndex, offsetBy: maxlen, limitedBy: scalars.endIndex) else {
            return s
        }
        var prefix = Substring(scalars[..<end])
        if let space = prefix.lastIndex(of: " ") { prefix = prefix[..<space] }
        return prefix + "..."
    }
}
