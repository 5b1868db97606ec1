import Celeriac
import Foundation
import Testing

@Suite struct CeleriacConfigTests {
    private func withFile(_ text: String, _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("celeriac-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    @Test func defaultsAreCelerys() throws {
        let c = try CeleriacConfig.load(environment: [:], workingDirectory: "/nonexistent")
        #expect(c.brokerURL == "redis://localhost:6379/0")
        #expect(c.taskDefaultQueue == "celery")
        #expect(c.resultExpires == 86_400)
        #expect(c.effectiveResultBackend == c.brokerURL)
        #expect(c.workerPrefetchMultiplier == 4)
    }

    @Test func fileSetsValuesAndEnvironmentOverridesThem() throws {
        try withFile("broker_url: redis://127.0.0.1:7000/2\ntask_default_queue: jobs\nresult_expires: 60\n") { path in
            let fromFile = try CeleriacConfig.load(file: path, environment: [:])
            #expect(fromFile.brokerURL == "redis://127.0.0.1:7000/2")
            #expect(fromFile.taskDefaultQueue == "jobs")
            #expect(fromFile.resultExpires == 60)
            let overridden = try CeleriacConfig.load(file: path, environment: ["CELERY_TASK_DEFAULT_QUEUE": "urgent", "CELERY_RESULT_BACKEND": "redis://127.0.0.1:7001/0"])
            #expect(overridden.taskDefaultQueue == "urgent")
            #expect(overridden.brokerURL == "redis://127.0.0.1:7000/2")
            #expect(overridden.effectiveResultBackend == "redis://127.0.0.1:7001/0")
        }
    }

    @Test func configFileIsFoundThroughEnvironmentAndWorkingDirectory() throws {
        try withFile("task_default_queue: viaenv\n") { path in
            let c = try CeleriacConfig.load(environment: ["CELERIAC_CONFIG": path])
            #expect(c.taskDefaultQueue == "viaenv")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("celeriac-wd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "task_default_queue: viacwd\n".write(to: dir.appendingPathComponent("celeriac.yaml"), atomically: true, encoding: .utf8)
        #expect(try CeleriacConfig.load(environment: [:], workingDirectory: dir.path).taskDefaultQueue == "viacwd")
    }

    @Test func resultsCanBeDisabled() throws {
        let c = try CeleriacConfig.load(environment: ["CELERY_RESULT_BACKEND": "disabled"], workingDirectory: "/nonexistent")
        #expect(c.effectiveResultBackend == nil)
    }

    @Test func unknownSettingsAndBadValuesAreOneLineErrorsNamingTheSource() throws {
        try withFile("broker_ur: redis://x\n") { path in
            #expect { try CeleriacConfig.load(file: path, environment: [:]) } throws: { e in
                "\(e)".contains("unknown setting 'broker_ur'") && "\(e)".contains(path)
            }
        }
        #expect { try CeleriacConfig.load(environment: ["CELERY_RESULT_EXPIRES": "soon"], workingDirectory: "/nonexistent") } throws: { e in
            "\(e)".contains("CELERY_RESULT_EXPIRES") && !"\(e)".contains("\n")
        }
        #expect(throws: ConfigError.self) { try CeleriacConfig.load(file: "/nonexistent/celeriac.yaml", environment: [:]) }
        try withFile("- a\n- b\n") { path in
            #expect(throws: ConfigError.self) { try CeleriacConfig.load(file: path, environment: [:]) }
        }
    }
}
