import Celeriac
import CeleriacMonitor
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct MonitorInputBufferTests {
    typealias E = EventScript

    private func eventCounts(_ inputs: [MonitorInput]) -> [Int] {
        inputs.compactMap { if case .events(let e, _) = $0 { e.count } else { nil } }
    }

    @Test func groupsEventsArrivingTogetherAndKeepsOrderWithOtherInputs() {
        let buffer = MonitorInputBuffer(groupingWindow: 0.005)
        buffer.append(event: E.received("a", at: 1), receivedAt: 100.000)
        buffer.append(event: E.started("a", at: 1), receivedAt: 100.002)
        buffer.append(event: E.succeeded("a", at: 1), receivedAt: 100.100)
        buffer.append(.notice("hello"))
        buffer.append(event: E.received("b", at: 2), receivedAt: 100.2)
        let inputs = buffer.drain()
        #expect(inputs.count == 4)
        guard case .events(let first, let at) = inputs[0] else { Issue.record("\(inputs)"); return }
        #expect(first.map(\.kind) == [.taskReceived, .taskStarted] && at == 100.0)
        #expect(eventCounts(inputs) == [2, 1, 1])
        guard case .notice("hello") = inputs[2] else { Issue.record("\(inputs)"); return }
        #expect(buffer.drain().isEmpty && buffer.eventCount == 0)
    }

    @Test func keepsTheNewestEventsAndNoticesTheDropOnce() {
        let buffer = MonitorInputBuffer(capacity: 3, groupingWindow: 0)
        buffer.append(.queues([], at: 1))
        for i in 0..<5 { buffer.append(event: E.received("t\(i)", at: 1), receivedAt: Double(i)) }
        let inputs = buffer.drain()
        let ids = inputs.flatMap { input -> [String] in
            if case .events(let e, _) = input { e.compactMap(\.task?.uuid) } else { [] }
        }
        #expect(ids == ["t2", "t3", "t4"])
        let notices = inputs.filter { if case .notice = $0 { true } else { false } }
        #expect(notices.count == 1)
        #expect(inputs.contains { if case .queues = $0 { true } else { false } })
    }
}
