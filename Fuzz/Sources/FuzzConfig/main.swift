// Config files: the YAML a worker or qmon loads at start-up, through the real file path.
import Celeriac
import FuzzSupport
import Foundation

private let path = FileManager.default.temporaryDirectory
    .appendingPathComponent("celeriac-fuzz-config-\(getpid()).yaml").path

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fatalError("cannot write \(path)") }
    if let config = try? CeleriacConfig.load(file: path, environment: [:]) {
        _ = try? RedisURL(parsing: config.brokerURL)
        _ = config.effectiveResultBackend.map { try? RedisURL(parsing: $0) }
    }
    return 0
}
