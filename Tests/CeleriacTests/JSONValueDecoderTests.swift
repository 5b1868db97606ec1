import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct JSONValueDecoderTests {
    typealias TaskRecord = CodableFixtures.TaskRecord

    @Test func roundTripsAStructThroughJSONText() throws {
        let value = try JSONValueEncoder().encode(CodableFixtures.record)
        let reparsed = try JSONParser.parse(value.serialized())
        let decoded = try JSONValueDecoder().decode(TaskRecord.self, from: reparsed)
        #expect(decoded == CodableFixtures.record)
        // The free-form JSONValue field comes back exactly: order, big int, 2.0 as a double.
        #expect(decoded.kwargs.objectValue?.keys == ["z", "a", "f"])
        #expect(decoded.kwargs["a"] == .bigInt("1180591620717411303427"))
        #expect(decoded.kwargs["f"] == .double(2))
    }

    @Test func decodesARealTaskEnvelope() throws {
        struct Envelope: Decodable {
            struct Headers: Decodable {
                var task: String
                var id: String
                var retries: Int
                var timelimit: [Double?]
                var eta: String?
                var stamps: JSONValue
            }
            var body: String
            var headers: Headers
            var properties: JSONValue
        }
        let sample = try #require(try CelerySamples.jsonFiles().first { $0.name == "task_add_delay.json" })
        let envelope = try JSONValueDecoder().decode(Envelope.self, from: JSONParser.parse(sample.bytes))
        #expect(envelope.headers.task == "wireapp.add")
        #expect(envelope.headers.timelimit == [nil, nil])
        #expect(envelope.headers.stamps == .object(JSONObject()))
        #expect(envelope.properties["priority"] == .int(0))
    }

    @Test func convertsNumbersOnlyWhenExact() throws {
        let decoder = JSONValueDecoder()
        #expect(try decoder.decode(Double.self, from: .int(3)) == 3)
        #expect(try decoder.decode(Double.self, from: .bigInt("1180591620717411303427")) == 1.180591620717411303424e21)
        #expect(try decoder.decode(Int.self, from: .double(3)) == 3)
        #expect(try decoder.decode(UInt64.self, from: .bigInt("18446744073709551615")) == .max)
        #expect(try decoder.decode(Float.self, from: .double(0.5)) == 0.5)
        #expect(throws: DecodingError.self) { try decoder.decode(Int.self, from: .double(3.5)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Int.self, from: .double(.nan)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Int.self, from: .bigInt("9223372036854775808")) }
        #expect(throws: DecodingError.self) { try decoder.decode(Int8.self, from: .int(300)) }
        #expect(throws: DecodingError.self) { try decoder.decode(UInt.self, from: .int(-1)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Float.self, from: .double(1e300)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Bool.self, from: .int(1)) }
        #expect(throws: DecodingError.self) { try decoder.decode(Int.self, from: .bool(true)) }
        #expect(throws: DecodingError.self) { try decoder.decode(String.self, from: .int(1)) }
    }

    @Test func reportsTypeMismatchWithCodingPath() throws {
        let value = try JSONParser.parse(#"{"task": "t", "args": [1, 2], "options": {"queue": 5}}"#)
        do {
            _ = try JSONValueDecoder().decode([String: CodableFixtures.Link].self, from: .object(["x": value]))
            Issue.record("expected a type mismatch")
        } catch DecodingError.typeMismatch(let type, let context) {
            #expect(ObjectIdentifier(type) == ObjectIdentifier(String.self))
            #expect(context.codingPath.map(\.stringValue) == ["x", "options", "queue"])
            #expect(context.debugDescription == "Expected to decode String but found a number instead.")
        }
        let inArray = try JSONParser.parse(#"{"task": "t", "args": [1, "two"]}"#)
        do {
            _ = try JSONValueDecoder().decode(CodableFixtures.Link.self, from: inArray)
            Issue.record("expected a type mismatch")
        } catch DecodingError.typeMismatch(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["args", "Index 1"])
            #expect(context.codingPath.last?.intValue == 1)
        }
    }

    @Test func reportsMissingKeysAndNulls() throws {
        do {
            _ = try JSONValueDecoder().decode(CodableFixtures.Link.self, from: .object(["args": []]))
            Issue.record("expected keyNotFound")
        } catch DecodingError.keyNotFound(let key, let context) {
            #expect(key.stringValue == "task")
            #expect(context.codingPath.isEmpty)
        }
        do {
            _ = try JSONValueDecoder().decode(CodableFixtures.Link.self, from: .object(["task": nil, "args": []]))
            Issue.record("expected valueNotFound")
        } catch DecodingError.valueNotFound(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["task"])
        }
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(CodableFixtures.Link.self, from: [1]) }
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode([Int].self, from: nil) }
    }

    @Test func decodesOptionalsAndNullsInArrays() throws {
        let decoder = JSONValueDecoder()
        #expect(try decoder.decode([Int?].self, from: [1, nil]) == [1, nil])
        #expect(try decoder.decode([JSONValue?].self, from: [1, nil]) == [.int(1), nil])
        #expect(try decoder.decode(JSONValue.self, from: [1, nil]) == [1, nil])
        #expect(try decoder.decode(String?.self, from: nil) == nil)
    }

    @Test func supportsNestedAndSuperDecoders() throws {
        struct Shape: Decodable, Equatable {
            enum Keys: String, CodingKey { case header, body, extra }
            var values: [String] = []
            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: Keys.self)
                let header = try c.nestedContainer(keyedBy: Keys.self, forKey: .header)
                values.append(String(try header.decode(Int.self, forKey: .extra)))
                var body = try c.nestedUnkeyedContainer(forKey: .body)
                #expect(body.count == 4)
                values.append(String(try body.decode(Bool.self)))
                values.append(try body.nestedContainer(keyedBy: Keys.self).decode(String.self, forKey: .header))
                var inner = try body.nestedUnkeyedContainer()
                values.append(String(try inner.decodeNil()))
                values.append(String(try body.superDecoder().singleValueContainer().decode(Int.self)))
                #expect(body.isAtEnd)
                #expect(throws: DecodingError.self) { try body.decode(Int.self) }
                values.append(String(try c.superDecoder().container(keyedBy: Keys.self).decode(Double.self, forKey: .extra)))
                var extra = try c.superDecoder(forKey: .extra).unkeyedContainer()
                values.append(try extra.decode(String.self))
            }
        }
        let value = try JSONParser.parse(
            #"{"header": {"extra": 1}, "body": [true, {"header": "x"}, [null], 7], "super": {"extra": 1.5}, "extra": ["e"]}"#)
        let shape = try JSONValueDecoder().decode(Shape.self, from: value)
        #expect(shape.values == ["1", "true", "x", "true", "7", "1.5", "e"])
    }

    @Test func decodesLargeObjectsAsDictionaries() throws {
        var object = JSONObject()
        for k in 0..<500 { object.append("k\(k)", .int(k)) }
        let dictionary = try JSONValueDecoder().decode([String: Int].self, from: .object(object))
        #expect(dictionary.count == 500)
        #expect(dictionary["k499"] == 499)
    }

    @Test func decodesThroughForeignDecoders() throws {
        let value = try JSONParser.parse(#"{"b": [1, 2.5, null, true], "a": "s", "o": {}}"#)
        let forwarded = try JSONValueDecoder().decode(Forwarding.self, from: value)
        #expect(forwarded.value == value)
        #expect(try JSONValueDecoder().decode(Forwarding.self, from: nil).value == nil)
    }
}
