import Foundation
import SwitchboardCore

/// Integrations (a CRM switched on for a tenant), their settings and employee mappings.
public struct IntegrationStore: Sendable {
    let db: any Database

    public init(db: any Database) { self.db = db }

    public func create(tenantId: String, crm: CRMKind, name: String, credentialId: String?, pbxConnectionId: String?,
                       active: Bool = false, settings: JSONValue = .object([:])) async throws -> Integration {
        let id = Identifier.make("int")
        let now = Date()
        try await db.transaction { tx in
            try await Self.checkReferences(tx, tenantId: tenantId, credentialId: credentialId, pbxConnectionId: pbxConnectionId)
            try await tx.execute("""
                INSERT INTO integrations (id, tenant_id, crm, name, credential_id, pbx_connection_id, active, settings, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(id), .text(tenantId), .text(crm.rawValue), .text(name), .of(credentialId), .of(pbxConnectionId),
                      .of(active), .text(JSON.string(settings)), .of(now), .of(now)])
        }
        return try await get(tenantId: tenantId, id: id)!
    }

    /// References must belong to the same tenant.
    static func checkReferences(_ tx: any SQLExecutor, tenantId: String, credentialId: String?, pbxConnectionId: String?) async throws {
        if let credentialId, try await tx.one("SELECT id FROM crm_credentials WHERE tenant_id = ? AND id = ?",
                                              [.text(tenantId), .text(credentialId)]) == nil {
            throw StoreError.invalid("credential \(credentialId) not found")
        }
        if let pbxConnectionId, try await tx.one("SELECT id FROM pbx_connections WHERE tenant_id = ? AND id = ?",
                                                 [.text(tenantId), .text(pbxConnectionId)]) == nil {
            throw StoreError.invalid("PBX connection \(pbxConnectionId) not found")
        }
    }

    public func get(tenantId: String, id: String) async throws -> Integration? {
        try await db.read { r in
            try await r.one("SELECT * FROM integrations WHERE tenant_id = ? AND id = ?", [.text(tenantId), .text(id)]).map(Self.integration)
        }
    }

    /// An integration by id alone: for inbound calls (widgets, webhooks) that prove themselves with a key.
    public func find(id: String) async throws -> Integration? {
        try await db.read { r in try await r.one("SELECT * FROM integrations WHERE id = ?", [.text(id)]).map(Self.integration) }
    }

    public func list(tenantId: String) async throws -> [Integration] {
        try await db.read { r in
            try await r.query("SELECT * FROM integrations WHERE tenant_id = ? ORDER BY created_at", [.text(tenantId)]).map(Self.integration)
        }
    }

    /// Active integrations fed by one PBX connection.
    public func active(pbxConnectionId: String) async throws -> [Integration] {
        try await db.read { r in
            try await r.query("SELECT * FROM integrations WHERE pbx_connection_id = ? AND active = 1 ORDER BY created_at",
                              [.text(pbxConnectionId)]).map(Self.integration)
        }
    }

    /// What the call ingest needs of one active integration fed by a PBX connection: enough to make its jobs.
    public struct IngestTarget: Sendable, Equatable {
        public var id: String
        public var crm: CRMKind
        public var credentialId: String?

        public init(id: String, crm: CRMKind, credentialId: String?) {
            self.id = id
            self.crm = crm
            self.credentialId = credentialId
        }
    }

    /// Active integrations fed by one PBX connection, read inside the caller's transaction (the call ingest's batch),
    /// so the jobs they cause commit with the events.
    public static func activeForIngest(pbxConnectionId: String, in tx: any SQLExecutor) async throws -> [IngestTarget] {
        try await activeForIngest(pbxConnectionIds: [pbxConnectionId], in: tx)[pbxConnectionId] ?? []
    }

    /// `activeForIngest` of several PBX connections in one query, by connection id.
    public static func activeForIngest(pbxConnectionIds: [String], in tx: any SQLExecutor) async throws -> [String: [IngestTarget]] {
        guard !pbxConnectionIds.isEmpty else { return [:] }
        let marks = Array(repeating: "?", count: pbxConnectionIds.count).joined(separator: ", ")
        var out: [String: [IngestTarget]] = [:]
        for row in try await tx.query("""
            SELECT id, crm, credential_id, pbx_connection_id FROM integrations WHERE pbx_connection_id IN (\(marks)) AND active = 1
            ORDER BY id
            """, pbxConnectionIds.map { .text($0) }) {
            guard let id = row.string("id"), let crm = row.string("crm"), let connection = row.string("pbx_connection_id") else { continue }
            out[connection, default: []].append(IngestTarget(id: id, crm: CRMKind(crm), credentialId: row.string("credential_id")))
        }
        return out
    }

    public func update(_ integration: Integration) async throws -> Integration? {
        let changed: Bool = try await db.transaction { tx in
            try await Self.checkReferences(tx, tenantId: integration.tenantId, credentialId: integration.credentialId,
                                           pbxConnectionId: integration.pbxConnectionId)
            return !(try await tx.query("""
                UPDATE integrations SET name = ?, credential_id = ?, pbx_connection_id = ?, active = ?, settings = ?, updated_at = ?
                WHERE tenant_id = ? AND id = ? RETURNING id
                """, [.text(integration.name), .of(integration.credentialId), .of(integration.pbxConnectionId),
                      .of(integration.active), .text(JSON.string(integration.settings)), .of(Date()),
                      .text(integration.tenantId), .text(integration.id)]).isEmpty)
        }
        return changed ? try await get(tenantId: integration.tenantId, id: integration.id) : nil
    }

    public func delete(tenantId: String, id: String) async throws -> Bool {
        try await db.transaction { tx in
            !(try await tx.query("DELETE FROM integrations WHERE tenant_id = ? AND id = ? RETURNING id",
                                 [.text(tenantId), .text(id)]).isEmpty)
        }
    }

    static func integration(_ row: SQLRow) -> Integration {
        Integration(id: row.string("id")!, tenantId: row.string("tenant_id")!,
                    crm: CRMKind(row.string("crm") ?? ""), name: row.string("name") ?? "",
                    credentialId: row.string("credential_id"), pbxConnectionId: row.string("pbx_connection_id"),
                    active: row.bool("active"),
                    settings: (try? JSON.decode(JSONValue.self, from: row.string("settings") ?? "{}")) ?? .object([:]),
                    createdAt: row.date("created_at") ?? Date(), updatedAt: row.date("updated_at") ?? Date())
    }

    // MARK: mappings (CORE-3)

    public func mappings(tenantId: String, integrationId: String) async throws -> [EmployeeMapping] {
        try await db.read { r in
            try await r.query("SELECT * FROM mappings WHERE tenant_id = ? AND integration_id = ? ORDER BY crm_user_id",
                              [.text(tenantId), .text(integrationId)]).map {
                EmployeeMapping(crmUserId: $0.string("crm_user_id")!, crmUserName: $0.string("crm_user_name") ?? "",
                                employeeId: $0.string("employee_id")!, useForRouting: $0.bool("use_for_routing"))
            }
        }
    }

    /// Replaces the integration's mappings with `mappings`; every employee must be the tenant's.
    public func replaceMappings(tenantId: String, integrationId: String, _ mappings: [EmployeeMapping]) async throws {
        try await db.transaction { tx in
            guard try await tx.one("SELECT id FROM integrations WHERE tenant_id = ? AND id = ?",
                                   [.text(tenantId), .text(integrationId)]) != nil else {
                throw StoreError.notFound("integration \(integrationId) not found")
            }
            try await tx.execute("DELETE FROM mappings WHERE integration_id = ?", [.text(integrationId)])
            for m in mappings {
                guard try await tx.one("SELECT id FROM employees WHERE tenant_id = ? AND id = ?",
                                       [.text(tenantId), .text(m.employeeId)]) != nil else {
                    throw StoreError.invalid("employee \(m.employeeId) not found")
                }
                try await tx.execute("""
                    INSERT INTO mappings (integration_id, tenant_id, crm_user_id, crm_user_name, employee_id, use_for_routing)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, [.text(integrationId), .text(tenantId), .text(m.crmUserId), .text(m.crmUserName),
                          .text(m.employeeId), .of(m.useForRouting)])
            }
        }
    }
}
