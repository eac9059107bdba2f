import Foundation
import Logging
import ServiceLifecycle
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

extension Switchboard {
    /// Who should take a call from `client` on this connection: within the connection's routing deadline (and the one
    /// the PBX asked for, and `cap`), measured from when the question arrived. Every protocol's routing asks here.
    func route(_ client: String, connection: PBXConnection, askedMs: Int? = nil, cap: Duration? = nil,
               since arrived: ContinuousClock.Instant = .now) async -> RoutingDecision {
        var deadline = RoutingBudget.answerWithin(connectionDeadlineMs: connection.routingDeadlineMs, askedMs: askedMs)
        if let cap { deadline = min(deadline, cap) }
        return await routing.route(connection: connection, client: PhoneNumber.parse(client, region: connection.region),
                                   deadline: deadline, since: arrived)
    }

    /// Routes a call a PBX reported by the connection's `route` command (protocols whose routing is `.byCommand`): the
    /// personal manager within the budget, then the command; a call with no preference is left to the PBX's own plan.
    func routeByCommand(_ question: RoutingQuestion, connection: PBXConnection, style: RoutingStyle,
                        since arrived: ContinuousClock.Instant, logger: Logger) async {
        var budget: Duration?
        if case .byCommand(let b) = style { budget = b }
        let decision = await route(question.client, connection: connection, askedMs: question.askedMs, cap: budget, since: arrived)
        guard let employee = decision.employee else {
            logger.debug("routing by command: no preference", metadata: ["reason": "\(decision.reason)"])
            return
        }
        do {
            guard let commands = try await commands(for: connection) else {
                logger.warning("routing by command: the connection has no API address or key",
                               metadata: ["connection": "\(connection.id)"])
                return
            }
            try await commands.route(callRef: question.callRef, toEmployee: employee.login)
        } catch {
            logger.warning("routing by command failed", metadata: ["connection": "\(connection.id)", "reason": "\(error)"])
        }
    }

    /// The sink a pulled session of `connection` hands its events to: the same durable ingest and routing as a pushed
    /// request's.
    func pullSink(for connection: PBXConnection) -> PBXPullSink {
        PBXPullSink(
            ingest: { events, raw in
                try await self.ingestor.ingest(events, raw: raw, connection: connection, region: connection.region)
            },
            route: { client in await self.route(client, connection: connection) })
    }
}

/// Keeps one session per connection of every pulled protocol (`PBXAdapter.pull`): starts sessions for new connections,
/// stops those of deleted ones, and runs a session again after it ends, with a pause that grows while it keeps failing.
public struct PBXSessionService: Service {
    let sb: Switchboard
    /// How often the connections are read again.
    var rescan: Duration = .seconds(5)
    /// The pause after a session ends: doubled on each failure in a row, up to `maxPause`.
    var pause: Duration = .seconds(1)
    var maxPause: Duration = .seconds(30)

    public init(sb: Switchboard, rescan: Duration = .seconds(5), pause: Duration = .seconds(1)) {
        self.sb = sb
        self.rescan = rescan
        self.pause = pause
    }

    public func run() async throws {
        let pulled = sb.pbxAdapters.all.filter { $0.pull != nil }
        guard !pulled.isEmpty else { return }
        await cancelWhenGracefulShutdown { await supervise(pulled) }
    }

    /// Reads the pulled protocols' connections every `rescan` and keeps a session for each, until cancelled.
    func supervise(_ pulled: [PBXAdapter]) async {
        await withDiscardingTaskGroup { group in
            var running: [String: Task<Void, Never>] = [:]
            while !Task.isCancelled {
                let connections = (try? await sb.pbx.connections(protocols: pulled.map(\.id))) ?? []
                let ids = Set(connections.map(\.id))
                for (id, task) in running where !ids.contains(id) {
                    task.cancel()
                    running[id] = nil
                }
                for connection in connections where running[connection.id] == nil {
                    guard let pull = pulled.first(where: { $0.id == connection.protocol })?.pull else { continue }
                    let task = Task { await keep(connection, pull) }
                    running[connection.id] = task
                    group.addTask { await task.value }
                }
                try? await Task.sleep(for: rescan)
            }
            for task in running.values { task.cancel() }
        }
    }

    /// Runs a connection's session again and again until cancelled.
    func keep(_ connection: PBXConnection, _ pull: PBXPull) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                guard let secret = try await sb.pbx.inboundSecret(connectionId: connection.id) else { return }
                try await pull.run(connection, secret, sb.pullSink(for: connection))
                failures = 0
            } catch {
                if Task.isCancelled { return }
                failures += 1
                sb.logger.warning("PBX session ended with an error", metadata: ["connection": "\(connection.id)", "reason": "\(error)"])
            }
            // `pause` after a session that ended by itself, doubled for each failure in a row, up to `maxPause`.
            try? await Task.sleep(for: min(maxPause, pause * (1 << min(failures, 16))))
        }
    }
}
