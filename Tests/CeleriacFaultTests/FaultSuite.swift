import CeleriacTestTags
import Testing

/// Issue #5's fault suite: each fault done for real (real `qworker` processes, a real
/// redis-server) under a load of a few thousand tasks, counted as sent, finished, lost (must be
/// 0) and run twice. Each test prints `fault <name>: sent …, finished …, lost …, run twice …`;
/// the last one to report also prints the `fault suite: …` summary.
///
/// The faults run one after another (each loads the machine's cores on its own); they live in
/// nested suites, one file per kind of fault, which `.serialized` covers too.
@Suite(.tags(.fault), .serialized) struct FaultSuite {}
