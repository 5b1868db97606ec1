import Celeriac
import CeleriacBench
import CeleriacTestSupport
import Foundation
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct MonitorStreamTests {
    @Test func singleAndBatchedStreamsCarryTheSameEvents() throws {
        var single: [CeleryEvent] = []
        var singleMessages = 0
        try EventStream.generate(tasks: 50, batching: .single) { payload, n in
            let events = try EventCodec.decode(channel: nil, payload: payload)
            #expect(events.count == n)
            single += events
            singleMessages += 1
        }
        var multi: [CeleryEvent] = []
        var multiMessages = 0
        try EventStream.generate(tasks: 50, batching: .multi) { payload, _ in
            multi += try EventCodec.decode(channel: nil, payload: payload)
            multiMessages += 1
        }
        #expect(single == multi)
        // 50 tasks × 3 events, plus one heartbeat from each of the 4 workers at the start.
        #expect(single.count == 154)
        #expect(singleMessages == 154)
        #expect(multiMessages == 4 + 7, "4 heartbeats, then one task.multi per block of 8 tasks")
        #expect(Set(single.compactMap { $0.task?.uuid }).count == 50)
    }

    @Test func aStreamFileReadsBackAndTheModelTakesEveryEvent() throws {
        let dir = try TemporaryDirectory(prefix: "bench-stream")
        defer { dir.remove() }
        let path = dir.file("events.lines")
        let events = try EventStream.write(tasks: 100, batching: .multi, to: path)
        #expect(events == 304)
        let messages = try EventStream.read(from: path)
        let (rate, state) = try MonitorIngest.measure(messages)
        #expect(rate > 0)
        #expect(state.eventCount == 304)
        #expect(state.tasks.count == 100)
        #expect(state.tasks.oldestFirst.allSatisfy { $0.state == .success })
        #expect(state.workers.count == 4)
    }

    @Test func residentMemoryOfThisProcessIsRead() {
        let rss = ProcessMemory.residentBytes(pid: getpid())
        #expect((rss ?? 0) > 1_000_000)
        #expect(ProcessMemory.treeResidentBytes(pid: getpid()) ?? 0 >= rss ?? 0)
        #expect(ProcessMemory.residentBytes(pid: 999_999_999) == nil)
    }

    @Test func theMemoryProbeReadsEachCheckpointOnceFromOneStream() throws {
        let out = try MonitorProbe.memory(checkpoints: [64, 16, 40], maxTasks: 20)
        let checkpoints = try #require(out["checkpoints"]?.arrayValue).compactMap(\.objectValue)
        #expect(checkpoints.map { $0["checkpoint"]?.intValue } == [0, 16, 40, 64], "a baseline, then in order")
        for c in checkpoints.dropFirst() {
            let mark = try #require(c["checkpoint"]?.intValue)
            let seen = try #require(c["tasks_seen"]?.intValue)
            // Read after the first message that takes the count past the mark (8 tasks each).
            #expect(seen >= mark && seen < mark + 8)
            #expect(c["tasks_held"]?.intValue == min(seen, 20), "the store stays bounded")
            #expect((c["rss_bytes"]?.intValue ?? 0) > 1_000_000)
        }
    }
}
