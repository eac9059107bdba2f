import Foundation
import SwitchboardStorage

/// A remote's documented request limit, turned into a spacing between requests. Requests are spaced evenly with a
/// safety margin (by default 20 %: "7 per second" is sent as 7 per 1.2 s), so network jitter between our send and
/// the remote's count never makes it see more than its limit in any window.
public struct RatePolicy: Sendable, Equatable {
    public var limit: Int
    public var per: Duration
    public var margin: Double

    public init(limit: Int, per: Duration, margin: Double = 0.2) {
        self.limit = max(limit, 1)
        self.per = per
        self.margin = max(margin, 0)
    }

    /// The time between two requests.
    public var interval: Duration {
        .nanoseconds(Int64(per.seconds * (1 + margin) / Double(limit) * 1e9))
    }
}

/// Paces requests to rate-limited remotes (a CRM account): each caller reserves the next free slot and waits for it,
/// so waiting requests go in arrival order and none is ever sent early.
public protocol RateLimiter: Sendable {
    /// Waits until one more request to `key` may be sent under `policy`.
    func acquire(_ key: String, policy: RatePolicy) async throws
}

/// The slot arithmetic every limiter shares: the slot after `last`, never before `now`.
public enum RateSlots {
    public static func next(after last: Date?, now: Date, interval: Duration) -> Date {
        guard let last else { return now }
        return max(now, last.addingTimeInterval(interval.seconds))
    }
}

/// One process's limiter (SQLite: one instance serves the installation).
public final class LocalRateLimiter: RateLimiter, @unchecked Sendable {
    public static let shared = LocalRateLimiter()
    private let lock = NSLock()
    private var last: [String: Date] = [:]

    public init() {}

    /// Reserves a slot and returns when it starts.
    public func reserve(_ key: String, policy: RatePolicy, now: Date = Date()) -> Date {
        lock.withLock {
            let slot = RateSlots.next(after: last[key], now: now, interval: policy.interval)
            last[key] = slot
            return slot
        }
    }

    public func acquire(_ key: String, policy: RatePolicy) async throws {
        try await Self.sleep(until: reserve(key, policy: policy))
    }

    static func sleep(until slot: Date) async throws {
        let wait = slot.timeIntervalSinceNow
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up)))) }
    }
}

/// The installation's limiter in storage (PostgreSQL: every instance reserves from the same row per key, so the
/// limit holds for a CRM account however many instances and integrations send to it).
public struct StoredRateLimiter: RateLimiter {
    let store: RateLimitStore

    public init(db: any Database) { self.store = RateLimitStore(db: db) }

    public func acquire(_ key: String, policy: RatePolicy) async throws {
        try await LocalRateLimiter.sleep(until: store.reserve(key: key, interval: policy.interval))
    }
}

public enum RateLimiters {
    /// Shared through storage when several instances can share the database; in memory otherwise.
    public static func make(for db: any Database) -> any RateLimiter {
        db.dialect == .postgres ? StoredRateLimiter(db: db) : LocalRateLimiter.shared
    }
}
