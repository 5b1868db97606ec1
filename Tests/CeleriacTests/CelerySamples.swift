import Foundation
import Testing

/// The real Celery 5.7 captures, committed in `Tests/Fixtures/celery-wire/samples/`.
///
/// The path is derived from `#filePath` (…/Tests/CeleriacTests/ → Tests/), so the tests work
/// from any clone. A missing directory is an error, not a skip: these captures are the ground
/// truth for the wire format.
enum CelerySamples {
    struct Sample {
        var name: String
        var bytes: [UInt8]
    }

    static func directory(filePath: String = #filePath) -> URL {
        URL(fileURLWithPath: filePath)
            .deletingLastPathComponent()  // CeleriacTests/
            .deletingLastPathComponent()  // Tests/
            .appendingPathComponent("Fixtures/celery-wire/samples", isDirectory: true)
            .standardizedFileURL
    }

    /// Every `*.json` sample (envelopes, bodies, results), sorted by name.
    static func jsonFiles() throws -> [Sample] {
        let dir = directory()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasSuffix(".json") }
            .sorted()
        try #require(names.count > 50, "expected the captured samples in \(dir.path)")
        return try names.map { name in
            Sample(name: name, bytes: Array(try Data(contentsOf: dir.appendingPathComponent(name))))
        }
    }
}
