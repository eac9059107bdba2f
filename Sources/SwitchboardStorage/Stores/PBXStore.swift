import Foundation
import SwitchboardCore

/// PBX connections and their employees.
public struct PBXStore: Sendable {
    let db: any Database
    let vault: CredentialVault

    public init(db: any Database, vault: CredentialVault) {
        self.db = db
        self.vault = vault
    }

    static func context(_ id: String, _ what: String) -> String { "pbx-connection:\(id):\(what)" }

    /// Creates a connection with a fresh inbound secret (the ITooLabs `crm_token`, or the HMAC key), returned once here.
    public func create(tenantId: String, name: String, protocol proto: PBXProtocol, apiURL: String?, apiKey: String?,
                       apiFlavor: String = "legacy", routingDeadlineMs: Int = 1500, region: String = "RU",
                       secret: String? = nil) async throws -> (PBXConnection, String) {
        let id = Identifier.make("pbx")
        let inbound = secret ?? Hashing.randomToken(prefix: "", bytes: 24)
        let sealedSecret = try vault.seal(Array(inbound.utf8), context: Self.context(id, "secret"))
        let sealedKey: SQLValue = try apiKey.map { .blob(try vault.seal(Array($0.utf8), context: Self.context(id, "api-key"))) } ?? .null
        let now = Date()
        _ = try await db.transaction { tx in
            try await tx.execute("""
                INSERT INTO pbx_connections (id, tenant_id, name, protocol, secret, api_url, api_key, api_flavor,
                  routing_deadline_ms, region, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(id), .text(tenantId), .text(name), .text(proto.rawValue), .blob(sealedSecret), .of(apiURL),
                      sealedKey, .text(apiFlavor), .int(Int64(routingDeadlineMs)), .text(region), .of(now), .of(now)])
        }
        return (try await get(tenantId: tenantId, id: id)!, inbound)
    }

    public func get(tenantId: String, id: String) async throws -> PBXConnection? {
        try await db.read { r in
            try await r.one("SELECT * FROM pbx_connections WHERE tenant_id = ? AND id = ?",
                            [.text(tenantId), .text(id)]).map(Self.connection)
        }
    }

    /// A connection found by its id alone: PBX requests name the connection in their URL, then prove the secret.
    public func find(id: String) async throws -> PBXConnection? {
        try await db.read { r in
            try await r.one("SELECT * FROM pbx_connections WHERE id = ?", [.text(id)]).map(Self.connection)
        }
    }

    /// Every tenant's connections of these protocols (the pulled ones, whose sessions the host keeps).
    public func connections(protocols: [PBXProtocol]) async throws -> [PBXConnection] {
        guard !protocols.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: protocols.count).joined(separator: ", ")
        return try await db.read { r in
            try await r.query("SELECT * FROM pbx_connections WHERE protocol IN (\(marks)) ORDER BY created_at",
                              protocols.map { .text($0.rawValue) }).map(Self.connection)
        }
    }

    public func list(tenantId: String) async throws -> [PBXConnection] {
        try await db.read { r in
            try await r.query("SELECT * FROM pbx_connections WHERE tenant_id = ? ORDER BY created_at",
                              [.text(tenantId)]).map(Self.connection)
        }
    }

    /// Changes the connection; a non-nil `apiKey` replaces the stored one. The stored key never follows a new `apiURL`:
    /// moved without a new key, the connection loses its key (in the same statement).
    public func update(tenantId: String, id: String, name: String?, apiURL: String?, apiKey: String?,
                       apiFlavor: String?, routingDeadlineMs: Int?, region: String?) async throws -> PBXConnection? {
        let sealedKey = try apiKey.map { try vault.seal(Array($0.utf8), context: Self.context(id, "api-key")) }
        let changed: Bool = try await db.transaction { tx in
            !(try await tx.query("""
                UPDATE pbx_connections SET name = COALESCE(?, name),
                  api_key = COALESCE(?, CASE WHEN COALESCE(api_url, '') = COALESCE(?, api_url, '') THEN api_key END),
                  api_url = COALESCE(?, api_url), api_flavor = COALESCE(?, api_flavor),
                  routing_deadline_ms = COALESCE(?, routing_deadline_ms), region = COALESCE(?, region), updated_at = ?
                WHERE tenant_id = ? AND id = ? RETURNING id
                """, [.of(name), .of(sealedKey), .of(apiURL), .of(apiURL), .of(apiFlavor), .of(routingDeadlineMs),
                      .of(region), .of(Date()), .text(tenantId), .text(id)]).isEmpty)
        }
        return changed ? try await get(tenantId: tenantId, id: id) : nil
    }

    public func delete(tenantId: String, id: String) async throws -> Bool {
        try await db.transaction { tx in
            !(try await tx.query("DELETE FROM pbx_connections WHERE tenant_id = ? AND id = ? RETURNING id",
                                 [.text(tenantId), .text(id)]).isEmpty)
        }
    }

    /// The inbound secret in clear (for constant-time comparison and for showing the tenant what to paste).
    public func inboundSecret(connectionId: String) async throws -> String? {
        let sealed = try await db.read { r in
            try await r.one("SELECT secret FROM pbx_connections WHERE id = ?", [.text(connectionId)])?.bytes("secret")
        }
        return try sealed.map { String(decoding: try vault.open($0, context: Self.context(connectionId, "secret")), as: UTF8.self) }
    }

    /// The key for the PBX's own API, for sending commands.
    public func apiKey(connectionId: String) async throws -> String? {
        let sealed = try await db.read { r in
            try await r.one("SELECT api_key FROM pbx_connections WHERE id = ?", [.text(connectionId)])?.bytes("api_key")
        }
        return try sealed.map { String(decoding: try vault.open($0, context: Self.context(connectionId, "api-key")), as: UTF8.self) }
    }

    static func connection(_ row: SQLRow) -> PBXConnection {
        PBXConnection(id: row.string("id")!, tenantId: row.string("tenant_id")!, name: row.string("name") ?? "",
                      protocol: PBXProtocol(row.string("protocol") ?? ""),
                      apiURL: row.string("api_url"), apiFlavor: row.string("api_flavor") ?? "legacy",
                      hasAPIKey: row["api_key"] != .null, routingDeadlineMs: row.int("routing_deadline_ms") ?? 1500,
                      region: row.string("region") ?? "RU", createdAt: row.date("created_at") ?? Date(),
                      updatedAt: row.date("updated_at") ?? Date())
    }

    // MARK: employees

    /// Adds or updates an employee by its PBX login.
    public func upsertEmployee(tenantId: String, connectionId: String, login: String, extension_: String?, name: String,
                               email: String?, directNumber: String?, hasSIP: Bool = true) async throws -> Employee {
        let id = Identifier.make("emp")
        try await db.transaction { tx in
            guard try await tx.one("SELECT id FROM pbx_connections WHERE tenant_id = ? AND id = ?",
                                   [.text(tenantId), .text(connectionId)]) != nil else {
                throw StoreError.notFound("PBX connection \(connectionId) not found")
            }
            try await tx.execute("""
                INSERT INTO employees (id, tenant_id, pbx_connection_id, login, extension, name, email, direct_number, has_sip, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (pbx_connection_id, login) DO UPDATE SET extension = excluded.extension, name = excluded.name,
                  email = excluded.email, direct_number = excluded.direct_number, has_sip = excluded.has_sip
                """, [.text(id), .text(tenantId), .text(connectionId), .text(login), .of(extension_), .text(name),
                      .of(email), .of(directNumber), .of(hasSIP), .of(Date())])
        }
        return try await employees(tenantId: tenantId, connectionId: connectionId).first { $0.login == login }!
    }

    public func employees(tenantId: String, connectionId: String? = nil) async throws -> [Employee] {
        try await db.read { r in
            if let connectionId {
                return try await r.query("SELECT * FROM employees WHERE tenant_id = ? AND pbx_connection_id = ? ORDER BY login",
                                         [.text(tenantId), .text(connectionId)]).map(Self.employee)
            }
            return try await r.query("SELECT * FROM employees WHERE tenant_id = ? ORDER BY login", [.text(tenantId)]).map(Self.employee)
        }
    }

    public func deleteEmployee(tenantId: String, id: String) async throws -> Bool {
        try await db.transaction { tx in
            !(try await tx.query("DELETE FROM employees WHERE tenant_id = ? AND id = ? RETURNING id",
                                 [.text(tenantId), .text(id)]).isEmpty)
        }
    }

    static func employee(_ row: SQLRow) -> Employee {
        Employee(id: row.string("id")!, tenantId: row.string("tenant_id")!, pbxConnectionId: row.string("pbx_connection_id")!,
                 login: row.string("login") ?? "", extension_: row.string("extension"), name: row.string("name") ?? "",
                 email: row.string("email"), directNumber: row.string("direct_number"), hasSIP: row.bool("has_sip"))
    }
}
