import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// Runs the delivery worker as a service. When shutdown begins (the drain, or this service's own turn) it stops
/// taking jobs and hands those in hand back at once (a cancelled job is released to the queue, for this or another
/// instance to run), then stays until its turn so the group goes on serving, and acknowledging PBX events, meanwhile.
public struct DeliveryService: Service {
    let worker: DeliveryWorker
    let drain: ShutdownDrain

    public init(worker: DeliveryWorker, drain: ShutdownDrain = ShutdownDrain()) {
        self.worker = worker
        self.drain = drain
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await worker.run() }
            await withGracefulShutdownHandler {
                await drain.waitUntilBegun()
            } onGracefulShutdown: {
                drain.begin()
            }
            group.cancelAll()
        }
        try? await gracefulShutdown()
    }
}

/// Listens, on one PostgreSQL connection, for what other instances announce: new jobs (an empty payload: wake
/// the local worker so they start at once) and routing-cache invalidations (`Switchboard.RoutingNotice`, sent
/// when a CRM webhook reached another instance), and chats' changes for the live sockets (`ChatSignals`).
struct NotificationService: Service {
    let db: PostgresDatabase
    let wake: WakeSignal
    let routing: RoutingService
    var chats = ChatSignals()

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await db.listen(channel: JobQueue.notifyChannel) { payload in
                guard let payload else {
                    // (Re)connected: what was announced meanwhile is unknown.
                    wake.signal()
                    routing.invalidateAll()
                    chats.everythingMayHaveChanged()
                    return
                }
                if chats.receive(payload: payload) { return }
                if let integrationId = Switchboard.RoutingNotice.integrationId(in: payload) {
                    routing.invalidate(integrationId: integrationId)
                } else {
                    wake.signal()
                }
            }
        }
    }
}

extension Switchboard {
    /// The HTTP routes of this instance.
    public func makeRouter() -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self)
        if let hook = RouterHook.middleware.value { router.add(middleware: hook) }
        router.add(middleware: MetricsMiddleware(metrics: httpMetrics))
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: UnexpectedErrorsMiddleware())
        Operations(sb: self).register(on: router)
        if config.benchFloor {
            // Unauthenticated writes: only on a development instance (the benchmark's own server is one).
            if config.devMode {
                BenchFloor(sb: self).register(on: router)
            } else {
                logger.error("benchFloor is set but devMode is not: the benchmark routes /bench/floor/* are not served")
            }
        }
        ManagementAPI(sb: self).register(on: router)
        PBXRoutes(sb: self).register(on: router)
        for pages in AppConnectors.pages.values { pages.routes?(self, router) }
        ConnectorRoutes(sb: self).register(on: router)
        DealsRoutes(tenants: tenants, deals: deals, analytics: DealAnalyticsService(sb: self)).register(on: router)
        PublicTexts(service: TextService(sb: self), limiter: SiteRateLimiter()).register(on: router)
        Cabinet(sb: self, limiter: signInLimiter).register(on: router)
        return router
    }

    /// The background services: delivery workers, on PostgreSQL the NOTIFY listener, and the pulled PBX sessions.
    public func backgroundServices(workers: Bool = true, drain: ShutdownDrain = ShutdownDrain()) -> [any Service] {
        var services: [any Service] = []
        if workers { services.append(DeliveryService(worker: makeWorker(), drain: drain)) }
        if let pg = db as? PostgresDatabase { services.append(NotificationService(db: pg, wake: queue.wake, routing: routing, chats: chatSignals)) }
        // A service that returns ends the group, so the sessions' keeper runs only when a pulled protocol is served.
        if pbxAdapters.all.contains(where: { $0.pull != nil }) { services.append(PBXSessionService(sb: self)) }
        return services
    }

    /// One application: HTTP server plus workers. `onRunning` gets the bound port (useful with port 0). On graceful
    /// shutdown it drains first (`ShutdownDrain`, `config.shutdownDrainMs` unless `drain` is given).
    public func buildApplication(workers: Bool = true, drain: ShutdownDrain? = nil,
                                 onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let drain = drain ?? ShutdownDrain(period: .milliseconds(Int64(config.shutdownDrainMs)))
        return SwitchboardApplication(inner: Application(
                    router: makeRouter(),
                    server: .guardedHTTP1WebSocket(limits: HTTPLimits(config), drain: drain, logger: logger,
                                                   webSocket: LiveChats.configuration,
                                                   shouldUpgrade: LiveChats(service: TextService(sb: self)).shouldUpgrade),
                    configuration: .init(address: .hostname(config.host, port: config.port), serverName: "Switchboard"),
                    services: backgroundServices(workers: workers, drain: drain),
                    onServerRunning: { channel in
                        let port = channel.localAddress?.port ?? 0
                        self.serverStarted(port: port)
                        await onRunning(port)
                    },
                    logger: logger), drain: drain)
    }
}
