import Foundation
import SwitchboardCore

/// What Switchboard made in a CRM for one call (or chat), so a retry never makes it twice.
public struct CRMEntityStore: Sendable {
    let db: any Database

    public init(db: any Database) { self.db = db }

    /// kind → CRM id of what exists for `scope` (a call id) in `integrationId`.
    public func all(integrationId: String, scope: String) async throws -> [String: String] {
        try await db.read { r in
            var out: [String: String] = [:]
            for row in try await r.query("SELECT kind, crm_id FROM crm_entities WHERE integration_id = ? AND scope = ?",
                                         [.text(integrationId), .text(scope)]) {
                out[row.string("kind")!] = row.string("crm_id")
            }
            return out
        }
    }

    /// What is kept for each of `scopes` (call ids) in any of `integrationIds`, in one query (the call journal):
    /// scope → integration → kind → CRM id.
    public func all(integrationIds: [String], scopes: [String]) async throws -> [String: [String: [String: String]]] {
        guard !integrationIds.isEmpty, !scopes.isEmpty else { return [:] }
        let owners = integrationIds.map { _ in "?" }.joined(separator: ", "), marks = scopes.map { _ in "?" }.joined(separator: ", ")
        let binds: [SQLValue] = integrationIds.map { .text($0) } + scopes.map { .text($0) }
        return try await db.read { r in
            var out: [String: [String: [String: String]]] = [:]
            for row in try await r.query("""
                SELECT integration_id, scope, kind, crm_id FROM crm_entities
                WHERE integration_id IN (\(owners)) AND scope IN (\(marks))
                """, binds) {
                guard let owner = row.string("integration_id"), let scope = row.string("scope"), let kind = row.string("kind") else { continue }
                out[scope, default: [:]][owner, default: [:]][kind] = row.string("crm_id")
            }
            return out
        }
    }

    /// Remembers one made thing right after the CRM confirmed it.
    public func remember(integrationId: String, scope: String, kind: String, crmId: String) async throws {
        try await remember(integrationId: integrationId, scope: scope, [kind: crmId])
    }

    /// Remembers several made things (kind → CRM id) at once: one answer that made two is kept whole or not at all.
    public func remember(integrationId: String, scope: String, _ ids: [String: String]) async throws {
        guard !ids.isEmpty else { return }
        try await db.transaction { tx in
            for (kind, crmId) in ids.sorted(by: { $0.key < $1.key }) {
                try await tx.execute("""
                    INSERT INTO crm_entities (integration_id, scope, kind, crm_id, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (integration_id, scope, kind) DO UPDATE SET crm_id = excluded.crm_id
                    """, [.text(integrationId), .text(scope), .text(kind), .text(crmId), .of(Date())])
            }
        }
    }

    /// Forgets what is kept under `kind`.
    public func forget(integrationId: String, scope: String, kind: String) async throws {
        _ = try await db.transaction { tx in
            try await tx.execute("DELETE FROM crm_entities WHERE integration_id = ? AND scope = ? AND kind = ?",
                                 [.text(integrationId), .text(scope), .text(kind)])
        }
    }

    /// Keeps `value` under `kind` unless something is kept there already (the first value wins).
    public func rememberFirst(integrationId: String, scope: String, kind: String, value: String) async throws {
        _ = try await db.transaction { tx in
            try await tx.execute("""
                INSERT INTO crm_entities (integration_id, scope, kind, crm_id, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (integration_id, scope, kind) DO NOTHING
                """, [.text(integrationId), .text(scope), .text(kind), .text(value), .of(Date())])
        }
    }
}
