import Celeriac
import Foundation
import Logging
import Synchronization

/// The worker's pidbox: receives broadcast control commands (`/<db>.celery.pidbox`, pub/sub),
/// has ``ControlCommands`` run those addressed to this node, and replies the way Python workers
/// do: by looking up the client's reply queue in `_kombu.binding.reply.celery.pidbox` and
/// LPUSHing the reply there (no binding, no reply — Python drops it too).
///
/// Commands arrive on the subscriber's thread and are handed to ``serve()`` through a stream, so
/// a slow command (a backend lookup for `revoke`) never stalls the pub/sub loop. It knows the
/// worker only as a ``ControlledWorker``.
final class ControlServer: Sendable {
    private let worker: any ControlledWorker
    private let commands: ControlCommands
    /// Where replies are pushed.
    private let broker: RedisClient
    private let subscriber: RedisSubscriber
    private let stream: AsyncStream<[UInt8]>
    private let input: AsyncStream<[UInt8]>.Continuation
    private let malformedLog: RateLimitedLog

    private init(worker: any ControlledWorker, broker: RedisClient, subscriber: RedisSubscriber, stream: AsyncStream<[UInt8]>,
                 input: AsyncStream<[UInt8]>.Continuation) {
        self.worker = worker
        commands = ControlCommands(worker: worker)
        self.broker = broker
        self.subscriber = subscriber
        self.stream = stream
        self.input = input
        malformedLog = RateLimitedLog(logger: worker.logger, interval: .seconds(10))
    }

    /// Subscribes to the broadcast channel and declares this node's pidbox binding.
    /// - Parameters:
    ///   - worker: Runs the commands.
    ///   - broker: The worker's broker connection, for the binding and the replies.
    ///   - outageLog: Shared with the worker's other connections, so an outage is one warning.
    static func start(worker: any ControlledWorker, broker: RedisClient, outageLog: RedisOutageLog) async throws -> ControlServer {
        let (stream, input) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingNewest(1024))
        var options = RedisOptions()
        options.name = "pidbox"
        options.outageLog = outageLog
        let subscriber = try await RedisSubscriber.connect(url: worker.settings.brokerURL, options: options, logger: worker.logger) { event in
            if case .patternMessage(_, _, let payload) = event { input.yield(payload) }
        }
        let server = ControlServer(worker: worker, broker: broker, subscriber: subscriber, stream: stream, input: input)
        let db = worker.settings.brokerURL.database
        try await subscriber.psubscribe([ControlNames.broadcastChannel(db: db)])
        // Declare our pidbox queue binding as kombu does; nothing routes through it on Redis, but
        // tools that list bindings (and Python's sweeps) see a well-formed table.
        _ = try? await broker.send(RedisCommand("SADD", ControlNames.workerBindingSet(), ControlNames.workerBindingMember(nodeName: worker.settings.nodeName)))
        return server
    }

    /// Handles commands until ``close()``.
    func serve() async {
        for await payload in stream {
            await handle(payload)
        }
    }

    func close() {
        input.finish()
        subscriber.close()
    }

    /// Asks running workers for their revoked ids (Celery's mingle `hello`) and merges them.
    func syncRevokedWithPeers() async {
        guard worker.settings.mingle else { return }
        do {
            let client = try await ControlClient.connect(url: worker.settings.brokerURL, logger: worker.logger)
            let replies: [String: JSONValue]
            do {
                replies = try await client.broadcast("hello", arguments: ["from_node": .string(worker.settings.nodeName), "revoked": .array([])],
                                                     timeout: .seconds(1))
                await client.close()
            } catch {
                await client.close()
                throw error
            }
            var merged = 0
            for (node, reply) in replies where node != worker.settings.nodeName {
                guard let ids = reply["revoked"]?.arrayValue else { continue }
                worker.addRevoked(ids.compactMap(\.stringValue))
                merged += ids.count
                if let clock = reply["clock"]?.intValue { worker.adjustClock(to: clock) }
            }
            if !replies.isEmpty { worker.logger.info("mingle: synced with \(replies.count) node(s), \(merged) revoked id(s)") }
        } catch {
            worker.logger.warning("mingle: could not sync with other workers: \(error)")
        }
    }

    private func handle(_ payload: [UInt8]) async {
        let command: ControlCommand
        do {
            command = try ControlCommand.decode(payload: payload)
        } catch {
            malformedLog.log(kind: "\(error.code)", "ignoring a malformed control message: \(error)")
            return
        }
        let result = await commands.run(command)
        guard command.wantsReply, let result, let replyTo = command.replyTo else { return }
        await reply(result, to: replyTo.routingKey, ticket: command.ticket)
    }

    private func reply(_ result: JSONValue, to routingKey: String, ticket: String?) async {
        do {
            let members = try await broker.send(RedisCommand("SMEMBERS", ControlNames.replyBindingSet())).array ?? []
            let queues = members.compactMap { $0.string.flatMap(QueueKeys.parseBindingMember) }.filter { $0.routingKey == routingKey }.map(\.queue)
            guard !queues.isEmpty else {
                worker.logger.debug("no reply binding for \(routingKey): reply dropped, as Python workers do")
                return
            }
            let bytes = ControlReply.encode(nodeName: worker.settings.nodeName, result: result, ticket: ticket ?? "",
                                            clock: worker.nextClock(), replyRoutingKey: routingKey,
                                            deliveryTag: UUID().uuidString.lowercased())
            _ = try await broker.pipeline(queues.map { RedisCommand("LPUSH", $0, bytes) })
        } catch {
            worker.logger.warning("could not send a control reply: \(error)")
        }
    }
}
