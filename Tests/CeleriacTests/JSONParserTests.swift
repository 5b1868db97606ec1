import Celeriac
import CeleriacTestTags
import CeleriacTestSupport
import Testing

@Suite(.tags(.unit)) struct JSONParserTests {
    @Test func keepsBigIntegersExact() throws {
        #expect(try JSONParser.parse("1180591620717411303427") == .bigInt("1180591620717411303427"))  // 2**70+3
        #expect(try JSONParser.parse("-9223372036854775809") == .bigInt("-9223372036854775809"))
        #expect(try JSONParser.parse("9223372036854775808") == .bigInt("9223372036854775808"))
        #expect(try JSONParser.parse("-9223372036854775808") == .int(.min))
        #expect(try JSONParser.parse("9223372036854775807") == .int(.max))
        #expect(try JSONParser.parse("-0") == .int(0))
        #expect(try JSONParser.parse("[0, 7, -12]") == [0, 7, -12])
    }

    @Test func keepsFloatBitsExact() throws {
        #expect(try JSONParser.parse("0.30000000000000004") == .double(0.30000000000000004))
        #expect(try JSONParser.parse("1795571963.3942287").doubleValue?.bitPattern == (1795571963.3942287).bitPattern)
        #expect(try JSONParser.parse("1795571963.3942287").doubleValue != 1795571963.3942292)
        #expect(try JSONParser.parse("2.0") == .double(2))
        #expect(try JSONParser.parse("1E2") == .double(100))
        #expect(try JSONParser.parse("1e-05") == .double(0.00001))
        #expect(try JSONParser.parse("-0.0").doubleValue?.sign == .minus)
        #expect(try JSONParser.parse("1e400") == .double(.infinity))
        #expect(try JSONParser.parse("-1e400") == .double(-.infinity))
        #expect(try JSONParser.parse("1e-400") == .double(0))
        #expect(try JSONParser.parse("0.1e1") == .double(1))
        let manyDigits = "3." + String(repeating: "1", count: 5000)
        #expect(try JSONParser.parse(manyDigits) == .double(3.111111111111111))
    }

    @Test func acceptsPythonNonFiniteLiterals() throws {
        let value = try JSONParser.parse("[NaN, Infinity, -Infinity]")
        let items = try #require(value.arrayValue)
        #expect(items[0].doubleValue?.isNaN == true)
        #expect(items[1] == .double(.infinity))
        #expect(items[2] == .double(-.infinity))
    }

    @Test func keepsBoolsAndIntegersApart() throws {
        let value = try JSONParser.parse(#"[true, 1, false, 0, null]"#)
        #expect(value == [.bool(true), .int(1), .bool(false), .int(0), .null])
    }

    @Test func keepsKeyOrderAndLetsTheLastDuplicateWin() throws {
        let value = try JSONParser.parse(#"{"z": 1, "a": 2, "m": {"y": 0, "b": 1}}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(value["m"]?.objectValue?.keys == ["y", "b"])
        // As a Python dict: first position, last value.
        let dup = try JSONParser.parse(#"{"a": 1, "b": 2, "a": 3}"#)
        #expect(dup.objectValue?.members == [JSONMember("a", 3), JSONMember("b", 2)])
        // Escaped and raw spellings of one key are the same key.
        let escaped = try JSONParser.parse(#"{"a": 1, "\u0061": 2}"#)
        #expect(escaped.objectValue?.members == [JSONMember("a", 2)])
    }

    @Test func handlesLargeObjectsAndDuplicatesInThem() throws {
        var text = "{"
        for k in 0..<2000 { text += "\"k\(k)\": \(k), " }
        text += "\"k5\": -1}"
        let object = try #require(try JSONParser.parse(text).objectValue)
        #expect(object.count == 2000)
        #expect(object[5] == JSONMember("k5", -1))
        #expect(object[1999] == JSONMember("k1999", 1999))
    }

    @Test func decodesEscapesAndSurrogates() throws {
        #expect(try JSONParser.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try JSONParser.parse(#""\u00e9\u00C9\u2028""#) == .string("éÉ\u{2028}"))
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONParser.parse(#""\uDBFF\uDFFF""#) == .string("\u{10FFFF}"))
        #expect(try JSONParser.parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try JSONParser.parse("\"é 😀 raw\"") == .string("é 😀 raw"))
    }

    @Test func replacesLoneSurrogatesInsteadOfRejecting() throws {
        #expect(try JSONParser.parse(#""\ud800""#) == .string("\u{FFFD}"))
        #expect(try JSONParser.parse(#""a\udc00b""#) == .string("a\u{FFFD}b"))
        #expect(try JSONParser.parse(#""\ud83dx""#) == .string("\u{FFFD}x"))
        // A high surrogate followed by another high one that does pair up.
        #expect(try JSONParser.parse(#""\ud83d\ud83d\ude00""#) == .string("\u{FFFD}😀"))
        #expect(try JSONParser.parse(#""\ud83d\u0041""#) == .string("\u{FFFD}A"))
    }

    @Test func repairsInvalidUTF8() throws {
        let bytes: [UInt8] = [0x22, 0x61, 0xFF, 0x62, 0xC3, 0x22]
        #expect(try JSONParser.parse(bytes) == .string("a\u{FFFD}b\u{FFFD}"))
        let escaped: [UInt8] = [0x22, 0xE2, 0x5C, 0x6E, 0x80, 0x22]
        #expect(try JSONParser.parse(escaped) == .string("\u{FFFD}\n\u{FFFD}"))
    }

    /// Python's `json.loads` of bytes rejects what is not UTF-8; so does the validating parser,
    /// at the first byte of the bad sequence, in plain and escaped strings and in keys.
    @Test(arguments: [
        ([0x22, 0x61, 0xFF, 0x22], 2),  // a byte that never starts UTF-8
        ([0x22, 0x80, 0x22], 1),  // a lone continuation byte
        ([0x22, 0xC3, 0x22], 1),  // a truncated sequence at the closing quote
        ([0x22, 0xC0, 0x80, 0x22], 1),  // overlong NUL
        ([0x22, 0xE0, 0x80, 0x80, 0x22], 1),  // overlong three-byte form
        ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),  // an encoded surrogate (U+D800)
        ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1),  // above U+10FFFF
        ([0x22, 0xF0, 0x9F, 0x98, 0x41, 0x22], 1),  // a four-byte sequence cut short
        ([0x22, 0x5C, 0x6E, 0xE2, 0x82, 0x22], 3),  // after an escape
        ([0x7B, 0x22, 0x6B, 0xFE, 0x22, 0x3A, 0x31, 0x7D], 3),  // in a key
        (Array(#"["0123456789abcdef0123456789"#.utf8) + [0xFF, 0x22, 0x5D], 28),  // after a long ASCII run
    ] as [([UInt8], Int)])
    func validatingRejectsInvalidUTF8(bytes: [UInt8], offset: Int) throws {
        #expect(throws: JSONError(.invalidUTF8, offset: offset, byte: bytes[offset])) {
            try JSONParser.parse(bytes, validatingUTF8: true)
        }
        // Without validation the same text parses, repaired.
        #expect(throws: Never.self) { try JSONParser.parse(bytes) }
    }

    @Test func validatingAcceptsEveryWellFormedSequence() throws {
        let text = "é € 😀 \u{FFFF} \u{10FFFF} \u{E000} \u{D7FF} ascii"
        let json = Array(#"{"\#(text)": ["\#(text)", "\n\#(text)"]}"#.utf8)
        let value = try JSONParser.parse(json, validatingUTF8: true)
        #expect(value == .object([text: .array([.string(text), .string("\n" + text)])]))
        #expect(try JSONParser.parse(json) == value)
        #expect("\(JSONError(.invalidUTF8, offset: 3, byte: 0xFF))" == "invalid JSON at byte 3: invalid UTF-8 in string (0xff)")
    }

    @Test func allowsWhitespaceAnywhereBetweenTokens() throws {
        let value = try JSONParser.parse(" \t\r\n{ \"a\" \n: [ 1 ,\t2 ] , \"b\" : { } }\n ")
        #expect(value == .object(["a": [1, 2], "b": .object(JSONObject())]))
    }

    @Test func limitsNestingDepth() throws {
        let ok = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
        let deep = String(repeating: "[", count: JSONParser.maximumDepth + 1) + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(throws: JSONError.self) { try JSONParser.parse(deep) }
        do {
            _ = try JSONParser.parse(String(repeating: "{\"a\":", count: 1_000_000))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .tooDeep)
            #expect(error.offset == 5 * JSONParser.maximumDepth)
        }
    }

    @Test(arguments: [
        ("", JSONError.Code.unexpectedEnd), (" ", .unexpectedEnd), ("[", .unexpectedEnd), ("]", .unexpectedCharacter),
        ("{", .unexpectedEnd), (#"{"a""#, .unexpectedEnd), (#"{"a":"#, .unexpectedEnd), (#"{"a":1,}"#, .unexpectedCharacter),
        ("[1,]", .unexpectedCharacter), ("[1 2]", .unexpectedCharacter), ("[,1]", .unexpectedCharacter), ("{,}", .unexpectedCharacter),
        ("{1: 2}", .unexpectedCharacter), (#"{"a" 1}"#, .unexpectedCharacter), ("01", .trailingData), ("1 2", .trailingData),
        ("[1]x", .trailingData), ("-", .unexpectedEnd), ("-x", .invalidNumber), ("1.", .unexpectedEnd), ("1.x", .invalidNumber),
        ("1e", .unexpectedEnd), ("1e+", .unexpectedEnd), ("1e+x", .invalidNumber), (".5", .unexpectedCharacter),
        ("+1", .unexpectedCharacter), ("tru", .unexpectedEnd), ("trux", .unexpectedCharacter), ("nul", .unexpectedEnd),
        ("nan", .unexpectedCharacter), ("inf", .unexpectedCharacter), ("-Inf", .unexpectedEnd), ("-NaN", .invalidNumber),
        ("NaNx", .trailingData), (#""abc"#, .unexpectedEnd), (#""\x""#, .invalidEscape), (#""\u12""#, .invalidEscape),
        (#""\u12G4""#, .invalidEscape), (#""\u12"#, .unexpectedEnd), ("\"\\", .unexpectedEnd), ("\"a\nb\"", .controlCharacterInString),
        ("\"a\\n\u{1}\"", .controlCharacterInString), ("\u{FEFF}[]", .unexpectedCharacter), ("'a'", .unexpectedCharacter),
        ("[1,2", .unexpectedEnd), ("{\"a\":1", .unexpectedEnd), ("[\"a\",", .unexpectedEnd),
    ])
    func rejectsMalformedInput(text: String, code: JSONError.Code) {
        #expect {
            try JSONParser.parse(text)
        } throws: { error in
            (error as? JSONError)?.code == code
        }
    }

    @Test func describesErrorsWithOffsetAndByteOnly() {
        do {
            _ = try JSONParser.parse(#"{"abc": 12x}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 10)
            #expect(error.description == "invalid JSON at byte 10: unexpected character 'x'")
        }
        #expect(JSONError(.unexpectedEnd, offset: 3).description == "invalid JSON at byte 3: unexpected end of input")
        #expect(JSONError(.controlCharacterInString, offset: 1, byte: 0x0A).description == "invalid JSON at byte 1: control character in string (0x0a)")
    }

    @Test func parsesAHundredMegabyteString() throws {
        var bytes = [UInt8](repeating: 0x61, count: 100_000_002)
        bytes[0] = 0x22
        bytes[bytes.count - 1] = 0x22
        let value = try JSONParser.parse(bytes)
        #expect(value.stringValue?.utf8.count == 100_000_000)

        // The escape path is linear too.
        var escaped = [UInt8](repeating: 0x62, count: 10_000_002)
        escaped[0] = 0x22
        escaped[escaped.count - 1] = 0x22
        for k in stride(from: 1, to: escaped.count - 2, by: 1000) {
            escaped[k] = 0x5C
            escaped[k + 1] = 0x6E
        }
        let decoded = try #require(try JSONParser.parse(escaped).stringValue)
        #expect(decoded.utf8.count == 10_000_000 - 10_000)
    }

    @Test func acceptsOtherByteCollections() throws {
        let bytes = Array(#"{"a": [1]}"#.utf8)
        #expect(try JSONValue(parsing: bytes[...]) == .object(["a": [1]]))
        #expect(try JSONValue(parsing: #"{"a": [1]}"#) == .object(["a": [1]]))
        #expect(try JSONValue(parsing: AnyCollection(bytes)) == .object(["a": [1]]))
    }

    /// Random and mutated inputs never crash or hang; whatever parses re-serializes stably.
    @Test func survivesFuzzedInput() throws {
        let seed = TestSeed.value(default: 0xCE1E_41AC)
        var rng = SplitMix64(seed: seed)
        let seeds = try CelerySamples.jsonFiles().map(\.bytes)
        let alphabet = Array(#"{}[]",:0123456789.eE+-\u"abtrufalsnNIy \#n\#t"#.utf8) + [0x00, 0x7F, 0x80, 0xC3, 0xFF]
        var parsed = 0
        for round in 0..<20_000 {
            var input: [UInt8]
            if round % 4 == 0 {
                input = (0..<Int.random(in: 0...64, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            } else {
                input = seeds.randomElement(using: &rng)!
                for _ in 0...Int.random(in: 0...4, using: &rng) { mutate(&input, alphabet: alphabet, using: &rng) }
            }
            guard let value = try? JSONParser.parse(input) else { continue }
            parsed += 1
            let once = value.serialized()
            let twice = try JSONParser.parse(once).serialized()
            #expect(once == twice, "round \(round): \(String(decoding: input, as: UTF8.self)); \(TestSeed.replay(seed))")
        }
        #expect(parsed > 100, "\(parsed) of 20000 parsed; \(TestSeed.replay(seed))")
    }

    private func mutate(_ input: inout [UInt8], alphabet: [UInt8], using rng: inout SplitMix64) {
        guard !input.isEmpty else { return }
        let at = Int.random(in: 0..<input.count, using: &rng)
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: input[at] = UInt8.random(in: 0...255, using: &rng)
        case 1: input[at] = alphabet.randomElement(using: &rng)!
        case 2: input.insert(alphabet.randomElement(using: &rng)!, at: at)
        case 3: input.removeSubrange(at..<min(input.count, at + Int.random(in: 1...8, using: &rng)))
        case 4: input.removeSubrange(at...)
        default:
            let end = min(input.count, at + Int.random(in: 1...40, using: &rng))
            input.insert(contentsOf: input[at..<end], at: Int.random(in: 0...input.count, using: &rng))
        }
    }
}

extension SplitMix64 {
    /// Bytes that make JSON interesting when they land in the wrong place: the fuzz tests of the
    /// fast decoders overwrite message bytes with these.
    static let jsonDamage = Array(#"{}[],:"\ u0123456789.eE-+tfnaINx"#.utf8) + [0x00, 0x0A, 0x1F, 0x80, 0xC3, 0xFF]

    /// One of ``jsonDamage``.
    mutating func damageByte() -> UInt8 {
        Self.jsonDamage[Int(next() % UInt64(Self.jsonDamage.count))]
    }

    /// Overwrites `times` random positions of `bytes` with ``damageByte()``s.
    mutating func damage(_ bytes: inout [UInt8], times: Int) {
        for _ in 0..<times {
            let at = Int(next() % UInt64(bytes.count))
            bytes[at] = damageByte()
        }
    }
}
