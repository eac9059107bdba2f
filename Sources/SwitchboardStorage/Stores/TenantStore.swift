import Foundation
import SwitchboardCore

/// Tenants, their cabinet users and API tokens.
public struct TenantStore: Sendable {
    let db: any Database

    public init(db: any Database) { self.db = db }

    public func create(name: String, region: String = "RU") async throws -> Tenant {
        let tenant = Tenant(id: Identifier.make("ten"), name: name, region: region, createdAt: Date())
        _ = try await db.transaction { tx in
            try await tx.execute("INSERT INTO tenants (id, name, region, created_at) VALUES (?, ?, ?, ?)",
                                 [.text(tenant.id), .text(name), .text(region), .of(tenant.createdAt)])
        }
        return tenant
    }

    public func get(_ id: String) async throws -> Tenant? {
        try await db.read { r in
            try await r.one("SELECT * FROM tenants WHERE id = ?", [.text(id)]).map(Self.tenant)
        }
    }

    public func list() async throws -> [Tenant] {
        try await db.read { r in try await r.query("SELECT * FROM tenants ORDER BY created_at", []).map(Self.tenant) }
    }

    static func tenant(_ row: SQLRow) -> Tenant {
        Tenant(id: row.string("id")!, name: row.string("name") ?? "", region: row.string("region") ?? "RU",
               createdAt: row.date("created_at") ?? Date())
    }

    // MARK: cabinet users

    /// Adds a cabinet user; `passwordHash` is already a bcrypt hash.
    public func addUser(tenantId: String, email: String, passwordHash: String, locale: String = "ru") async throws -> CabinetUser {
        let user = CabinetUser(id: Identifier.make("usr"), tenantId: tenantId, email: email.lowercased(),
                               locale: locale, createdAt: Date())
        do {
            _ = try await db.transaction { tx in
                try await tx.execute("""
                    INSERT INTO users (id, tenant_id, email, password_hash, locale, created_at) VALUES (?, ?, ?, ?, ?, ?)
                    """, [.text(user.id), .text(tenantId), .text(user.email), .text(passwordHash), .text(locale),
                          .of(user.createdAt)])
            }
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw StoreError.conflict("a user with e-mail \(user.email) already exists")
        }
        return user
    }

    /// The user and its password hash, for signing in.
    public func userForLogin(email: String) async throws -> (CabinetUser, String)? {
        try await db.read { r in
            guard let row = try await r.one("SELECT * FROM users WHERE email = ?", [.text(email.lowercased())]) else {
                return nil
            }
            return (Self.user(row), row.string("password_hash") ?? "")
        }
    }

    public func users(tenantId: String) async throws -> [CabinetUser] {
        try await db.read { r in
            try await r.query("SELECT * FROM users WHERE tenant_id = ? ORDER BY created_at", [.text(tenantId)]).map(Self.user)
        }
    }

    static func user(_ row: SQLRow) -> CabinetUser {
        CabinetUser(id: row.string("id")!, tenantId: row.string("tenant_id")!, email: row.string("email") ?? "",
                    locale: row.string("locale") ?? "ru", createdAt: row.date("created_at") ?? Date())
    }

    // MARK: API tokens

    public struct APIToken: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        /// The first characters, so a tenant can tell tokens apart; the token itself is shown once.
        public var prefix: String
        public var createdAt: Date
        public var lastUsedAt: Date?
    }

    /// Creates a token and returns it in clear once; only its hash is stored.
    public func createToken(tenantId: String, name: String) async throws -> (APIToken, String) {
        let secret = Hashing.randomToken(prefix: "sb_")
        let token = APIToken(id: Identifier.make("tok"), name: name, prefix: String(secret.prefix(10)),
                             createdAt: Date(), lastUsedAt: nil)
        _ = try await db.transaction { tx in
            try await tx.execute("""
                INSERT INTO api_tokens (id, tenant_id, name, token_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """, [.text(token.id), .text(tenantId), .text(name), .text(Hashing.sha256Hex(secret)),
                      .text(token.prefix), .of(token.createdAt)])
        }
        return (token, secret)
    }

    /// The tenant a presented token belongs to, or nil.
    public func tenantForToken(_ secret: String) async throws -> String? {
        try await db.read { r in
            try await r.one("SELECT tenant_id FROM api_tokens WHERE token_hash = ?",
                            [.text(Hashing.sha256Hex(secret))])?.string("tenant_id")
        }
    }

    public func tokens(tenantId: String) async throws -> [APIToken] {
        try await db.read { r in
            try await r.query("SELECT * FROM api_tokens WHERE tenant_id = ? ORDER BY created_at", [.text(tenantId)]).map {
                APIToken(id: $0.string("id")!, name: $0.string("name") ?? "", prefix: $0.string("prefix") ?? "",
                         createdAt: $0.date("created_at") ?? Date(), lastUsedAt: $0.date("last_used_at"))
            }
        }
    }

    public func deleteToken(tenantId: String, id: String) async throws -> Bool {
        try await db.transaction { tx in
            !(try await tx.query("DELETE FROM api_tokens WHERE tenant_id = ? AND id = ? RETURNING id",
                                 [.text(tenantId), .text(id)]).isEmpty)
        }
    }
}

public enum StoreError: Error, CustomStringConvertible, Sendable {
    case notFound(String)
    case conflict(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .notFound(let s), .conflict(let s), .invalid(let s): return s
        }
    }
}
