public import Testing

// The tags scripts/test.sh selects phases by (scripts/test-selection.py reads them from the
// test listing). Every top-level suite carries exactly one phase tag: `unit`, `memoryBounds`,
// `integration` or `fault`; `timing` marks a test that asserts on elapsed wall-clock time,
// which the default run leaves out (`scripts/test.sh --timing` runs them).
//
// One module every test target links (not the test kit: that one is also linked by the
// benchmark's executable, which must not pull in the testing library).
extension Tag {
    /// Pure code: codec, config, registry. Runs first, alone (it has CPU-heavy cases).
    @Tag public static var unit: Self
    /// qmon's memory bounds: reads malloc's bytes in use for the whole process, so runs alone.
    @Tag public static var memoryBounds: Self
    /// Private redis-servers, in-process and real workers, real Celery 5.7.
    @Tag public static var integration: Self
    /// The fault suite: kills, outages and shutdowns under load; runs alone, last.
    @Tag public static var fault: Self
    /// Asserts on elapsed wall-clock time; not in the default run (a loaded machine fails it).
    @Tag public static var timing: Self
}
