import Foundation
import SwitchboardCore

/// CRM credential sets (CORE-1); secrets go through the vault and never come back out to the API.
public struct CredentialStore: Sendable {
    let db: any Database
    let vault: CredentialVault

    public init(db: any Database, vault: CredentialVault) {
        self.db = db
        self.vault = vault
    }

    static func context(_ tenantId: String, _ id: String) -> String { "crm-credential:\(tenantId):\(id)" }

    public func create(tenantId: String, crm: CRMKind, name: String, baseURL: String, authKind: CRMAuthKind,
                       secret: CRMSecret) async throws -> CRMCredential {
        let id = Identifier.make("cred")
        let now = Date()
        let sealed: SQLValue = secret.isEmpty ? .null
            : .blob(try vault.seal(json: secret, context: Self.context(tenantId, id)))
        _ = try await db.transaction { tx in
            try await tx.execute("""
                INSERT INTO crm_credentials (id, tenant_id, crm, name, base_url, auth_kind, secret, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(id), .text(tenantId), .text(crm.rawValue), .text(name), .text(baseURL),
                      .text(authKind.rawValue), sealed, .of(now), .of(now)])
        }
        return try await get(tenantId: tenantId, id: id)!
    }

    public func get(tenantId: String, id: String) async throws -> CRMCredential? {
        try await db.read { r in
            try await r.one("SELECT * FROM crm_credentials WHERE tenant_id = ? AND id = ?",
                            [.text(tenantId), .text(id)]).map(Self.credential)
        }
    }

    public func list(tenantId: String, crm: CRMKind? = nil) async throws -> [CRMCredential] {
        try await db.read { r in
            if let crm {
                return try await r.query("SELECT * FROM crm_credentials WHERE tenant_id = ? AND crm = ? ORDER BY created_at",
                                         [.text(tenantId), .text(crm.rawValue)]).map(Self.credential)
            }
            return try await r.query("SELECT * FROM crm_credentials WHERE tenant_id = ? ORDER BY created_at",
                                     [.text(tenantId)]).map(Self.credential)
        }
    }

    /// Changes name and URL; a non-nil `secret` replaces the stored one. A stored secret never follows a new
    /// `baseURL`: moved without a new secret, the credential loses its secret (in the same statement, so no
    /// concurrent change can slip one through).
    public func update(tenantId: String, id: String, name: String?, baseURL: String?, secret: CRMSecret?) async throws -> CRMCredential? {
        let sealed = try secret.map { try vault.seal(json: $0, context: Self.context(tenantId, id)) }
        let changed: Bool = try await db.transaction { tx in
            let rows = try await tx.query("""
                UPDATE crm_credentials SET name = COALESCE(?, name),
                  secret = COALESCE(?, CASE WHEN base_url = COALESCE(?, base_url) THEN secret END),
                  base_url = COALESCE(?, base_url), updated_at = ?,
                  status = COALESCE(?, status)
                WHERE tenant_id = ? AND id = ? RETURNING id
                """, [.of(name), .of(sealed), .of(baseURL), .of(baseURL), .of(Date()),
                      .of(baseURL != nil || sealed != nil ? "unchecked" : nil), .text(tenantId), .text(id)])
            return !rows.isEmpty
        }
        return changed ? try await get(tenantId: tenantId, id: id) : nil
    }

    /// Sets the state and its detail; the detail is stored as a phrase (JSON), so the cabinet shows it in the
    /// tenant's language.
    public func setStatus(tenantId: String, id: String, status: CredentialStatus, detail: Phrase?) async throws {
        _ = try await db.transaction { tx in
            try await tx.execute("UPDATE crm_credentials SET status = ?, status_detail = ?, updated_at = ? WHERE tenant_id = ? AND id = ?",
                                 [.text(status.rawValue), .of(detail.map(JSON.string)), .of(Date()), .text(tenantId), .text(id)])
        }
    }

    /// The decrypted secret, for connectors only.
    public func secret(tenantId: String, id: String) async throws -> CRMSecret? {
        let sealed = try await db.read { r in
            try await r.one("SELECT secret FROM crm_credentials WHERE tenant_id = ? AND id = ?",
                            [.text(tenantId), .text(id)])?.bytes("secret")
        }
        guard let sealed else { return nil }
        return try vault.open(CRMSecret.self, from: sealed, context: Self.context(tenantId, id))
    }

    public func delete(tenantId: String, id: String) async throws -> Bool {
        try await db.transaction { tx in
            !(try await tx.query("DELETE FROM crm_credentials WHERE tenant_id = ? AND id = ? RETURNING id",
                                 [.text(tenantId), .text(id)]).isEmpty)
        }
    }

    static func credential(_ row: SQLRow) -> CRMCredential {
        let detail = statusDetail(row.string("status_detail"))
        return CRMCredential(id: row.string("id")!, tenantId: row.string("tenant_id")!,
                      crm: CRMKind(row.string("crm") ?? ""), name: row.string("name") ?? "",
                      baseURL: row.string("base_url") ?? "",
                      authKind: CRMAuthKind(rawValue: row.string("auth_kind") ?? "") ?? .token,
                      status: row.string("status") ?? "unchecked", statusDetail: detail.english, statusPhrase: detail.phrase,
                      hasSecret: row["secret"] != .null, createdAt: row.date("created_at") ?? Date(),
                      updatedAt: row.date("updated_at") ?? Date())
    }
}

extension CredentialStore {
    /// Takes the right to refresh this credential's OAuth token until `until`; false if another worker holds it.
    public func lockRefresh(tenantId: String, id: String, until: Date) async throws -> Bool {
        let now = Date()
        return try await db.transaction { tx in
            !(try await tx.query("""
                UPDATE crm_credentials SET refresh_lock_until = ?
                WHERE tenant_id = ? AND id = ? AND (refresh_lock_until IS NULL OR refresh_lock_until < ?) RETURNING id
                """, [.of(until), .text(tenantId), .text(id), .of(now)]).isEmpty)
        }
    }

    /// Gives the refresh lease up without changing anything else.
    public func releaseRefresh(tenantId: String, id: String) async throws {
        _ = try await db.transaction { tx in
            try await tx.execute("UPDATE crm_credentials SET refresh_lock_until = NULL WHERE tenant_id = ? AND id = ?",
                                 [.text(tenantId), .text(id)])
        }
    }

    /// Stores a refreshed secret, sets the status, and gives up the refresh lease, in one transaction.
    public func storeRefreshed(tenantId: String, id: String, secret: CRMSecret?, status: String, detail: Phrase?) async throws {
        let sealed = try secret.map { try vault.seal(json: $0, context: Self.context(tenantId, id)) }
        _ = try await db.transaction { tx in
            try await tx.execute("""
                UPDATE crm_credentials SET secret = COALESCE(?, secret), status = ?, status_detail = ?, refresh_lock_until = NULL,
                  token_expires_at = COALESCE(?, token_expires_at), updated_at = ?
                WHERE tenant_id = ? AND id = ?
                """, [.of(sealed), .text(status), .of(detail.map(JSON.string)), .of(secret?.accessTokenExpiresAt), .of(Date()),
                      .text(tenantId), .text(id)])
        }
    }
}

extension CredentialStore {
    /// A stored state detail: a phrase's JSON, or plain English written before phrases were (shown as it is).
    static func statusDetail(_ stored: String?) -> (english: String?, phrase: Phrase?) {
        guard let stored else { return (nil, nil) }
        if stored.hasPrefix("{"), let phrase = try? JSON.decode(Phrase.self, from: stored) { return (phrase.en, phrase) }
        return (stored, nil)
    }
}
