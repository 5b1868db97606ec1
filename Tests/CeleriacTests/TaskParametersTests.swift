import Celeriac
import CeleriacTestTags
import Foundation
import Testing

/// The probe that reads a typed task's Python parameter list from its `Arguments` type.
@Suite(.tags(.unit)) struct TaskParametersTests {
    struct SMS: Codable, Sendable {
        var phone: String
        var text: String
        var sender: String?
        var retries: Int
    }

    @Test func namesFollowDeclarationOrderAndOptionalsHaveDefaults() throws {
        let parameters = try TaskParameters(of: SMS.self)
        #expect(parameters.names == ["phone", "text", "sender", "retries"])
        #expect(parameters.withDefaults == ["sender"])
    }

    struct Renamed: Codable, Sendable {
        var phoneNumber: String
        var body: String
        enum CodingKeys: String, CodingKey {
            case body = "text"
            case phoneNumber = "phone_number"
        }
    }

    @Test func declaredCodingKeysAreThePythonNamesInTheirOwnOrder() throws {
        // Synthesized init(from:) decodes in the order of the CodingKeys cases, not of the properties.
        #expect(try TaskParameters(of: Renamed.self).names == ["text", "phone_number"])
    }

    struct Address: Codable, Sendable {
        var street: String
        var zip: Int
    }

    enum Priority: String, Codable, Sendable, CaseIterable {
        case high, low
    }

    enum Level: Int, Codable, Sendable {
        case debug, info  // numbered from 0: the placeholder 0 is a valid raw value
    }

    struct Rich: Codable, Sendable {
        var to: Address
        var prices: [Double]
        var tags: [String: Int]
        var priority: Priority
        var level: Level
        var id: UUID
        var callback: URL
        var at: Date
        var extra: JSONValue
        var maybe: Address?
        var nested: [[Address]]
    }

    @Test func nestedTypesArraysEnumsAndFoundationValuesProbe() throws {
        let parameters = try TaskParameters(of: Rich.self)
        #expect(parameters.names == ["to", "prices", "tags", "priority", "level", "id", "callback", "at", "extra", "maybe", "nested"])
        #expect(parameters.withDefaults == ["maybe"])
    }

    enum Colour: String, Codable, Sendable {
        case red, green  // no CaseIterable: no placeholder string is a colour
    }

    struct Paint: Codable, Sendable {
        var wall: String
        var colour: Colour
        var coats: Int
    }

    @Test func anEnumThatRejectsEveryPlaceholderIsAnErrorNamingItsKey() {
        #expect { try TaskParameters(of: Paint.self) } throws: { error in
            let e = error as? TaskParametersError
            return e?.reason.contains("'colour'") == true && e?.description.contains("ExplicitTaskParameters") == true
        }
    }

    struct ExplicitPaint: Codable, Sendable, ExplicitTaskParameters {
        var wall: String
        var colour: Colour
        var coats: Int?
        static let taskParameters = TaskParameters(["wall", "colour", "coats"], withDefaults: ["coats"])
    }

    @Test func anExplicitListIsTakenAsGiven() throws {
        #expect(try TaskParameters(of: ExplicitPaint.self) == TaskParameters(["wall", "colour", "coats"], withDefaults: ["coats"]))
    }

    enum Shape: Codable, Sendable {
        case circle(radius: Double)
        case square(side: Double)
    }

    struct Draw: Codable, Sendable {
        var shape: Shape
    }

    @Test func anEnumWithPayloadsIsAnError() {
        #expect(throws: TaskParametersError.self) { try TaskParameters(of: Draw.self) }
    }

    @Test func typesWithoutFixedNamesAreErrors() {
        #expect(throws: TaskParametersError.self) { try TaskParameters(of: [String: Int].self) }
        #expect(throws: TaskParametersError.self) { try TaskParameters(of: [Int].self) }
        #expect(throws: TaskParametersError.self) { try TaskParameters(of: Int.self) }
    }

    final class Node: Codable, Sendable {
        let name: String
        let children: [Node]
        let parent: Node?
    }

    @Test func recursiveTypesEndAtTheirEmptyArraysAndNils() throws {
        #expect(try TaskParameters(of: Node.self).names == ["name", "children", "parent"])
    }

    @Test func noArgumentsAndRawCallsHaveNoNamedParameters() throws {
        #expect(try TaskParameters(of: NoArguments.self) == TaskParameters([]))
        #expect(try TaskParameters(of: TaskArguments.self) == TaskParameters([]))
    }
}
