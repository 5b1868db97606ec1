/// Every fault the suite inflicts, named as its report line names it.
///
/// The suite summary is printed once each of these has reported, so a new fault is a new case
/// here plus a test that calls ``FaultRun/report(notes:)``.
enum Fault: String, CaseIterable, Sendable {
    case killNineWorker = "kill-9-worker"
    case redisRestart = "redis-restart"
    case redisUnreachable = "redis-unreachable-30s"
    case poisonMessages = "poison-messages"
    case warmShutdown = "warm-shutdown"
    case coldShutdown = "cold-shutdown"
    case killNinePoolChild = "kill-9-pool-child"
    case crashingTask = "task-crashing-its-child"
    case workerKillingMessage = "worker-killing-message"
    case shutdownWithoutRedis = "sigterm-while-redis-unreachable"
    case redisRefusesWrites = "redis-oom-10s"
    case stalledWorker = "sigstop-worker-10s"
    case stalePeerBookkeeping = "sigstop-then-ack-and-restore"
    case killNineMidChord = "kill-9-mid-chord"
}
