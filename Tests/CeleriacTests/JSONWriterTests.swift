import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct JSONWriterTests {
    /// Samples that were not written by `json.dumps` defaults, with the style that reproduces them.
    static let compactSamples: Set<String> = [
        // Hand-made with separators=(",", ":") to show what the Python worker accepts.
        "crafted_minimal_task_accepted_by_python_worker.json",
        "crafted_minimal_task_accepted_by_python_worker.body.json",
    ]

    @Test func reproducesEveryCapturedSampleByteForByte() throws {
        let samples = try CelerySamples.jsonFiles()
        #expect(samples.count >= 150)
        for sample in samples {
            var expected = sample.bytes
            if expected.last == 0x0A { expected.removeLast() }
            let style: JSONWriter.Style = Self.compactSamples.contains(sample.name) ? .compact : .python
            let value = try JSONParser.parse(sample.bytes)
            let written = value.serialized(style: style)
            #expect(written == expected, "\(sample.name)")
        }
    }

    @Test func escapesLikePythonEnsureASCII() {
        let value = JSONValue.string("\u{0}\u{1}\u{1F}\u{7F}\u{80}é\u{2028}\u{FFFF}😀\u{10FFFF} \"\\/\u{8}\u{C}\n\r\t")
        // json.dumps of the same string in CPython 3.11.
        let python = #""\u0000\u0001\u001f\u007f\u0080\u00e9\u2028\uffff\ud83d\ude00\udbff\udfff \"\\/\b\f\n\r\t""#
        #expect(value.jsonString == python)
    }

    /// The writer checks eight bytes at a time; every byte must still be caught at any position.
    @Test func escapesEveryASCIIByteAtEveryAlignment() {
        func reference(_ c: UInt8) -> String {
            switch c {
            case 0x22: #"\""#
            case 0x5C: #"\\"#
            case 0x0A: #"\n"#
            case 0x0D: #"\r"#
            case 0x09: #"\t"#
            case 0x08: #"\b"#
            case 0x0C: #"\f"#
            case ..<0x20, 0x7F: "\\u00" + (c < 0x10 ? "0" : "") + String(c, radix: 16)
            default: String(Character(Unicode.Scalar(c)))
            }
        }
        for c in UInt8(0)..<0x80 {
            for offset in 0..<17 {
                let prefix = String(repeating: "a", count: offset)
                let value = JSONValue.string(prefix + String(Character(Unicode.Scalar(c))) + "bbbbbbbbb")
                #expect(value.jsonString == "\"" + prefix + reference(c) + "bbbbbbbbb\"", "byte \(c) at \(offset)")
            }
        }
        #expect(JSONValue.string("abcdefgh\u{e9}ijklmnop\u{1F600}").jsonString == #""abcdefgh\u00e9ijklmnop\ud83d\ude00""#)
    }

    /// `write(_:into:)` appends scalars without a scratch buffer; the bytes must be the same.
    @Test func appendingToABufferWritesWhatSerializedWrites() {
        let values: [JSONValue] = [
            .null, .bool(true), .bool(false), .int(0), .int(-7), .int(.max), .int(.min), .bigInt("123456789012345678901234"),
            .double(0.1), .double(-0.0), .double(1e16), .double(1.5e-7), .double(.nan), .double(.infinity), .double(-.infinity),
            .string(""), .string("plain ascii, long enough for words"), .string("quote\"d"), .string("back\\slash"),
            .string("tab\there"), .string("caf\u{e9}"), .string("\u{1F600}"), .string("del\u{7F}"), .string("1234567"),
            .array([1, "x"]), .object(["k": [.null]]),
        ]
        for value in values {
            var out: [UInt8] = [0x41, 0x42]
            JSONWriter.write(value, into: &out)
            #expect(out == [0x41, 0x42] + value.serialized(), "\(value)")
        }
    }

    @Test func writesPythonSeparatorsAndCompactStyle() {
        let value: JSONValue = .object(["k\u{e9}": [1, 2.5, nil, true, false, .object(JSONObject()), []], "b": -0.0])
        #expect(value.jsonString == #"{"k\u00e9": [1, 2.5, null, true, false, {}, []], "b": -0.0}"#)
        let compact = String(decoding: value.serialized(style: .compact), as: UTF8.self)
        #expect(compact == #"{"k\u00e9":[1,2.5,null,true,false,{},[]],"b":-0.0}"#)
    }

    @Test func writesNumbersAsPythonDoes() {
        let value: JSONValue = [
            .double(.nan), .double(.infinity), .double(-.infinity), .bigInt("1180591620717411303427"),
            .bigInt("-9223372036854775809"), .int(.min), .int(.max), .int(0), .int(-7), .double(2), .double(1e16),
            .double(0.30000000000000004), .double(1795571963.3942287),
        ]
        #expect(
            value.jsonString
                == "[NaN, Infinity, -Infinity, 1180591620717411303427, -9223372036854775809, -9223372036854775808, "
                + "9223372036854775807, 0, -7, 2.0, 1e+16, 0.30000000000000004, 1795571963.3942287]")
    }

    @Test func keepsKeyOrderThroughARoundTrip() throws {
        let text = #"{"z": 1, "a": {"y": [], "b": "x"}, "m": null}"#
        #expect(try JSONParser.parse(text).jsonString == text)
    }

    @Test func appendsToAnExistingBuffer() {
        var buffer = Array("prefix:".utf8)
        JSONWriter.write(["a", 1], into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == #"prefix:["a", 1]"#)
    }
}
