import Celeriac
import Foundation
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct CeleriacConfigTests {
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

    /// A tutorial's `config.py` names Celery settings Celeriac does not use: they are ignored and
    /// named in one warning line; a name Celery does not know either is still an error.
    @Test func celerySettingsCeleriacDoesNotUseAreIgnoredWithOneWarning() throws {
        try withFile("broker_url: redis://127.0.0.1:7000/15\ntimezone: Asia/Shanghai\nenable_utc: false\n") { path in
            let c = try CeleriacConfig.load(file: path, environment: [:])
            #expect(c.brokerURL == "redis://127.0.0.1:7000/15")
            #expect(c.ignoredCelerySettings == ["enable_utc", "timezone"])
            #expect(c.ignoredSettingsWarning == "config: ignoring Celery settings Celeriac does not use: enable_utc, timezone")
        }
        try withFile("brokr_url: redis://127.0.0.1:7000/15\n") { path in
            #expect(throws: ConfigError.self) { try CeleriacConfig.load(file: path, environment: [:]) }
        }
        #expect(try CeleriacConfig.load(environment: [:], workingDirectory: "/nonexistent").ignoredSettingsWarning == nil)
    }

    @Test func workflowSettingsAreReadByTheirCeleryNames() throws {
        try withFile("task_inherit_parent_priority: true\nresult_chord_join_timeout: 10\n") { path in
            let c = try CeleriacConfig.load(file: path, environment: [:])
            #expect(c.taskInheritParentPriority)
            #expect(c.resultChordJoinTimeout == 10)
        }
        #expect(throws: ConfigError.self) { try CeleriacConfig.load(environment: ["CELERY_RESULT_CHORD_JOIN_TIMEOUT": "-1"], workingDirectory: "/nonexistent") }
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

    /// Broken YAML with a password on (or next to) the offending line, and what the one-line
    /// error must say instead of quoting it.
    static let brokenYAML: [(yaml: String, mentions: [String])] = [
        ("broker_url: \"redis://:PW-s3cr3t@h:1/0\n", ["line 2, column 1", "found unexpected end of stream", "quoted scalar", "line 1 column 13"]),
        ("broker_url: redis://:PW-s3cr3t@h:1/0: x\n", ["line 1, column 37", "mapping values are not allowed"]),
        ("result_expires: 5\n  broker_url: redis://:PW-s3cr3t@h:1/0\n", ["line 2, column 13", "mapping values are not allowed"]),
        ("broker_url: redis://:PW-s3cr3t@h:1/0\nbroker_url: redis://:PW-s3cr3t@h:1/0\n", ["given twice", "'broker_url'"]),
        ("broker_url: \"redis://:PW-s3cr3t\u{01}@h:1/0\"\n", ["line 1", "control characters are not allowed"]),
        ("broker_url: [redis://:PW-s3cr3t@h:1/0\n", ["line 2, column 1", "did not find expected ',' or ']'"]),
    ]

    @Test(arguments: brokenYAML)
    func yamlErrorsSayWhereAndWhatWithoutQuotingTheLine(_ yaml: String, _ mentions: [String]) throws {
        try withFile(yaml) { path in
            #expect { try CeleriacConfig.load(file: path, environment: [:]) } throws: { e in
                let text = "\(e)"
                for word in mentions { #expect(text.contains(word), "\(text) lacks \(word)") }
                #expect(text.contains(path) && text.contains("not valid YAML"), "\(text)")
                #expect(!text.contains("s3cr3t") && !text.contains("\n"), "\(text)")
                return true
            }
        }
    }

    @Test func wrongValuesAreQuotedWithCredentialsMasked() throws {
        // A broker URL pasted into the wrong setting, in a file and in the environment.
        try withFile("broker_url: redis://:PW-s3cr3t@h:1/0\nresult_expires: redis://:PW-s3cr3t@h:1/0\n") { path in
            #expect { try CeleriacConfig.load(file: path, environment: [:]) } throws: { e in
                "\(e)" == "\(path): result_expires must be a whole number ≥ 0, not 'redis://:***@h:1/0'"
            }
        }
        #expect { try CeleriacConfig.load(environment: ["CELERY_WORKER_CONCURRENCY": "redis://admin:PW-s3cr3t@h"], workingDirectory: "/nonexistent") } throws: { e in
            "\(e)" == "environment variable CELERY_WORKER_CONCURRENCY: worker_concurrency must be a whole number ≥ 0, not 'redis://admin:***@h'"
        }
        try withFile("task_acks_late: yes please, password=PW-s3cr3t\n") { path in
            #expect { try CeleriacConfig.load(file: path, environment: [:]) } throws: { e in
                "\(e)".hasSuffix("task_acks_late must be true or false, not 'yes please, password=***'")
            }
        }
    }
}
