import Foundation
import Testing

/// The real captures in `shared/celery-wire/samples/`, found next to this repository's clone.
///
/// The path is derived from `#filePath` (…/Tests/CeleriacTests/ → repo root → `../shared`),
/// so the tests work from any clone with `shared/` beside it. A missing directory is an error,
/// not a skip: these captures are the ground truth for the wire format.
enum CelerySamples {
    struct Sample {
        var name: String
        var bytes: [UInt8]
    }

    static func directory(filePath: String = #filePath) -> URL {
        URL(fileURLWithPath: filePath)
            .deletingLastPathComponent()  // CeleriacTests/
            .deletingLastPathComponent()  // Tests/
            .deletingLastPathComponent()  // repo root
            .appendingPathComponent("../shared/celery-wire/samples", isDirectory: true)
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
