import Celeriac
import Logging
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct CeleryLogHandlerTests {
    private func event(_ message: Logger.Message, metadata: Logger.Metadata? = nil) -> LogEvent {
        LogEvent(level: .error, message: message, metadata: metadata, source: nil, file: #fileID, function: #function, line: #line)
    }

    @Test func linesAreCelerysFormat() {
        let line = CeleryLogHandler(label: "t", process: "qmon").line(for: event("hello", metadata: ["b": "2", "a": "1"]))
        #expect(line.hasPrefix("["))
        #expect(line.hasSuffix("ERROR/qmon] hello a=1 b=2\n"), "\(line)")
    }

    @Test func credentialsInMessagesAndMetadataAreMasked() {
        let handler = CeleryLogHandler(label: "t")
        let line = handler.line(for: event(
            "task shop.sync returned 'redis://admin:s3cr3t@cache:6379/0'", metadata: ["url": "amqp://guest:s3cr3t@rabbit//"]))
        #expect(!line.contains("s3cr3t"), "\(line)")
        #expect(line.contains("'redis://admin:***@cache:6379/0'") && line.contains("url=amqp://guest:***@rabbit//"), "\(line)")
    }
}
