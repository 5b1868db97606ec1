import Celeriac
import CeleriacTestTags
import Logging
import Testing

/// Typed tasks: registration from the type, Python-rule binding into `Arguments`, and the
/// round trip from a typed handle's call to the task's decoded output.
@Suite(.tags(.unit)) struct CeleryTaskTests {
    enum Add: CeleryTask {
        static let name = "math.add"
        struct Arguments: Codable, Sendable {
            var x: Int
            var y: Int
        }
        static func run(_ a: Arguments, context: TaskContext) async throws -> Int { a.x - a.y * 10 }  // order-sensitive on purpose
    }

    enum Total: CeleryTask {
        static let name = "shop.total"
        struct Arguments: Codable, Sendable {
            var prices: [Double]
            var discount: Double?
        }
        static func run(_ a: Arguments, context: TaskContext) async throws -> Double {
            a.prices.reduce(0, +) * (1 - (a.discount ?? 0))
        }
    }

    struct Address: Codable, Sendable, Equatable {
        var street: String
        var zip: Int
    }

    enum Ship: CeleryTask {
        static let name = "shop.ship"
        static let options = TaskOptions(maxRetries: 7, acksLate: true)
        enum Speed: String, Codable, Sendable, CaseIterable { case standard, express }
        struct Arguments: Codable, Sendable {
            var to: Address
            var speed: Speed
        }
        static func run(_ a: Arguments, context: TaskContext) async throws -> String { "\(a.speed.rawValue) to \(a.to.street) \(a.to.zip)" }
    }

    enum Ping: CeleryTask {
        static let name = "ops.ping"
        static func run(_ a: NoArguments, context: TaskContext) async throws -> String { "pong from \(context.hostname)" }
    }

    enum TSum: CeleryTask {
        static let name = "tsum"
        struct Arguments: Codable, Sendable { var nums: [Int] }
        static func run(_ a: Arguments, context: TaskContext) async throws -> Int { a.nums.reduce(0, +) }
    }

    enum Anything: CeleryTask {
        static let name = "any.call"
        static func run(_ a: TaskArguments, context: TaskContext) async throws -> JSONValue { ["args": .array(a.args), "kwargs": .object(a.kwargs)] }
    }

    enum Unnamed: CeleryTask {
        static func run(_ a: NoArguments, context: TaskContext) async throws -> Int { 1 }
    }

    private var registry: TaskRegistry {
        var r = TaskRegistry()
        r.register(Add.self)
        r.register(Total.self)
        r.register(Ship.self)
        r.register(Ping.self)
        r.register(TSum.self)
        r.register(Anything.self)
        r.register(Unnamed.self)
        return r
    }

    private func call(_ name: String, _ args: [JSONValue] = [], _ kwargs: JSONObject = [:]) async throws -> JSONValue {
        try await #require(registry[name]).body(TaskArguments(args: args, kwargs: kwargs))
    }

    private func typeError(_ name: String, _ args: [JSONValue] = [], _ kwargs: JSONObject = [:]) async -> String? {
        do {
            _ = try await call(name, args, kwargs)
            return nil
        } catch {
            let e = TaskError.from(error)
            return e.type == "TypeError" ? e.message : "\(e.type): \(e.message)"
        }
    }

    @Test func registrationTakesNameOptionsAndParametersFromTheType() throws {
        let r = registry
        #expect(r.names == ["CeleriacTests.CeleryTaskTests.Unnamed", "any.call", "math.add", "ops.ping", "shop.ship", "shop.total", "tsum"])
        #expect(r["shop.ship"]?.options == TaskOptions(maxRetries: 7, acksLate: true))
        #expect(r["shop.total"]?.parameters == ["prices", "discount"])
    }

    @Test func positionalKeywordAndMixedCallsBindInDeclarationOrder() async throws {
        #expect(try await call("math.add", [50, 2]) == .int(30))
        #expect(try await call("math.add", [], ["y": 2, "x": 50]) == .int(30))
        #expect(try await call("math.add", [50], ["y": 2]) == .int(30))
    }

    @Test func wrongCallsAreTheSameTypeErrorsAsTheUntypedBinding() async throws {
        let calls: [([JSONValue], JSONObject)] = [
            ([1, 2, 3], [:]), ([1], [:]), ([], [:]), ([1], ["x": 2]), ([1, 2], ["z": 2]), ([], ["x": 1, "q": 2]),
        ]
        for (args, kwargs) in calls {
            var untyped: String?
            do { _ = try TaskArguments(args: args, kwargs: kwargs).bind(to: ["x", "y"], taskName: "math.add") } catch { untyped = error.message }
            let typed = await typeError("math.add", args, kwargs)
            #expect(typed != nil && typed == untyped, "\(args) \(kwargs)")
        }
        #expect(await typeError("math.add", [1, 2, 3]) == "math.add() takes 2 positional arguments but 3 were given")
        #expect(await typeError("math.add", []) == "math.add() missing 2 required arguments: 'x' and 'y'")
        #expect(await typeError("math.add", [1], ["x": 2]) == "math.add() got multiple values for argument 'x'")
        #expect(await typeError("math.add", [1, 2], ["z": 2]) == "math.add() got an unexpected keyword argument 'z'")
    }

    @Test func anOptionalParameterMayBeLeftOutOrGiven() async throws {
        #expect(try await call("shop.total", [[10, 20]]) == .double(30))
        #expect(try await call("shop.total", [], ["prices": [10, 20], "discount": 0.5]) == .double(15))
        #expect(try await call("shop.total", [[10, 20], .null]) == .double(30))
        #expect(await typeError("shop.total", [], ["discount": 0.5]) == "shop.total() missing 1 required argument: 'prices'")
        #expect(await typeError("shop.total", [[1], 0.5, 3]) == "shop.total() takes from 1 to 2 positional arguments but 3 were given")
    }

    @Test func nestedStructAndEnumArgumentsDecode() async throws {
        #expect(try await call("shop.ship", [], ["to": ["street": "High St", "zip": 12345], "speed": "express"]) == "express to High St 12345")
        #expect(await typeError("shop.ship", [["street": "High St", "zip": 1], "teleport"])?.hasPrefix("bad argument") == true)
        #expect(await typeError("shop.ship", [["street": "High St"], "express"])?.contains("zip") == true)
    }

    @Test func aTaskWithNoArgumentsRefusesAny() async throws {
        let context = TaskContext(id: "1", name: "ops.ping", hostname: "w1@test", logger: Logger(label: "test"))
        #expect(try await TaskContext.$current.withValue(context) { try await call("ops.ping") } == "pong from w1@test")
        #expect(await typeError("ops.ping", [1]) == "ops.ping() takes 0 positional arguments but 1 were given")
        #expect(await typeError("ops.ping", [], ["a": 1]) == "ops.ping() got an unexpected keyword argument 'a'")
    }

    @Test func aTaskTakingOneListBindsItPositionallyOrByName() async throws {
        #expect(try await call("tsum", [[1, 2, 3]]) == .int(6))
        #expect(try await call("tsum", [], ["nums": [4, 5]]) == .int(9))
        #expect(await typeError("tsum", [1, 2, 3]) == "tsum() takes 1 positional arguments but 3 were given")
    }

    @Test func aTaskTakingTaskArgumentsGetsTheCallUnbound() async throws {
        #expect(try await call("any.call", [1, "x"], ["k": 2]) == ["args": [1, "x"], "kwargs": ["k": 2]])
    }

    @Test func aHandleSendsPositionallyInParameterOrder() throws {
        #expect(try Add.handle.call(.init(x: 1, y: 2)) == TaskArguments(args: [1, 2]))
        #expect(try Total.handle.call(.init(prices: [1.5], discount: nil)) == TaskArguments(args: [[1.5]]))
        #expect(try Ping.handle.call(NoArguments()) == TaskArguments())
        #expect(try Anything.handle.call(TaskArguments(args: [1], kwargs: ["a": 2])) == TaskArguments(args: [1], kwargs: ["a": 2]))
        #expect(Add.handle.name == "math.add")
    }

    struct Gap: Codable, Sendable {
        var a: Int
        var b: Int?
        var c: Int
    }

    @Test func afterALeftOutOptionalTheRestGoByKeyword() throws {
        let handle = TaskHandle<Gap, Int>(name: "t.gap")
        #expect(try handle.call(.init(a: 1, b: nil, c: 3)) == TaskArguments(args: [1], kwargs: ["c": 3]))
        #expect(try handle.call(.init(a: 1, b: 2, c: 3)) == TaskArguments(args: [1, 2, 3]))
    }

    enum Colour: String, Codable, Sendable { case red }
    struct Unprobeable: Codable, Sendable {
        var colour: Colour
        var n: Int
    }

    @Test func aHandleWhoseArgumentsCannotBeProbedSendsKeywords() throws {
        let handle = TaskHandle<Unprobeable, Int>(name: "t.paint")
        #expect(try handle.call(.init(colour: .red, n: 2)) == TaskArguments(kwargs: ["colour": "red", "n": 2]))
    }

    @Test func aTypedCallRoundTripsThroughTheRegisteredTask() async throws {
        let r = registry
        func roundTrip<T: CeleryTask>(_ task: T.Type, _ arguments: T.Arguments) async throws -> T.Output {
            let result = try await #require(r[T.name]).body(try T.handle.call(arguments))
            return try JSONValueDecoder().decode(T.Output.self, from: result)
        }
        #expect(try await roundTrip(Add.self, .init(x: 7, y: 1)) == -3)
        #expect(try await roundTrip(Total.self, .init(prices: [2, 4], discount: 0.25)) == 4.5)
        #expect(try await roundTrip(Ship.self, .init(to: Address(street: "Elm", zip: 9), speed: .standard)) == "standard to Elm 9")
        #expect(try await roundTrip(TSum.self, .init(nums: [1, 2, 3, 4])) == 10)
    }
}
