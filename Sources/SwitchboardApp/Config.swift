import Foundation
import Logging
import SwitchboardCore
import SwitchboardStorage

/// Switchboard's settings. Precedence: command-line flags, then `SWITCHBOARD_*` environment, then the
/// optional JSON file (`--config` / `SWITCHBOARD_CONFIG`), then defaults that work on a laptop.
public struct AppConfig: Sendable, Codable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    public var dataDir: String = "./switchboard-data"
    /// `postgres://…` selects PostgreSQL; nil means embedded SQLite in `dataDir`.
    public var databaseURL: String?
    /// PostgreSQL: the most connections one instance opens; its LISTEN holds one of them.
    public var databaseMaxConnections: Int = 20
    /// The address tenants' PBXs and CRMs reach Switchboard at (webhook URLs, OAuth redirect).
    public var publicBaseURL: String?
    public var workerConcurrency: Int = 16
    /// A worker renews all its leases four times per lease; a dead instance's jobs are taken over after this.
    public var jobLeaseSeconds: Int = 15
    /// The first retry's delay after a CRM's outage; each next one doubles (with jitter), up to `retryCapMs`.
    public var retryBaseMs: Int = 2000
    public var retryCapMs: Int = 30000
    /// A failing job goes to the dead letters only after its attempts are spent and this long has passed.
    public var retryGiveUpSeconds: Int = 86400
    public var logLevel: String = "info"
    /// SQLite's `synchronous` PRAGMA: FULL survives power loss; NORMAL survives a crash of the process.
    public var sqliteSynchronous: String = "FULL"
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client; from anyone else the
    /// socket's peer is the client. Environment: comma-separated.
    public var trustedProxies: [String] = []
    /// A file holding the master key (32 bytes, base64 or hex), kept outside `dataDir` so backups of the data do not
    /// carry it. `SWITCHBOARD_MASTER_KEY` (the key itself) wins over it; with neither, `dataDir/master.key`.
    public var masterKeyFile: String?
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <metricsToken>`.
    public var metricsToken: String?
    /// Development/sandbox mode: CRM and PBX addresses on this machine's loopback are allowed, over http too
    /// (the CRM sandboxes, test doubles), and OAuth works with a sandbox account. Off in production.
    public var devMode: Bool = false
    /// Settings connectors read by name: every `SWITCHBOARD_<NAME>` variable the configuration does not know itself
    /// (a CRM's OAuth application, `<KIND>_CLIENT_ID` and `_CLIENT_SECRET`; a CRM's token server), without the prefix;
    /// in the configuration file, the object `connectorSettings`.
    public var connectorSettings: [String: String] = [:]
    /// Lets tenants' CRM and PBX addresses lead to private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).
    public var allowPrivateNetworks: Bool = false
    /// HTTP: a request's head must be complete this long after its first byte (or the connection's opening), its
    /// body this long after the head; a kept-alive connection with nothing to do closes after the idle timeout.
    public var httpHeaderTimeoutMs: Int = 10_000
    public var httpBodyTimeoutMs: Int = 30_000
    public var httpIdleTimeoutMs: Int = 75_000
    /// HTTP connections one client address may hold open; 0: no limit (behind a proxy, which then limits instead).
    public var maxConnectionsPerAddress: Int = 128
    /// On SIGTERM: how long responses say `Connection: close` (and PBX events are still acknowledged) before idle
    /// connections are closed and the server stops listening.
    public var shutdownDrainMs: Int = 2000
    /// PBX events waiting for storage: beyond `ingestQueueLimit` requests, or after waiting `ingestWaitLimitMs`
    /// for their turn, a request is refused with 503 and Retry-After before anything of it is written.
    public var ingestQueueLimit: Int = 4096
    public var ingestWaitLimitMs: Int = 5000
    /// PostgreSQL: how many ingest batches commit side by side (SQLite writes one at a time). Fewer, larger batches
    /// cost fewer round trips per event; more keep up when the database server has cores to spare.
    public var ingestFlushers: Int = 2

    /// How many ingest batches commit side by side on `dialect`: SQLite writes one transaction at a time.
    public func ingestFlushers(on dialect: SQLDialect) -> Int {
        dialect == .sqlite ? 1 : max(1, ingestFlushers)
    }
    /// Serves the ingest benchmark's reference routes (`/bench/floor/*`, `BenchFloor`), with `devMode` only; never in
    /// production.
    public var benchFloor: Bool = false

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case trustedProxies, masterKeyFile, metricsToken
        case httpHeaderTimeoutMs, httpBodyTimeoutMs, httpIdleTimeoutMs, maxConnectionsPerAddress, shutdownDrainMs
        case ingestQueueLimit, ingestWaitLimitMs, ingestFlushers, benchFloor
        case host, port, dataDir, databaseURL, databaseMaxConnections, publicBaseURL, workerConcurrency, jobLeaseSeconds, retryBaseMs, retryCapMs, retryGiveUpSeconds, logLevel,
             sqliteSynchronous, devMode, allowPrivateNetworks, connectorSettings
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AppConfig()
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port
        dataDir = try c.decodeIfPresent(String.self, forKey: .dataDir) ?? d.dataDir
        databaseURL = try c.decodeIfPresent(String.self, forKey: .databaseURL)
        databaseMaxConnections = try c.decodeIfPresent(Int.self, forKey: .databaseMaxConnections) ?? d.databaseMaxConnections
        publicBaseURL = try c.decodeIfPresent(String.self, forKey: .publicBaseURL)
        workerConcurrency = try c.decodeIfPresent(Int.self, forKey: .workerConcurrency) ?? d.workerConcurrency
        jobLeaseSeconds = try c.decodeIfPresent(Int.self, forKey: .jobLeaseSeconds) ?? d.jobLeaseSeconds
        retryBaseMs = try c.decodeIfPresent(Int.self, forKey: .retryBaseMs) ?? d.retryBaseMs
        retryCapMs = try c.decodeIfPresent(Int.self, forKey: .retryCapMs) ?? d.retryCapMs
        retryGiveUpSeconds = try c.decodeIfPresent(Int.self, forKey: .retryGiveUpSeconds) ?? d.retryGiveUpSeconds
        logLevel = try c.decodeIfPresent(String.self, forKey: .logLevel) ?? d.logLevel
        sqliteSynchronous = try c.decodeIfPresent(String.self, forKey: .sqliteSynchronous) ?? d.sqliteSynchronous
        connectorSettings = try c.decodeIfPresent([String: String].self, forKey: .connectorSettings) ?? [:]
        trustedProxies = try c.decodeIfPresent([String].self, forKey: .trustedProxies) ?? d.trustedProxies
        masterKeyFile = try c.decodeIfPresent(String.self, forKey: .masterKeyFile)
        metricsToken = try c.decodeIfPresent(String.self, forKey: .metricsToken)
        devMode = try c.decodeIfPresent(Bool.self, forKey: .devMode) ?? d.devMode
        allowPrivateNetworks = try c.decodeIfPresent(Bool.self, forKey: .allowPrivateNetworks) ?? d.allowPrivateNetworks
        httpHeaderTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .httpHeaderTimeoutMs) ?? d.httpHeaderTimeoutMs
        httpBodyTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .httpBodyTimeoutMs) ?? d.httpBodyTimeoutMs
        httpIdleTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .httpIdleTimeoutMs) ?? d.httpIdleTimeoutMs
        maxConnectionsPerAddress = try c.decodeIfPresent(Int.self, forKey: .maxConnectionsPerAddress) ?? d.maxConnectionsPerAddress
        shutdownDrainMs = try c.decodeIfPresent(Int.self, forKey: .shutdownDrainMs) ?? d.shutdownDrainMs
        ingestQueueLimit = try c.decodeIfPresent(Int.self, forKey: .ingestQueueLimit) ?? d.ingestQueueLimit
        ingestWaitLimitMs = try c.decodeIfPresent(Int.self, forKey: .ingestWaitLimitMs) ?? d.ingestWaitLimitMs
        ingestFlushers = try c.decodeIfPresent(Int.self, forKey: .ingestFlushers) ?? d.ingestFlushers
        benchFloor = try c.decodeIfPresent(Bool.self, forKey: .benchFloor) ?? d.benchFloor
    }

    /// Environment variable name for a setting: `databaseURL` → `SWITCHBOARD_DATABASE_URL`.
    static func envName(_ key: CodingKeys) -> String {
        var out = "SWITCHBOARD_"
        for ch in key.rawValue {
            if ch.isUppercase, !out.hasSuffix("_") { out += "_" }
            out += ch.uppercased()
        }
        return out.replacingOccurrences(of: "U_R_L", with: "URL")
    }

    /// Builds the configuration from the file (if any), then the environment; flags are applied by the caller.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AppConfig {
        var config = AppConfig()
        if let path = file ?? environment["SWITCHBOARD_CONFIG"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            config = try JSONDecoder().decode(AppConfig.self, from: data)
        }
        let known = Set(CodingKeys.allCases.map(envName))
        for (name, value) in environment where name.hasPrefix("SWITCHBOARD_") && !known.contains(name) && !value.isEmpty {
            config.connectorSettings[String(name.dropFirst("SWITCHBOARD_".count))] = value
        }
        for key in CodingKeys.allCases {
            guard let value = environment[envName(key)], !value.isEmpty else { continue }
            switch key {
            case .host: config.host = value
            case .port: config.port = Int(value) ?? config.port
            case .dataDir: config.dataDir = value
            case .databaseURL: config.databaseURL = value
            case .databaseMaxConnections: config.databaseMaxConnections = Int(value) ?? config.databaseMaxConnections
            case .publicBaseURL: config.publicBaseURL = value
            case .workerConcurrency: config.workerConcurrency = Int(value) ?? config.workerConcurrency
            case .jobLeaseSeconds: config.jobLeaseSeconds = Int(value) ?? config.jobLeaseSeconds
            case .retryBaseMs: config.retryBaseMs = Int(value) ?? config.retryBaseMs
            case .retryCapMs: config.retryCapMs = Int(value) ?? config.retryCapMs
            case .retryGiveUpSeconds: config.retryGiveUpSeconds = Int(value) ?? config.retryGiveUpSeconds
            case .logLevel: config.logLevel = value
            case .sqliteSynchronous: config.sqliteSynchronous = value
            case .connectorSettings: break  // SWITCHBOARD_<NAME> variables fill it one by one (above)
            case .trustedProxies: config.trustedProxies = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            case .masterKeyFile: config.masterKeyFile = value
            case .metricsToken: config.metricsToken = value
            case .devMode: config.devMode = flag(value) ?? config.devMode
            case .allowPrivateNetworks: config.allowPrivateNetworks = flag(value) ?? config.allowPrivateNetworks
            case .httpHeaderTimeoutMs: config.httpHeaderTimeoutMs = Int(value) ?? config.httpHeaderTimeoutMs
            case .httpBodyTimeoutMs: config.httpBodyTimeoutMs = Int(value) ?? config.httpBodyTimeoutMs
            case .httpIdleTimeoutMs: config.httpIdleTimeoutMs = Int(value) ?? config.httpIdleTimeoutMs
            case .maxConnectionsPerAddress: config.maxConnectionsPerAddress = Int(value) ?? config.maxConnectionsPerAddress
            case .shutdownDrainMs: config.shutdownDrainMs = Int(value) ?? config.shutdownDrainMs
            case .ingestQueueLimit: config.ingestQueueLimit = Int(value) ?? config.ingestQueueLimit
            case .ingestWaitLimitMs: config.ingestWaitLimitMs = Int(value) ?? config.ingestWaitLimitMs
            case .ingestFlushers: config.ingestFlushers = Int(value) ?? config.ingestFlushers
            case .benchFloor: config.benchFloor = flag(value) ?? config.benchFloor
            }
        }
        return config
    }

    /// `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`.
    static func flag(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: return nil
        }
    }

    /// Where tenants' CRM and PBX addresses may lead.
    public var outboundPolicy: OutboundPolicy {
        OutboundPolicy(allowLoopback: devMode, allowPrivateNetworks: allowPrivateNetworks)
    }

    /// The installation's OAuth application for a CRM, when configured: `SWITCHBOARD_<KIND>_CLIENT_ID` and
    /// `_CLIENT_SECRET` (in the configuration file, `connectorSettings`).
    public func oauthApp(for crm: CRMKind) -> (clientId: String, clientSecret: String)? {
        let prefix = crm.rawValue.uppercased()
        guard let id = connectorSettings[prefix + "_CLIENT_ID"], let secret = connectorSettings[prefix + "_CLIENT_SECRET"] else {
            return nil
        }
        return (id, secret)
    }

    public var usesPostgres: Bool { databaseURL?.hasPrefix("postgres") ?? false }

    public var sqlitePath: String {
        URL(fileURLWithPath: dataDir).appendingPathComponent("switchboard.sqlite").path
    }

    /// Where the data lives, for the start-up line; a PostgreSQL URL loses its password.
    public var storageDescription: String {
        guard let url = databaseURL, usesPostgres, var c = URLComponents(string: url) else {
            return "SQLite \(sqlitePath)"
        }
        if c.password != nil { c.password = "***" }
        return "PostgreSQL \(c.string ?? "")"
    }

    public var baseURL: String { publicBaseURL ?? "http://\(host):\(port)" }
}
