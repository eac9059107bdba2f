import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import SwitchboardApp
import SwitchboardCore
import SwitchboardOutbound
import SwitchboardPBX
import SwitchboardStorage

/// The storage backends every storage-touching test runs on: SQLite always, PostgreSQL when
/// SWITCHBOARD_TEST_POSTGRES_URL is set (CI always sets it).
enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite, postgres

    static var available: [Backend] {
        postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var description: String { rawValue }
}

/// A fresh, empty storage for one test: a temporary SQLite file, or a new PostgreSQL database.
struct TestStorage: Sendable {
    let config: AppConfig
    let dropDatabase: String?

    static func make(_ backend: Backend) async throws -> TestStorage {
        // Every exchange with the routes of a Switchboard a test opens is checked against the OpenAPI document.
        ContractCheckMiddleware.install()
        var config = AppConfig()
        config.dataDir = FileManager.default.temporaryDirectory
            .appendingPathComponent("switchboard-test-\(UUID().uuidString)").path
        config.logLevel = "warning"
        config.port = 0
        config.sqliteSynchronous = "NORMAL"
        // A short shutdown drain: a test's server stops soon after its last request.
        config.shutdownDrainMs = 50
        // The sandboxes and test doubles listen on 127.0.0.1 over http; tests of the production rules turn this off.
        config.devMode = true
        // Tests run side by side on one PostgreSQL server (Debian allows 100 connections by default): a few each.
        config.databaseMaxConnections = 4
        guard backend == .postgres, let base = Backend.postgresURL else { return TestStorage(config: config, dropDatabase: nil) }
        let name = "sbtest_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try await adminExecute(base, "CREATE DATABASE \(name)")
        var c = URLComponents(string: base)!
        c.path = "/" + name
        config.databaseURL = c.string
        return TestStorage(config: config, dropDatabase: name)
    }

    func cleanUp() async {
        if let name = dropDatabase, let base = Backend.postgresURL {
            try? await Self.adminExecute(base, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
        try? FileManager.default.removeItem(atPath: config.dataDir)
    }

    static func adminExecute(_ url: String, _ sql: String) async throws {
        let db = try PostgresDatabase(url: url, logger: Logger(label: "test-admin"), maxConnections: 1)
        do {
            _ = try await db.client.withConnection { conn in
                try await conn.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test-admin"))
            }
        } catch {
            await db.shutdown()
            throw error
        }
        await db.shutdown()
    }
}

func testLogger() -> Logger {
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    return logger
}

/// Opens a Switchboard on fresh storage, runs `body`, and cleans up.
/// `outbound` replaces the client of every CRM and PBX request (`.failing`, `.scripted`); `lookups` adds CRM lookups
/// and `pbxAdapters` PBX protocols of a test's own.
func withSwitchboard<T>(_ backend: Backend, configure: (inout AppConfig) -> Void = { _ in }, outbound: OutboundHTTP? = nil,
                        lookups: [CRMKind: any ManagerLookup] = [:], pbxAdapters: PBXRegistry = .live,
                        _ body: (Switchboard) async throws -> T) async throws -> T {
    let storage = try await TestStorage.make(backend)
    var config = storage.config
    configure(&config)
    let sb = try await Switchboard.open(config: config, logger: testLogger(), lookups: lookups, outbound: outbound,
                                        pbxAdapters: pbxAdapters)
    do {
        let result = try await body(sb)
        await sb.shutdown()
        await storage.cleanUp()
        return result
    } catch {
        await sb.shutdown()
        await storage.cleanUp()
        throw error
    }
}

/// A tenant with its first API token.
struct TestTenant {
    let id: String
    let token: String

    var auth: HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

    static func make(_ sb: Switchboard, name: String = "Acme") async throws -> TestTenant {
        let tenant = try await sb.tenants.create(name: name)
        let (_, token) = try await sb.tenants.createToken(tenantId: tenant.id, name: "test")
        return TestTenant(id: tenant.id, token: token)
    }
}

extension ByteBuffer {
    var text: String { String(buffer: self) }

    func json() throws -> JSONValue { try JSON.decode(JSONValue.self, from: text) }
}

func body(_ json: String) -> ByteBuffer { ByteBuffer(string: json) }

/// Waits until `condition` holds, polling; fails after `timeout` (a safety net against hangs, not a timing assertion).
func eventually(timeout: Duration = .seconds(120), _ what: String = "condition",
                _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TestFailure("timed out waiting for \(what)")
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension ByteBuffer {
    /// The body as JSON, or null when it is not JSON (for use inside #expect).
    var j: JSONValue { (try? json()) ?? .null }
}
