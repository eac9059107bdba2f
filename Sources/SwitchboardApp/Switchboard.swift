import Foundation
import Logging
import Prometheus
import SwitchboardCore
import SwitchboardCRM
import SwitchboardDelivery
import SwitchboardOutbound
import SwitchboardPBX
import SwitchboardStorage

/// Everything one Switchboard instance holds: storage, stores, the queue, metrics.
/// `buildApplication` wires HTTP and workers on top of it.
public final class Switchboard: Sendable {
    public let config: AppConfig
    public let logger: Logger
    public let db: any Database
    public let vault: CredentialVault
    public let tenants: TenantStore
    public let credentials: CredentialStore
    public let pbx: PBXStore
    public let integrations: IntegrationStore
    public let queue: JobQueue
    public let registry: PrometheusCollectorRegistry
    public let httpMetrics: HTTPMetrics
    public let deliveryMetrics: DeliveryMetrics
    public let calls: CallStore
    public let ingestor: CallIngestor
    public let routing: RoutingService
    let extraHandlers: [String: any JobHandler]
    /// The CRMs this build serves (decision 0006); generic code iterates it.
    public let connectors: ConnectorRegistry
    /// What every connector was built with (addresses and keys it derives, storage, outbound HTTP).
    public let connectorEnvironment: ConnectorEnvironment
    public let entities: CRMEntityStore
    let connections: ConnectionCache
    /// How every request to an address a tenant set is sent (the outbound policy from configuration).
    public let outbound: OutboundHTTP
    /// The PBX protocols this instance serves: their endpoints, commands and pulled sessions.
    public let pbxAdapters: PBXRegistry
    /// The live chat sockets of this instance hear of chats' changes here (`LiveChats`).
    public let chatSignals = ChatSignals()
    var signInLimiter: SignInLimiter {
        SignInLimiter(sessions: SessionStore(db: db), proxies: (try? TrustedProxies(config.trustedProxies)) ?? TrustedProxies())
    }
    private let boundPort = LockedValue<Int?>(nil)

    /// Where PBXs, CRMs and browsers reach this instance: the configured public URL, else the address it listens on.
    public var baseURL: String {
        if let url = config.publicBaseURL { return url }
        return "http://\(config.host):\(boundPort.value ?? config.port)"
    }

    func serverStarted(port: Int) { boundPort.value = port }

    /// Opens storage (creating the data directory), runs migrations and loads the master key.
    /// `lookups` and `handlers` add CRM connectors' personal-manager lookups and job handlers (tests add fakes here);
    /// `outbound` replaces the client every CRM and PBX request goes through (tests: `.failing`, `.scripted`);
    /// `pbxAdapters` the PBX protocols served (tests add protocols of their own).
    public static func open(config: AppConfig, logger: Logger, lookups: [CRMKind: any ManagerLookup] = [:],
                            handlers: [String: any JobHandler] = [:], outbound: OutboundHTTP? = nil,
                            pbxAdapters: PBXRegistry = .live) async throws -> Switchboard {
        let dataDir = URL(fileURLWithPath: config.dataDir)
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        let db: any Database
        if let url = config.databaseURL, config.usesPostgres {
            db = try PostgresDatabase(url: url, logger: logger, maxConnections: max(2, config.databaseMaxConnections))
        } else {
            db = try SQLiteDatabase(path: config.sqlitePath, synchronous: config.sqliteSynchronous)
        }
        let applied = try await Migrations.run(on: db)
        if !applied.isEmpty { logger.info("storage migrated", metadata: ["versions": "\(applied)"]) }
        _ = try TrustedProxies(config.trustedProxies)
        let key = try MasterKey.load(config, environment: ProcessInfo.processInfo.environment)
        if let warning = key.warning { logger.warning("\(warning)") }
        let vault = key.vault
        return Switchboard(config: config, logger: logger, db: db, vault: vault, lookups: lookups, handlers: handlers,
                           outbound: outbound, pbxAdapters: pbxAdapters)
    }

    init(config: AppConfig, logger: Logger, db: any Database, vault: CredentialVault,
         lookups: [CRMKind: any ManagerLookup], handlers: [String: any JobHandler], outbound: OutboundHTTP? = nil,
         pbxAdapters: PBXRegistry = .live) {
        self.pbxAdapters = pbxAdapters
        self.config = config
        self.logger = logger
        self.db = db
        self.vault = vault
        self.tenants = TenantStore(db: db)
        self.credentials = CredentialStore(db: db, vault: vault)
        self.pbx = PBXStore(db: db, vault: vault)
        self.integrations = IntegrationStore(db: db)
        self.queue = JobQueue(db: db, wake: WakeSignal())
        self.registry = PrometheusCollectorRegistry()
        self.httpMetrics = HTTPMetrics(registry: registry)
        self.deliveryMetrics = DeliveryMetrics(registry: registry)
        self.calls = CallStore(db: db)
        self.entities = CRMEntityStore(db: db)
        let port = boundPort
        let metrics = httpMetrics
        let outbound = outbound ?? OutboundHTTP(policy: config.outboundPolicy)
        self.outbound = outbound
        var env = ConnectorEnvironment(
            db: db, vault: vault, outbound: outbound,
            observe: { crm, status in metrics.countOutbound(target: crm.rawValue, status: status) },
            baseURL: { config.publicBaseURL ?? "http://\(config.host):\(port.value ?? config.port)" },
            oauthApp: { config.oauthApp(for: $0) })
        env.setting = { config.connectorSettings[$0] }
        env.logger = logger
        self.connectorEnvironment = env
        let connectors = Connectors.live(env)
        self.connectors = connectors
        self.extraHandlers = connectors.handlers
            .merging([EmployeeSync.jobKind: EmployeeSyncHandler(registry: connectors, db: db, vault: vault, queue: queue)]) { a, _ in a }
            .merging(handlers) { _, given in given }
        self.routing = RoutingService(integrations: integrations, pbx: pbx,
                                      lookups: connectors.lookups.merging(lookups) { _, given in given },
                                      logger: logger)
        self.connections = ConnectionCache(pbx: pbx)
        self.ingestor = CallIngestor(db: db, queue: queue, handledKinds: [], logger: logger,
                                     maxPending: max(1, config.ingestQueueLimit),
                                     maxWait: .milliseconds(Int64(max(1, config.ingestWaitLimitMs))),
                                     flushers: config.ingestFlushers(on: db.dialect))
        self.ingestor.handledKinds = Set(jobHandlers().keys)
    }

    /// The job handlers of every connector, by job kind.
    public func jobHandlers() -> [String: any JobHandler] {
        extraHandlers
    }

    /// The command client of a PBX connection, if its API address and key are set.
    public func commands(for connection: PBXConnection) async throws -> (any PBXCommands)? {
        guard let url = connection.apiURL, !url.isEmpty, let key = try await pbx.apiKey(connectionId: connection.id) else {
            return nil
        }
        return pbxAdapters.adapter(for: connection.protocol)?.commands?(connection, url, key, outbound)
    }

    public func makeWorker(handlers: [String: any JobHandler]? = nil, concurrency: Int? = nil,
                           lease: Duration? = nil, workerId: String? = nil) -> DeliveryWorker {
        var configuration = DeliveryWorker.Configuration()
        configuration.concurrency = concurrency ?? config.workerConcurrency
        configuration.lease = lease ?? .seconds(Int64(config.jobLeaseSeconds))
        if let workerId { configuration.workerId = workerId }
        configuration.backoff = Backoff(base: .milliseconds(Int64(config.retryBaseMs)),
                                        cap: .milliseconds(Int64(max(config.retryCapMs, config.retryBaseMs))))
        configuration.giveUpAfter = .seconds(Int64(config.retryGiveUpSeconds))
        return DeliveryWorker(queue: queue, handlers: handlers ?? jobHandlers(), configuration: configuration,
                              logger: logger, metrics: deliveryMetrics)
    }

    /// After an integration is saved: what saving means, done by `IntegrationService.saved` (for callers outside the
    /// services: a connector's installation, the demo's seed).
    public func integrationSaved(_ integration: Integration) async {
        await IntegrationService(sb: self).saved(integration)
    }

    /// A routing-cache invalidation as it travels on the notification channel (`JobQueue.notifyChannel`, which one
    /// listener per instance follows): `routing:<integration>`. Other payloads announce new jobs.
    enum RoutingNotice {
        static let prefix = "routing:"
        static func payload(integrationId: String) -> String { prefix + integrationId }
        static func integrationId(in payload: String) -> String? {
            payload.hasPrefix(prefix) ? String(payload.dropFirst(prefix.count)) : nil
        }
    }

    /// Forgets the cached managers of an integration on every instance: here at once, and on PostgreSQL through a
    /// NOTIFY the other instances listen for. A lost NOTIFY leaves the entries to expire.
    public func forgetRouting(integrationId: String) async {
        routing.invalidate(integrationId: integrationId)
        guard let pg = db as? PostgresDatabase else { return }
        do {
            try await pg.notify(channel: JobQueue.notifyChannel, payload: RoutingNotice.payload(integrationId: integrationId))
        } catch {
            logger.warning("routing cache invalidation not sent to other instances", metadata: ["error": "\(error)"])
        }
    }


    public func shutdown() async {
        await db.shutdown()
    }
}
