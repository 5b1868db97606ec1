import Celeriac
import Foundation
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct ResultMetaTests {
    static let resultSamples = Samples.names(prefix: "result_")

    static func decode(_ name: String) throws -> ResultMeta {
        try ResultMeta.decode(Samples.bytes(name))
    }

    static func iso(_ d: Date?) -> String? { d.map(CeleryDate.format) }

    @Test func allResultSamplesArePresent() {
        #expect(Self.resultSamples.count == 14, "samples dir: \(Samples.directory.path)")
    }

    @Test(arguments: resultSamples) func reencodesEveryResultSampleByteForByte(name: String) throws {
        let bytes = try Samples.bytes(name)
        let meta = try ResultMeta.decode(bytes)
        #expect(String(decoding: meta.encoded(), as: UTF8.self) == String(decoding: bytes, as: UTF8.self))
    }

    @Test func decodesSuccessResults() throws {
        let s = try Self.decode("result_SUCCESS.json")
        #expect(s.status == .success && s.result == 5 && s.children == [] && s.exception == nil)
        #expect(Self.iso(s.dateDone) == "2026-11-25T01:59:14.251168+00:00")
        #expect(s.groupID == nil && s.parentID == nil)
        let f = try Self.decode("result_SUCCESS_floats_unicode.json")
        #expect(f.result["f"] == .double(0.15000000000000002))
        #expect(f.result["list"] == [1, .double(2.0), "é"])
        let chain = try Self.decode("result_SUCCESS_chain_parent_children.json")
        #expect(chain.children == [[["baa8b7f0-65b8-4368-91d5-f373c8769ae6", nil], nil]])
        let member = try Self.decode("result_SUCCESS_group_member.json")
        #expect(member.groupID == "57bb8767-a848-460b-8b39-d38d32cab288")
    }

    @Test func decodesFailureResultsWithExceptions() throws {
        let f = try Self.decode("result_FAILURE.json")
        #expect(f.status == .failure)
        #expect(f.exception == ExceptionInfo(type: "ValueError", message: "boom: bad value"))
        #expect(f.exception?.summary == "ValueError('boom: bad value')")
        #expect(f.traceback?.hasSuffix("ValueError: boom: bad value\n") == true)
        let nr = try Self.decode("result_FAILURE_notregistered.json")
        #expect(nr.exception?.summary == "NotRegistered('nope.unknown')")
        #expect(nr.exception?.module == "celery.exceptions" && nr.traceback == nil)
        let reject = try Self.decode("result_FAILURE_reject.json")
        #expect(reject.exception?.message == ["no thanks", false])
        #expect(reject.exception?.summary == "Reject('no thanks', False)")
    }

    @Test func decodesRetryAndStarted() throws {
        let r = try Self.decode("result_RETRY.json")
        #expect(r.status == .retry && r.dateDone == nil)
        #expect(r.exception == ExceptionInfo(type: "KeyError", message: "again"))
        #expect(r.children == [[["e4303b3e-612a-4477-8a17-a135027bb1b9", nil], nil]])
        let s = try Self.decode("result_STARTED.json")
        #expect(s.status == .started && s.result["pid"] == 4845 && s.result["hostname"] == "w1@vm")
        #expect(s.dateDone == nil && s.exception == nil)
        let afterRetry = try Self.decode("result_STARTED_after_retry_has_parent_id.json")
        #expect(afterRetry.parentID == "e4303b3e-612a-4477-8a17-a135027bb1b9")
    }

    @Test func decodesRevokedVariants() throws {
        let t = try Self.decode("result_REVOKED_terminated.json")
        #expect(t.exception == .revoked("terminated") && t.children == [])
        let e = try Self.decode("result_REVOKED_expired.json")
        #expect(e.exception?.message == ["expired"])
        let byControl = try Self.decode("result_REVOKED_by_control_for_unknown_pending_id.json")
        #expect(byControl.children == .null && byControl.exception == .revoked("revoked"))
        #expect(Self.iso(byControl.dateDone) == "2026-11-25T02:07:12.334253+00:00")
    }

    @Test func factoriesReproduceWhatTheWorkerWrote() throws {
        let cases: [(String, ResultMeta)] = [
            ("result_SUCCESS.json", .success(taskID: "8bd1c012-b0f8-49ee-a1a5-341a16517ca8", result: 5,
                now: CeleryDate.parse("2026-11-25T01:59:14.251168+00:00")!)),
            ("result_SUCCESS_group_member.json", .success(taskID: "4258236a-a27f-4575-96e0-14bb8afc4427", result: 2,
                now: CeleryDate.parse("2026-11-25T01:59:23.931876+00:00")!, groupID: "57bb8767-a848-460b-8b39-d38d32cab288")),
            ("result_FAILURE_notregistered.json", .failure(taskID: "9878de92-7bf3-43da-9123-e4b0835df14f",
                exception: ExceptionInfo(type: "NotRegistered", message: "nope.unknown", module: "celery.exceptions"),
                traceback: nil, now: CeleryDate.parse("2026-11-25T01:59:27.462987+00:00")!)),
            ("result_REVOKED_by_control_before_receipt.json", .revoked(taskID: "03f53955-48df-4ab6-ac75-ab3fd3963f7e",
                reason: "revoked", children: .null, now: CeleryDate.parse("2026-11-25T01:59:35.021881+00:00")!)),
            ("result_REVOKED_expired.json", .revoked(taskID: "659be21a-5149-4ed9-ac26-c5a5a092ba58", reason: "expired",
                now: CeleryDate.parse("2026-11-25T01:59:22.861034+00:00")!)),
            ("result_STARTED.json", .started(taskID: "8bd1c012-b0f8-49ee-a1a5-341a16517ca8", pid: 4845, hostname: "w1@vm")),
            ("result_STARTED_after_retry_has_parent_id.json", .started(taskID: "e4303b3e-612a-4477-8a17-a135027bb1b9",
                pid: 4845, hostname: "w1@vm", parentID: "e4303b3e-612a-4477-8a17-a135027bb1b9")),
        ]
        for (name, meta) in cases {
            #expect(String(decoding: meta.encoded(), as: UTF8.self) == String(decoding: try Samples.bytes(name), as: UTF8.self), "\(name)")
        }
        let retry = ResultMeta.retry(taskID: "e4303b3e-612a-4477-8a17-a135027bb1b9",
            exception: ExceptionInfo(type: "KeyError", message: "again"), traceback: "tb")
        #expect(retry.children == (try Self.decode("result_RETRY.json")).children)
    }

    /// ``ResultMeta/encoded()`` writes field by field; it must equal the object's serialization.
    @Test func encodedIsTheSerializedObject() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000.123456)
        var extended = ResultMeta.success(taskID: "id", result: ["a": [1, 2.5]], now: now, parentID: "p", groupID: "g")
        extended.extended = .init(name: "n\u{e9}", args: [1, "x"], kwargs: .object(["k": .null]), worker: nil, retries: 3, queue: "q")
        var withExtra = ResultMeta.success(taskID: "id", result: 1, now: now)
        withExtra.extra = ["status2": "x", "task_id": "replaced in place"]
        let metas: [ResultMeta] = [
            .success(taskID: "id", result: .string("caf\u{e9} \"quoted\"\n"), now: now),
            .success(taskID: "id", result: .double(0.1), now: now, parentID: "", groupID: ""),
            .failure(taskID: "id", exception: ExceptionInfo(type: "KeyError", message: "k"), traceback: "Traceback\n  \u{1F600}", now: now),
            .revoked(taskID: "id", reason: "terminated", children: .null, now: now, parentID: "p"),
            .retry(taskID: "id", exception: ExceptionInfo(type: "E", message: "m"), traceback: nil, groupID: "g"),
            .started(taskID: "id", pid: 1, hostname: "w@h"),
            extended, withExtra,
        ]
        for meta in metas {
            #expect(meta.encoded() == meta.jsonValue.serialized(), "\(meta)")
        }
    }

    @Test func extendedFieldsGoBeforeTaskID() throws {
        var meta = ResultMeta.success(taskID: "id", result: 1, now: Date(timeIntervalSince1970: 0), parentID: "p")
        meta.extended = .init(name: "wireapp.add", args: [1], kwargs: .object([:]), worker: "w1@vm", retries: 0, queue: "celery")
        let text = String(decoding: meta.encoded(), as: UTF8.self)
        #expect(text == #"{"status": "SUCCESS", "result": 1, "traceback": null, "children": [], "date_done": "1970-01-01T00:00:00+00:00", "parent_id": "p", "name": "wireapp.add", "args": [1], "kwargs": {}, "worker": "w1@vm", "retries": 0, "queue": "celery", "task_id": "id"}"#)
        #expect(try ResultMeta.decode(meta.encoded()) == meta)
    }

    @Test func rejectsMalformedResults() {
        let cases: [(String, ProtocolError.Code)] = [
            ("", .invalidJSON), ("[1]", .wrongType), (#"{"status": "SUCCESS"}"#, .missingField),
            (#"{"status": "WEIRD", "task_id": "x"}"#, .wrongType), (#"{"status": 1, "task_id": "x"}"#, .wrongType),
            (#"{"status": "SUCCESS", "task_id": "x", "date_done": "yesterday"}"#, .wrongType),
        ]
        for (text, code) in cases {
            #expect(throws: ProtocolError.self) { try ResultMeta.decode(Array(text.utf8)) }
            do { _ = try ResultMeta.decode(Array(text.utf8)) } catch { #expect(error.code == code, "\(text)") }
        }
    }
}

@Suite(.tags(.unit)) struct TaskStateTests {
    @Test func readinessAndPrecedenceFollowCeleryStates() {
        #expect(TaskState.allCases.filter(\.isReady) == [.success, .failure, .revoked])
        let order = TaskState.allCases.sorted { $0.precedence < $1.precedence }.map(\.rawValue)
        #expect(order == ["SUCCESS", "FAILURE", "REVOKED", "STARTED", "RECEIVED", "REJECTED", "RETRY", "PENDING"])
        #expect(TaskState.precedence(of: "CUSTOM") == 2)
        #expect(TaskState.failure.precedence < TaskState.precedence(of: "CUSTOM"))
        #expect(TaskState.precedence(of: "CUSTOM") < TaskState.revoked.precedence)
    }
}
