import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// Runs the delivery worker as a service; on graceful shutdown it stops taking jobs and finishes those in hand.
public struct DeliveryService: Service {
    let worker: DeliveryWorker

    public init(worker: DeliveryWorker) { self.worker = worker }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            await worker.run()
        } onGracefulShutdown: {
            worker.stop()
        }
    }
}

/// Listens, on one PostgreSQL connection, for what other instances announce: new jobs (an empty payload: wake
/// the local worker so they start at once) and routing-cache invalidations (`Switchboard.RoutingNotice`, sent
/// when a CRM webhook reached another instance).
struct NotificationService: Service {
    let db: PostgresDatabase
    let wake: WakeSignal
    let routing: RoutingService

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await db.listen(channel: JobQueue.notifyChannel) { payload in
                guard let payload else {
                    // (Re)connected: what was announced meanwhile is unknown.
                    wake.signal()
                    routing.invalidateAll()
                    return
                }
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
        router.add(middleware: MetricsMiddleware(metrics: httpMetrics))
        router.add(middleware: LogRequestsMiddleware(.debug))
        Operations(sb: self).register(on: router)
        ManagementAPI(sb: self).register(on: router)
        PBXRoutes(sb: self).register(on: router)
        AmoRoutes(sb: self).register(on: router)
        Cabinet(sb: self, limiter: signInLimiter).register(on: router)
        return router
    }

    /// The background services: delivery workers and, on PostgreSQL, the NOTIFY listener.
    public func backgroundServices(workers: Bool = true) -> [any Service] {
        var services: [any Service] = []
        if workers { services.append(DeliveryService(worker: makeWorker())) }
        if let pg = db as? PostgresDatabase { services.append(NotificationService(db: pg, wake: queue.wake, routing: routing)) }
        return services
    }

    /// One application: HTTP server plus workers. `onRunning` gets the bound port (useful with port 0).
    public func buildApplication(workers: Bool = true,
                                 onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: makeRouter(),
                    configuration: .init(address: .hostname(config.host, port: config.port), serverName: "Switchboard"),
                    services: backgroundServices(workers: workers),
                    onServerRunning: { channel in
                        let port = channel.localAddress?.port ?? 0
                        self.serverStarted(port: port)
                        await onRunning(port)
                    },
                    logger: logger)
    }
}
