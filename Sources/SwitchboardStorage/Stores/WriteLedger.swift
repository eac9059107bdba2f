import Foundation

/// Writes to a remote system made at most once per scope (a call), across crashes and retries, for any connector.
///
/// A job delivered at least once can die between the remote's answer and the moment its id is kept. So every
/// write of a scope has a kind, and:
/// 1. a kept result (`<kind>` → the remote's id) means the write is done: it is never made again;
/// 2. before the write, an intent (`<kind>.intent` → the time) is kept, durably;
/// 3. after the remote answered, its ids are kept in one transaction;
/// 4. a retry that finds an intent without a result cannot tell whether the remote made the thing, so it asks the
///    remote first (`find`, by the scope's own marker, among what was made since the intent), and writes again only
///    when the remote has nothing.
///
/// Rows live in `crm_entities` (integration, scope, kind); no other table is needed.
public struct WriteLedger {
    public let store: CRMEntityStore
    public let owner: String
    public let scope: String
    /// kind → kept value (ids, intents, and values kept with `keep`).
    public private(set) var kept: [String: String]
    /// A test-only seam, nil in production: called with the kind after the remote answered a write and before its
    /// result is kept. Throwing here (or killing the process) is exactly a crash in the worst moment.
    let afterWrite: (@Sendable (String) throws -> Void)?

    static let intentSuffix = ".intent"

    /// Reads what is kept for `scope` of `owner` (an integration).
    public static func open(store: CRMEntityStore, owner: String, scope: String,
                            afterWrite: (@Sendable (String) throws -> Void)? = nil) async throws -> WriteLedger {
        WriteLedger(store: store, owner: owner, scope: scope, kept: try await store.all(integrationId: owner, scope: scope),
                    afterWrite: afterWrite)
    }

    /// The remote's id of the `kind` made for this scope, if it is known.
    public subscript(kind: String) -> String? { kept[kind] }

    /// When an earlier attempt was about to make `kind` (nil if none was).
    public func intent(_ kind: String) -> Date? {
        kept[kind + Self.intentSuffix].flatMap { Int64($0) }.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// Keeps a value that is not a remote write (what the remote knew, say), or a remote id known otherwise.
    public mutating func keep(_ values: [String: String]) async throws {
        try await store.remember(integrationId: owner, scope: scope, values)
        kept.merge(values) { _, new in new }
    }

    /// Makes the write of `kind` at most once and returns its remote id (nil when the write made nothing).
    /// - `find`: asked only when an earlier attempt may have written; gets the time of that attempt's intent and
    ///   returns the ids (kind → id, `kind` among them) of what the remote made since, or nil when it made nothing.
    /// - `write`: makes the thing; returns the ids of what the remote made (kind → id, `kind` among them; empty when
    ///   the remote made nothing, e.g. it refused for a reason that is no failure).
    @discardableResult
    public mutating func once(_ kind: String, find: (Date) async throws -> [String: String]?,
                              write: () async throws -> [String: String]) async throws -> String? {
        if let done = kept[kind] { return done }
        if let since = intent(kind), let found = try await find(since), found[kind] != nil {
            try await keep(found)
            return found[kind]
        }
        // The first intent's time stays: a later lookup then covers every attempt that may have written.
        if intent(kind) == nil {
            let now = String(Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
            try await store.rememberFirst(integrationId: owner, scope: scope, kind: kind + Self.intentSuffix, value: now)
            kept[kind + Self.intentSuffix] = now
        }
        let made: [String: String]
        do {
            made = try await write()
        } catch let refusal as any RemoteRefusal where refusal.remoteMadeNothing {
            // The remote refused before doing anything (and the lookup above found nothing): no intent is left
            // behind, so the next attempt writes at once instead of looking first.
            try await store.forget(integrationId: owner, scope: scope, kind: kind + Self.intentSuffix)
            kept[kind + Self.intentSuffix] = nil
            throw refusal
        }
        try afterWrite?(kind)
        try await keep(made)
        return made[kind]
    }
}

/// An error by which a remote said it made nothing (it refused before doing anything: a rate limit, a validation
/// error, a refused token), as opposed to one after which the write may or may not have happened (a timeout, a 5xx).
public protocol RemoteRefusal: Error {
    var remoteMadeNothing: Bool { get }
}
