import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct TaskRegistryTests {
    private func registry() -> TaskRegistry {
        var r = TaskRegistry()
        r.register("math.add", parameters: ["x", "y"]) { (x: Int, y: Int) in x + y }
        r.register("text.shout", parameters: ["word", "times"]) { (word: String, times: Int?) in
            String(repeating: word.uppercased(), count: times ?? 1)
        }
        r.registerRaw("raw.echo") { call in .array(call.args) }
        return r
    }

    @Test func typedTaskBindsPositionalAndKeywordArgumentsLikePython() async throws {
        let add = try #require(registry()["math.add"])
        #expect(try await add.body(TaskArguments(args: [2, 3])) == .int(5))
        #expect(try await add.body(TaskArguments(kwargs: ["y": 10, "x": 1])) == .int(11))
        #expect(try await add.body(TaskArguments(args: [4], kwargs: ["y": 5])) == .int(9))
    }

    @Test func bindingErrorsAreTypeErrorsWithPythonsWording() async throws {
        let add = try #require(registry()["math.add"])
        let cases: [(TaskArguments, String)] = [
            (TaskArguments(args: [1, 2, 3]), "takes 2 positional arguments but 3 were given"),
            (TaskArguments(args: [1]), "missing 1 required argument: 'y'"),
            (TaskArguments(args: [1], kwargs: ["x": 2]), "got multiple values for argument 'x'"),
            (TaskArguments(args: [1, 2], kwargs: ["z": 2]), "unexpected keyword argument 'z'"),
        ]
        for (arguments, wording) in cases {
            await #expect { try await add.body(arguments) } throws: { error in
                guard let e = error as? TaskError else { return false }
                return e.type == "TypeError" && e.message.contains(wording)
            }
        }
    }

    @Test func wrongArgumentTypesBecomeTypeErrors() async throws {
        let add = try #require(registry()["math.add"])
        await #expect { try await add.body(TaskArguments(args: ["two", 3])) } throws: { error in
            TaskError.from(error).type == "TypeError"
        }
    }

    @Test func optionalParametersAcceptNull() async throws {
        let shout = try #require(registry()["text.shout"])
        #expect(try await shout.body(TaskArguments(args: ["hi", .null])) == .string("HI"))
        #expect(try await shout.body(TaskArguments(args: ["hi", 2])) == .string("HIHI"))
    }

    @Test func rawTasksSeeTheJSONAsItCame() async throws {
        let echo = try #require(registry()["raw.echo"])
        #expect(try await echo.body(TaskArguments(args: [.bigInt("1180591620717411303427"), 2.0])) == .array([.bigInt("1180591620717411303427"), .double(2.0)]))
        #expect(registry().names == ["math.add", "raw.echo", "text.shout"])
    }

    @Test func anySwiftErrorIsDescribedAsAnException() {
        struct DiskFull: Error {}
        let e = TaskError.from(DiskFull())
        #expect(e.type == "DiskFull")
        #expect(e.module == "celeriac")
        #expect(TaskError.notRegistered("x.y").exceptionInfo.module == "celery.exceptions")
    }
}
