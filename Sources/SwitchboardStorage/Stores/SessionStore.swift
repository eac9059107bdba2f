import Foundation
import SwitchboardCore

/// Cabinet sign-in sessions; only a hash of the session id is stored.
public struct SessionStore: Sendable {
    let db: any Database

    public init(db: any Database) { self.db = db }

    public struct Session: Sendable, Equatable {
        public var userId: String
        public var tenantId: String
        /// The token every form of this session must carry.
        public var csrf: String
        public var email: String
        public var locale: String
    }

    /// Starts a session; returns its id (for the cookie) and its CSRF token.
    public func create(user: CabinetUser, lifetime: TimeInterval = 12 * 3600) async throws -> (id: String, csrf: String) {
        let id = Hashing.randomToken(prefix: "")
        let csrf = Hashing.randomToken(prefix: "", bytes: 24)
        let now = Date()
        try await db.transaction { tx in
            try await tx.execute("DELETE FROM sessions WHERE expires_at < ?", [.of(now)])
            try await tx.execute("""
                INSERT INTO sessions (id_hash, user_id, tenant_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
                """, [.text(Hashing.sha256Hex(id)), .text(user.id), .text(user.tenantId), .text(csrf), .of(now),
                      .of(now.addingTimeInterval(lifetime))])
        }
        return (id, csrf)
    }

    public func get(_ id: String) async throws -> Session? {
        try await db.read { r in
            try await r.one("""
                SELECT s.user_id, s.tenant_id, s.csrf, u.email, u.locale FROM sessions s JOIN users u ON u.id = s.user_id
                WHERE s.id_hash = ? AND s.expires_at > ?
                """, [.text(Hashing.sha256Hex(id)), .of(Date())]).map {
                Session(userId: $0.string("user_id")!, tenantId: $0.string("tenant_id")!, csrf: $0.string("csrf")!,
                        email: $0.string("email") ?? "", locale: $0.string("locale") ?? "ru")
            }
        }
    }

    public func delete(_ id: String) async throws {
        try await db.transaction { tx in
            try await tx.execute("DELETE FROM sessions WHERE id_hash = ?", [.text(Hashing.sha256Hex(id))])
        }
    }

    // MARK: failed sign-ins

    /// The most failures any of `keys` (an e-mail, an address) had since `since`. Keys are stored hashed.
    public func failures(keys: [String], since: Date) async throws -> Int {
        try await db.read { r in
            var most = 0
            for key in keys {
                let n = try await r.one("SELECT COUNT(*) AS n FROM signin_failures WHERE key_hash = ? AND at > ?",
                                        [.text(Hashing.sha256Hex(key)), .of(since)])?.int("n") ?? 0
                most = max(most, n)
            }
            return most
        }
    }

    /// Records a failed sign-in for each key; forgets failures older than `keep`.
    public func recordFailure(keys: [String], keep: TimeInterval) async throws {
        let now = Date()
        try await db.transaction { tx in
            try await tx.execute("DELETE FROM signin_failures WHERE at < ?", [.of(now.addingTimeInterval(-keep))])
            for key in keys {
                try await tx.execute("INSERT INTO signin_failures (key_hash, at) VALUES (?, ?)", [.text(Hashing.sha256Hex(key)), .of(now)])
            }
        }
    }

    public func clearFailures(keys: [String]) async throws {
        try await db.transaction { tx in
            for key in keys { try await tx.execute("DELETE FROM signin_failures WHERE key_hash = ?", [.text(Hashing.sha256Hex(key))]) }
        }
    }
}
