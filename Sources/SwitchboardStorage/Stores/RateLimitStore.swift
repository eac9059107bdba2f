import Foundation

/// Send slots of rate-limited remotes, shared by every instance on one database.
public struct RateLimitStore: Sendable {
    let db: any Database

    public init(db: any Database) { self.db = db }

    /// Reserves the next send slot for `key`, spaced `interval` after the previous one and never before `now`;
    /// returns when the caller may send. One atomic statement, so concurrent reservations never share a slot.
    public func reserve(key: String, interval: Duration, now: Date = Date()) async throws -> Date {
        let step = Int64((interval.seconds * 1000).rounded(.up))
        let dialect = db.dialect
        return try await db.transaction { tx in
            // A lost reservation only leaves a slot unused.
            if dialect == .postgres { try await tx.execute("SET LOCAL synchronous_commit TO OFF") }
            let row = try await tx.one("""
                INSERT INTO rate_limits (key, next_at) VALUES (?, ?)
                ON CONFLICT (key) DO UPDATE SET next_at = CASE WHEN rate_limits.next_at < ? THEN ? ELSE rate_limits.next_at + ? END
                RETURNING next_at
                """, [.text(key), .int(now.millis + step), .int(now.millis), .int(now.millis + step), .int(step)])
            let next = row?.int64("next_at") ?? (now.millis + step)
            return Date(millis: next - step)
        }
    }
}
