import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwitchboardCore
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

/// Applies other instances' routing-cache invalidations (a CRM webhook reaches one instance; every instance's
/// cache must forget the number).
struct RoutingNotificationService: Service {
    let db: PostgresDatabase
    let routing: RoutingService

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await db.listen(channel: Switchboard.routingChannel) { payload in
                guard let payload else {
                    routing.invalidateAll()  // (re)connected: what was said meanwhile is unknown
                    return
                }
                let parts = payload.split(separator: "|", maxSplits: 1).map(String.init)
                routing.invalidate(integrationId: parts[0], phone: parts.count > 1 ? PhoneNumber.parse(parts[1]) : nil)
            }
        }
    }
}

/// Forwards PostgreSQL NOTIFYs about new jobs to the local worker, so jobs enqueued by another instance start at once.
struct JobNotificationService: Service {
    let db: PostgresDatabase
    let wake: WakeSignal

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await db.listen(channel: JobQueue.notifyChannel) { wake.signal() }
        }
    }
}

extension Switchboard {
    /// The HTTP routes of this instance.
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: MetricsMiddleware(metrics: httpMetrics))
        router.add(middleware: LogRequestsMiddleware(.debug))
        Operations(sb: self).register(on: router)
        ManagementAPI(sb: self).register(on: router)
        PBXRoutes(sb: self).register(on: router)
        AmoRoutes(sb: self).register(on: router)
        Cabinet(sb: self, limiter: signInLimiter).register(on: router)
        return router
    }

    /// The background services: delivery workers and, on PostgreSQL, the NOTIFY listeners.
    public func backgroundServices(workers: Bool = true) -> [any Service] {
        var services: [any Service] = []
        if workers { services.append(DeliveryService(worker: makeWorker())) }
        if let pg = db as? PostgresDatabase {
            services.append(JobNotificationService(db: pg, wake: queue.wake))
            services.append(RoutingNotificationService(db: pg, routing: routing))
        }
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
