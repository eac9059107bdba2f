import Foundation
import Logging
import Prometheus
import SwitchboardCore
import SwitchboardDelivery
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

    /// Opens storage (creating the data directory), runs migrations and loads the master key.
    public static func open(config: AppConfig, logger: Logger) async throws -> Switchboard {
        let dataDir = URL(fileURLWithPath: config.dataDir)
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        let db: any Database
        if let url = config.databaseURL, config.usesPostgres {
            db = try PostgresDatabase(url: url, logger: logger)
        } else {
            db = try SQLiteDatabase(path: config.sqlitePath, synchronous: config.sqliteSynchronous)
        }
        let applied = try await Migrations.run(on: db)
        if !applied.isEmpty { logger.info("storage migrated", metadata: ["versions": "\(applied)"]) }
        let vault = try CredentialVault.load(environmentValue: ProcessInfo.processInfo.environment["SWITCHBOARD_MASTER_KEY"],
                                             file: dataDir.appendingPathComponent("master.key"))
        return Switchboard(config: config, logger: logger, db: db, vault: vault)
    }

    init(config: AppConfig, logger: Logger, db: any Database, vault: CredentialVault) {
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
    }

    /// The job handlers of every connector, by job kind.
    public func jobHandlers() -> [String: any JobHandler] {
        [:]
    }

    public func makeWorker(handlers: [String: any JobHandler]? = nil, concurrency: Int? = nil,
                           lease: Duration? = nil, workerId: String? = nil) -> DeliveryWorker {
        var configuration = DeliveryWorker.Configuration()
        configuration.concurrency = concurrency ?? config.workerConcurrency
        configuration.lease = lease ?? .seconds(Int64(config.jobLeaseSeconds))
        if let workerId { configuration.workerId = workerId }
        return DeliveryWorker(queue: queue, handlers: handlers ?? jobHandlers(), configuration: configuration,
                              logger: logger, metrics: deliveryMetrics)
    }

    public func shutdown() async {
        await db.shutdown()
    }
}
