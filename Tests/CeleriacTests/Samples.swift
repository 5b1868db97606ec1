import Foundation
import Testing

/// The captured Celery wire samples in `Tests/Fixtures/celery-wire/samples`. Tests fail, not
/// skip, when they are missing.
enum Samples {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/celery-wire/samples").standardizedFileURL

    static func names(prefix: String) -> [String] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return all.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") && !$0.hasSuffix(".body.json") }.sorted()
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        let url = directory.appendingPathComponent(name)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record("sample \(name) missing at \(url.path)")
            throw CocoaError(.fileNoSuchFile)
        }
        return [UInt8](data)
    }
}
