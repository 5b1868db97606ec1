import Celeriac
import CeleriacTestSupport
import Foundation
import Testing

extension FaultSuite {
    /// Poison messages mixed into a load: each is dead-lettered (cannot be a task: the record
    /// says why) or failed with a clear reason (a task that cannot run), exactly once; no
    /// redelivery loop, no worker crash, and every good task sent alongside finishes.
    @Suite(.timeLimit(.minutes(5))) struct PoisonMessages {
        /// A message no worker can run and what must become of it.
        struct Poison {
            enum Fate {
                /// In the dead-letter list, with a reason containing this.
                case deadLettered(reason: String)
                /// FAILURE stored for its id, with this exception type.
                case failed(exception: String)
                /// Runs normally (what looks odd is harmless).
                case succeeds
            }
            let name: String
            let raw: [UInt8]
            let id: String
            let fate: Fate
        }

        @Test func poisonMessagesAreDeadLetteredOrFailedOnceAndTheWorkerCarriesOn() async throws {
            let run = try await FaultRun(.poisonMessages)
            defer { run.close() }
            let workers = [try run.startWorker("early", ["-c", "4"]), try run.startWorker("late", ["-c", "4", "--acks-late"])]
            for worker in workers { try await run.waitReady(worker) }

            let poisons = try Self.poisons()
            for poison in poisons {
                try await run.send(FaultRun.adds(150))
                try await run.push(poison.raw)
                switch poison.fate {
                case .deadLettered: break
                case .failed: run.expect([poison.id], .failure)
                case .succeeds: run.expect([poison.id], .success)
                }
            }
            try await run.send(FaultRun.adds(150))
            try await run.settle()
            // Every poison meant for the dead letters is there, and nothing is left that could
            // come back: a message is always on the queue, in `unacked` (a requeue moves it back
            // in one step) or past its end, so with both empty a redelivery loop has nothing to
            // run on. (Dead letters are not results: settle() could not wait for them.)
            let meant = poisons.filter { if case .deadLettered = $0.fate { true } else { false } }.count
            try await run.poll(timeout: .seconds(60), "\(meant) dead letters and nothing queued or held") {
                let letters = try await run.deadLetters().count
                let queued = try await run.probe.send(RedisCommand("LLEN", "celery")).int
                let unacked = try await run.probe.send(RedisCommand("HLEN", QueueKeys.unacked)).int
                return letters >= meant && queued == 0 && unacked == 0
            }

            let letters = try await run.deadLetters()
            var deadLettered = 0
            var failed = 0
            for poison in poisons {
                switch poison.fate {
                case .deadLettered(let reason):
                    deadLettered += 1
                    let records = letters.filter { $0.message == String(decoding: poison.raw, as: UTF8.self) }
                    #expect(records.count == 1, "\(poison.name): dead-lettered \(records.count) times")
                    #expect(records.first?.reason.contains(reason) == true, "\(poison.name): \(records.first?.reason ?? "no record")")
                case .failed(let exception):
                    failed += 1
                    let meta = try await run.meta(of: poison.id)
                    #expect(meta?.status == .failure && meta?.exception?.type == exception,
                            "\(poison.name): \(String(describing: meta?.status)) \(String(describing: meta?.exception))")
                case .succeeds:
                    #expect(try await run.meta(of: poison.id)?.status == .success, "\(poison.name)")
                }
            }
            #expect(letters.count == deadLettered, "\(letters.map(\.reason))")
            let count = try await run.report(notes: "\(poisons.count) poison messages: \(deadLettered) dead-lettered, \(failed) failed, "
                                                 + "\(poisons.count - deadLettered - failed) ran")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            #expect(count.runTwice == 0)
            for worker in workers { #expect(worker.isRunning, "\(worker.name) died:\n\(worker.output.suffix(3000))") }
            // Nothing left behind for a restore to bring back.
            #expect(try await run.probe.send(RedisCommand("LLEN", "celery")).int == 0)
            #expect(try await run.probe.send(RedisCommand("HLEN", QueueKeys.unacked)).int == 0)
            #expect(try await run.probe.send(RedisCommand("HLEN", FaultRun.unackedOwnerKey)).int == 0)
        }

        /// Undecodable bytes, envelopes and bodies of the wrong shape, an unknown task, arguments
        /// a task cannot take, and a huge header of garbage.
        static func poisons() throws -> [Poison] {
            func message(_ name: String = "demo.add", _ args: [JSONValue] = [1, 2]) -> TaskMessage {
                TaskMessage.make(name: name, args: args, kwargs: [:], options: TaskSendOptions(), origin: "gen0@poison",
                                 now: Date(), newID: { UUID().uuidString.lowercased() })
            }
            /// A valid message with its envelope changed by `change`.
            func envelope(_ change: (inout KombuEnvelope) -> Void) -> (raw: [UInt8], id: String) {
                let m = message()
                var e = m.envelope()
                change(&e)
                return (e.encoded(), m.id)
            }
            /// A valid message with its top-level JSON member `key` replaced.
            func replacing(_ key: String, with value: JSONValue) throws -> [UInt8] {
                guard case .object(var top) = try JSONParser.parse(message().encoded()) else { return [] }
                top[key] = value
                return JSONValue.object(top).serialized()
            }
            var out: [Poison] = []
            out.append(Poison(name: "undecodable bytes", raw: [0xFF, 0xFE, 0x00] + Array("{garbage".utf8), id: "", fate: .deadLettered(reason: "JSON")))
            out.append(Poison(name: "envelope not an object", raw: Array("[1, 2, 3]".utf8), id: "", fate: .deadLettered(reason: "envelope")))
            out.append(Poison(name: "headers not an object", raw: try replacing("headers", with: "garbage"), id: "", fate: .deadLettered(reason: "headers")))
            out.append(Poison(name: "body not base64", raw: try replacing("body", with: "!!! not base64 !!!"), id: "", fate: .deadLettered(reason: "base64")))
            let notAList = envelope { $0.body = Array(#"{"args": [1, 2]}"#.utf8) }
            out.append(Poison(name: "body not a list", raw: notAList.raw, id: notAList.id, fate: .deadLettered(reason: "body")))
            let argsNotAList = envelope { $0.body = Array(#"["not a list", {}, {}]"#.utf8) }
            out.append(Poison(name: "args not a list", raw: argsNotAList.raw, id: argsNotAList.id, fate: .deadLettered(reason: "args")))
            let kwargsNotAnObject = envelope { $0.body = Array(#"[[1, 2], [3], {}]"#.utf8) }
            out.append(Poison(name: "kwargs not an object", raw: kwargsNotAnObject.raw, id: kwargsNotAnObject.id, fate: .deadLettered(reason: "kwargs")))
            let retriesText = envelope { $0.headers["retries"] = "many" }
            out.append(Poison(name: "retries not a number", raw: retriesText.raw, id: retriesText.id, fate: .deadLettered(reason: "retries")))
            let noID = envelope { $0.headers["id"] = nil }
            out.append(Poison(name: "no task id", raw: noID.raw, id: "", fate: .deadLettered(reason: "id")))

            let unknown = message("no.such.task")
            out.append(Poison(name: "unknown task", raw: unknown.encoded(), id: unknown.id, fate: .failed(exception: "NotRegistered")))
            let wrongTypes = message("demo.add", ["x", ["a": 1]])
            out.append(Poison(name: "arguments of the wrong types", raw: wrongTypes.encoded(), id: wrongTypes.id, fate: .failed(exception: "TypeError")))
            let missing = message("demo.add", [1])
            out.append(Poison(name: "an argument missing", raw: missing.encoded(), id: missing.id, fate: .failed(exception: "TypeError")))
            let huge = envelope { e in
                var garbage = ""
                garbage.reserveCapacity(2_000_000)
                for i in 0..<2_000_000 { garbage.unicodeScalars.append(Unicode.Scalar(UInt8(33 + (i * 7919) % 90))) }
                e.headers["x-garbage"] = .string(garbage)
            }
            out.append(Poison(name: "a 2 MB header of garbage", raw: huge.raw, id: huge.id, fate: .succeeds))
            return out
        }
    }
}
