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
        _ = try await db.transaction { tx in
            try await tx.execute("DELETE FROM sessions WHERE id_hash = ?", [.text(Hashing.sha256Hex(id))])
        }
    }

    // MARK: sign-in attempts

    /// Counts a sign-in attempt against each key (an e-mail, a client address) before its password is checked, in
    /// one transaction that holds each key's lock, so concurrent attempts are counted one after another: when a key
    /// already has its limit of attempts since `now - window`, nothing is counted and the attempt is refused.
    /// Returns the attempt's time, for `settle`, or nil when refused. Keys are stored hashed.
    public func admitAttempt(_ keys: [(key: String, limit: Int)], window: TimeInterval) async throws -> Date? {
        let now = Date()
        let hashed = keys.map { (hash: Hashing.sha256Hex($0.key), limit: $0.limit) }.sorted { $0.hash < $1.hash }
        return try await db.transaction { tx in
            // SQLite runs one write transaction at a time; PostgreSQL takes a lock per key (in one order: no deadlock).
            if tx.dialect == .postgres {
                for key in hashed { try await tx.execute("SELECT pg_advisory_xact_lock(7207005, hashtext(?))", [.text(key.hash)]) }
            }
            try await tx.execute("DELETE FROM signin_failures WHERE at <= ?", [.of(now.addingTimeInterval(-window))])
            for key in hashed {
                let n = try await tx.one("SELECT COUNT(*) AS n FROM signin_failures WHERE key_hash = ?", [.text(key.hash)])?.int("n") ?? 0
                if n >= key.limit { return nil }
            }
            for key in hashed {
                try await tx.execute("INSERT INTO signin_failures (key_hash, at) VALUES (?, ?)", [.text(key.hash), .of(now)])
            }
            return now
        }
    }

    /// After a successful sign-in: forgets every attempt counted against `clear` (the e-mail), and this attempt
    /// (made at `at`) against `uncount` (the address, whose other attempts keep counting).
    public func settleAttempt(at: Date, clear: [String], uncount: [String]) async throws {
        try await db.transaction { tx in
            for key in clear { try await tx.execute("DELETE FROM signin_failures WHERE key_hash = ?", [.text(Hashing.sha256Hex(key))]) }
            for key in uncount {
                try await tx.execute("DELETE FROM signin_failures WHERE key_hash = ? AND at = ?", [.text(Hashing.sha256Hex(key)), .of(at)])
            }
        }
    }
}
