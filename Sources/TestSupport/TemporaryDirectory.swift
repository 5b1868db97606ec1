public import Foundation

/// A fresh directory under the system temp dir, removed by ``remove()``.
///
/// Test servers keep their unix sockets, logs and config files here, so nothing a test
/// starts ever touches a shared path.
public struct TemporaryDirectory: Sendable {
    public let url: URL

    public init(prefix: String = "celeriac") throws {
        let base = FileManager.default.temporaryDirectory
        url = base.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public var path: String { url.path }

    public func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}
