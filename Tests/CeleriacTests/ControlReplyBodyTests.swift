import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct ControlReplyBodyTests {
    private static func capturedResult(_ name: String) throws -> JSONValue {
        try ControlReply.decode(try WireSamples.bytes(name + "_REPLY.json")).result
    }

    /// Builds the full reply envelope for a captured command with `result` and compares it with
    /// the capture, so shapes, texts and key orders are all checked byte for byte.
    private static func expectReproduces(_ name: String, _ result: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let original = try WireSamples.bytes(name + "_REPLY.json")
        let captured = try ControlReply.decode(original)
        var rebuilt = captured
        rebuilt.result = result
        #expect(
            WireSamples.ascii(rebuilt.encode(deliveryTag: try #require(try KombuEnvelope.decode(original).deliveryTag))) == WireSamples.ascii(original),
            "\(result.jsonString)", sourceLocation: sourceLocation)
    }

    @Test func reproducesPingAndRateLimitReplies() throws {
        try Self.expectReproduces("control_ping", ControlReplyBody.pong)
        try Self.expectReproduces("control_ping_destination", ControlReplyBody.pong)
        try Self.expectReproduces("control_rate_limit", ControlReplyBody.rateLimitSet)
        #expect(ControlReplyBody.rateLimitDisabled == .object(["ok": "rate limit disabled successfully"]))
        #expect(ControlReplyBody.rateLimitUnknownTask == .object(["error": "unknown task"]))
    }

    @Test func reproducesRevokeReplies() throws {
        try Self.expectReproduces(
            "control_revoke_no_terminate_with_reply", ControlReplyBody.revokeFlagged(["aaaaaaaa-0000-0000-0000-000000000001"]))
        try Self.expectReproduces(
            "control_revoke_terminate_SIGTERM_with_reply", ControlReplyBody.revokeTerminated(["0e87875f-069f-4b79-8e79-1c4ea020bfa0"]))
        try Self.expectReproduces("control_revoke_list_terminate_unknown_ids", ControlReplyBody.revokeTerminated([]))
        try Self.expectReproduces("control_revoke_list_terminate_unknown_ids", ControlReplyBody.revokeTerminateUnknown)
    }

    @Test(arguments: [
        ([String](), "tasks set() flagged as revoked"), (["a"], "tasks {'a'} flagged as revoked"),
        (["a", "b", "a"], "tasks {'a', 'b'} flagged as revoked"), (["it's"], "tasks {\"it's\"} flagged as revoked"),
    ])
    func formatsRevokedIdsAsAPythonSet(ids: [String], text: String) {
        #expect(ControlReplyBody.revokeFlagged(ids) == .object(["ok": .string(text)]))
    }

    @Test func terminateRepliesJoinIdsWithCommas() {
        #expect(ControlReplyBody.revokeTerminated(["a", "b"]) == .object(["ok": "terminate: a, b"]))
    }

    @Test func reproducesTheUnknownCommandError() throws {
        try Self.expectReproduces("control_unknown_command", ControlReplyBody.unknownCommand("no_such_command"))
        #expect(ControlReplyBody.unknownCommand("it's") == .object(["error": "KeyError(\"it's\")"]))
    }

    @Test func reproducesActiveReservedAndScheduledRequests() throws {
        let active = TaskRequestInfo(
            id: "0e87875f-069f-4b79-8e79-1c4ea020bfa0", name: "wireapp.slow", args: [30], kwargs: .object([:]), hostname: "w1@vm",
            timeStart: 1795571968.9686477, acknowledged: true, exchange: "", routingKey: "celery", priority: 0,
            redelivered: false, workerPID: 4845)
        try Self.expectReproduces("control_inspect_active", ControlReplyBody.requests([active]))
        try Self.expectReproduces("control_inspect_reserved", ControlReplyBody.requests([]))
        let waiting = TaskRequestInfo(
            id: "9e6ab4ca-9f8f-4b8a-9669-f8e3dc6c12a3", name: "wireapp.add", args: [1, 1], kwargs: .object([:]), hostname: "w1@vm",
            timeStart: nil, acknowledged: false, exchange: "", routingKey: "celery", priority: 0, redelivered: false,
            workerPID: nil)
        try Self.expectReproduces(
            "control_inspect_scheduled",
            .array([ControlReplyBody.scheduledEntry(eta: "2026-11-25T01:59:22.347288+00:00", priority: 6, request: waiting)]))
    }

    @Test func reproducesClockHelloRevokedRegisteredAndQueryTask() throws {
        try Self.expectReproduces("control_inspect_clock", ControlReplyBody.clock(42))
        try Self.expectReproduces(
            "control_hello_mingle", ControlReplyBody.hello(revoked: ["11111111-2222-3333-4444-555555555555"], clock: 8))
        try Self.expectReproduces(
            "control_inspect_revoked",
            ControlReplyBody.revoked([
                "659be21a-5149-4ed9-ac26-c5a5a092ba58", "0e87875f-069f-4b79-8e79-1c4ea020bfa0",
                "03f53955-48df-4ab6-ac75-ab3fd3963f7e",
            ]))
        try Self.expectReproduces(
            "control_inspect_registered",
            ControlReplyBody.registered(["wireapp.slow", "wireapp.add", "wireapp.retrying", "wireapp.fail", "wireapp.floaty"]))
        try Self.expectReproduces("control_inspect_query_task", ControlReplyBody.queryTask([]))
    }

    @Test func queryTaskMapsIdsToStateAndRequest() {
        let r = TaskRequestInfo(
            id: "x", name: "n", args: [], kwargs: .object([:]), hostname: "w@h", timeStart: nil, acknowledged: false, exchange: "",
            routingKey: "celery", priority: nil, redelivered: false, workerPID: nil)
        let v = ControlReplyBody.queryTask([(state: "reserved", request: r)])
        #expect(v["x"] == JSONValue.array(["reserved", r.jsonValue]))
        #expect(r.jsonValue["delivery_info"]?["priority"] == JSONValue.null)
    }

    @Test func reproducesTheStatsShapeWithAStringClock() throws {
        let captured = try Self.capturedResult("control_inspect_stats")
        let stats = ControlReplyBody.stats(
            total: try #require(captured["total"]?.objectValue), pid: 4781, clock: 135, uptime: 81,
            pool: try #require(captured["pool"]?.objectValue), broker: try #require(captured["broker"]?.objectValue),
            prefetchCount: 8, rusage: try #require(captured["rusage"]?.objectValue))
        #expect(stats["clock"] == "135")
        try Self.expectReproduces("control_inspect_stats", stats)
    }

    @Test func okAndErrorWrapText() {
        #expect(ControlReplyBody.ok("fine") == .object(["ok": "fine"]))
        #expect(ControlReplyBody.error("bad") == .object(["error": "bad"]))
    }
}
