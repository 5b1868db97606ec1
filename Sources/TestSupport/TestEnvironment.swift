public import Foundation

/// Where tests find what the test command prepared: the repository, the built binaries and the
/// Python venv with real Celery. `scripts/test.sh` sets the variables; the fallbacks are the
/// same paths, for a developer running `swift test` after one run of the script.
public enum TestEnvironment {
    /// The repository root (this file is Sources/TestSupport/TestEnvironment.swift).
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The captured Celery 5.7 wire samples committed in `Tests/Fixtures/celery-wire/samples`.
    public static var samplesDirectory: URL {
        repoRoot.appendingPathComponent("Tests/Fixtures/celery-wire/samples")
    }

    /// The directory holding `qworker` (and later `qmon`).
    public static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["CELERIAC_BIN_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        return repoRoot.appendingPathComponent(".build/debug")
    }

    /// The venv's Python, which has celery==5.7.0 installed.
    public static var python: String {
        if let p = ProcessInfo.processInfo.environment["CELERIAC_PYTHON"], !p.isEmpty { return p }
        return repoRoot.appendingPathComponent(".venv/bin/python").path
    }

    /// `interop/` with the Python demo app and client.
    public static var interopDirectory: URL { repoRoot.appendingPathComponent("interop") }
}
