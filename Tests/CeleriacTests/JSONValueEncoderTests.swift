import Celeriac
import Foundation
import CeleriacTestTags
import Testing

/// Shared fixtures for the Codable bridge tests.
enum CodableFixtures {
    enum State: String, Codable, Equatable { case pending = "PENDING", success = "SUCCESS" }

    enum Outcome: Codable, Equatable {
        case value(Int)
        case failure(kind: String, retries: Int?)
    }

    struct Link: Codable, Equatable {
        var task: String
        var args: [Int]
        var options: [String: String]?
    }

    struct TaskRecord: Codable, Equatable {
        var id: String
        var state: State
        var retries: Int
        var eta: Double?
        var timelimit: [Int?]
        var matrix: [[Double]]
        var links: [Link]
        var outcome: Outcome
        var kwargs: JSONValue
        var small: Int8
        var big: UInt64
        var ratio: Float
        var flag: Bool
    }

    static let record = TaskRecord(
        id: "8bd1c012", state: .success, retries: 2, eta: nil, timelimit: [nil, 30], matrix: [[1, 2.5], []],
        links: [Link(task: "wireapp.add", args: [10], options: ["queue": "celery"])],
        outcome: .failure(kind: "ValueError", retries: nil),
        kwargs: .object(["z": 1, "a": .bigInt("1180591620717411303427"), "f": 2.0]),
        small: -8, big: .max, ratio: 0.1, flag: true)
}

@Suite(.tags(.unit)) struct JSONValueEncoderTests {
    @Test func encodesInDeclarationOrderKeepingNumberKinds() throws {
        let value = try JSONValueEncoder().encode(CodableFixtures.record)
        #expect(
            value.jsonString
                == #"{"id": "8bd1c012", "state": "SUCCESS", "retries": 2, "timelimit": [null, 30], "matrix": [[1.0, 2.5], []], "#
                + #""links": [{"task": "wireapp.add", "args": [10], "options": {"queue": "celery"}}], "#
                + #""outcome": {"failure": {"kind": "ValueError"}}, "kwargs": {"z": 1, "a": 1180591620717411303427, "f": 2.0}, "#
                + #""small": -8, "big": 18446744073709551615, "ratio": 0.1, "flag": true}"#)
    }

    @Test func writesNullWhenEncodeNilIsCalled() throws {
        struct Meta: Encodable {
            var traceback: String?
            var children: [String]
            enum CodingKeys: CodingKey { case traceback, children }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                if let traceback { try c.encode(traceback, forKey: .traceback) } else { try c.encodeNil(forKey: .traceback) }
                try c.encode(children, forKey: .children)
            }
        }
        #expect(try JSONValueEncoder().encode(Meta(traceback: nil, children: [])).jsonString == #"{"traceback": null, "children": []}"#)
        // Encoding the Optional itself also gives null.
        #expect(try JSONValueEncoder().encode(["a": String?.none]) == .object(["a": .null]))
    }

    @Test func encodesScalarsAndTopLevelJSONValue() throws {
        let encoder = JSONValueEncoder()
        #expect(try encoder.encode(2.0) == .double(2))
        #expect(try encoder.encode(Int64.min) == .int(.min))
        #expect(try encoder.encode(UInt64(1) << 63) == .bigInt("9223372036854775808"))
        #expect(try encoder.encode(Float(1.1)) == .double(1.1))
        #expect(try encoder.encode("é") == .string("é"))
        #expect(try encoder.encode(JSONValue.bigInt("-99999999999999999999")) == .bigInt("-99999999999999999999"))
        #expect(try encoder.encode(Date(timeIntervalSinceReferenceDate: 1.5)) == .double(1.5))
        #expect(try encoder.encode([UInt8]([1, 2])) == [1, 2])
    }

    @Test func supportsNestedContainersAndSuperEncoders() throws {
        struct Shape: Encodable {
            enum Keys: String, CodingKey { case header, body, extra }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: Keys.self)
                var header = c.nestedContainer(keyedBy: Keys.self, forKey: .header)
                try header.encode(1, forKey: .extra)
                var body = c.nestedUnkeyedContainer(forKey: .body)
                try body.encode(true)
                var inner = body.nestedContainer(keyedBy: Keys.self)
                try inner.encode("x", forKey: .header)
                var innerList = body.nestedUnkeyedContainer()
                try innerList.encodeNil()
                var fromSuper = body.superEncoder().singleValueContainer()
                try fromSuper.encode(7)
                var base = c.superEncoder().container(keyedBy: Keys.self)
                try base.encode(1.5, forKey: .extra)
                var extra = c.superEncoder(forKey: .extra).unkeyedContainer()
                try extra.encode("e")
            }
        }
        let value = try JSONValueEncoder().encode(Shape())
        #expect(
            value.jsonString
                == #"{"header": {"extra": 1}, "body": [true, {"header": "x"}, [null], 7], "super": {"extra": 1.5}, "extra": ["e"]}"#)
    }

    @Test func replacesARepeatedKeyInPlace() throws {
        struct Twice: Encodable {
            enum Keys: CodingKey { case a, b }
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: Keys.self)
                try c.encode(1, forKey: .a)
                try c.encode(2, forKey: .b)
                try c.encode(3, forKey: .a)
            }
        }
        #expect(try JSONValueEncoder().encode(Twice()).jsonString == #"{"a": 3, "b": 2}"#)
        let many = Dictionary(uniqueKeysWithValues: (0..<100).map { ("k\($0)", $0) })
        #expect(try JSONValueEncoder().encode(many).objectValue?.count == 100)
    }

    @Test func rejectsAValueThatEncodesNothing() {
        struct Empty: Encodable { func encode(to encoder: any Encoder) throws {} }
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode(Empty()) }
    }

    @Test func passesUserInfoToValues() throws {
        struct Probe: Encodable {
            func encode(to encoder: any Encoder) throws {
                var c = encoder.singleValueContainer()
                try c.encode(encoder.userInfo[CodingUserInfoKey(rawValue: "tag")!] as? String ?? "none")
            }
        }
        var encoder = JSONValueEncoder()
        encoder.userInfo[CodingUserInfoKey(rawValue: "tag")!] = "on"
        #expect(try encoder.encode([Probe()]) == ["on"])
    }

    /// Through an encoder other than ours, a JSONValue still writes itself out in order.
    @Test func encodesThroughForeignEncoders() throws {
        let value: JSONValue = .object(["b": [1, 2.5, nil, true], "a": "s", "n": .bigInt("123456789012345678901")])
        #expect(try JSONValueEncoder().encode(Forwarding(value)) == value)
        // A foreign encoder has no exact number type for a big integer: it gets the text.
        #expect(try JSONValueEncoder().encode(Forwarding(.bigInt("-123456789012345678901"))) == "-123456789012345678901")
        #expect(try JSONValueEncoder().encode(Forwarding(2.0)) == .double(2))
        #expect(try JSONValueEncoder().encode(Forwarding(nil)) == nil)
    }
}

/// Hides a value behind a foreign `Encoder`/`Decoder` so JSONValue's generic path runs.
struct Forwarding: Codable {
    var value: JSONValue

    init(_ value: JSONValue) { self.value = value }

    func encode(to encoder: any Encoder) throws { try value.encode(to: ForwardingEncoder(inner: encoder)) }

    init(from decoder: any Decoder) throws { value = try JSONValue(from: ForwardingDecoder(inner: decoder)) }
}

struct ForwardingEncoder: Encoder {
    let inner: any Encoder
    var codingPath: [any CodingKey] { inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { inner.userInfo }
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { inner.container(keyedBy: type) }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { inner.unkeyedContainer() }
    func singleValueContainer() -> any SingleValueEncodingContainer { inner.singleValueContainer() }
}

struct ForwardingDecoder: Decoder {
    let inner: any Decoder
    var codingPath: [any CodingKey] { inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { inner.userInfo }
    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        try inner.container(keyedBy: type)
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { try inner.unkeyedContainer() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { try inner.singleValueContainer() }
}
