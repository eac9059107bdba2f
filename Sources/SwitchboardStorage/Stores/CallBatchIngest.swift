import Foundation
import SwitchboardCore

/// One PBX request's events, as the ingest stores them: all of them or none.
public struct IngestRequest: Sendable {
    public var events: [CallEvent]
    public var raw: String
    public var tenantId: String
    public var connectionId: String
    public var region: String

    public init(events: [CallEvent], raw: String, tenantId: String, connectionId: String, region: String) {
        self.events = events
        self.raw = raw
        self.tenantId = tenantId
        self.connectionId = connectionId
        self.region = region
    }
}

/// The batch could not be stored in set-based statements (two known calls to merge, or another writer got to one of
/// its rows first); the caller stores it request by request instead.
public struct NeedsSingleIngest: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { "batch ingest not possible: \(reason)" }
}

extension CallStore {
    struct AliasKey: Hashable {
        let connection: String
        let external: String
    }

    struct EventKey: Hashable {
        let connection: String
        let key: String
    }

    /// Stores the events of many requests in a few multi-row statements, inside the caller's transaction, with the
    /// same outcome as `ingest(_:raw:tenantId:connectionId:region:in:)` called for every event in order: the known
    /// calls in one query, every new provider id in one insert, every event in one insert (a repeated event changes
    /// nothing), every changed call in one upsert. Throws `NeedsSingleIngest` (having written nothing the caller
    /// keeps: it rolls back) when the batch needs what only the one-by-one path does: merging two stored calls, or a
    /// row another writer claimed meanwhile.
    public func ingestBatch(_ requests: [IngestRequest], in tx: any SQLExecutor) async throws -> [[IngestOutcome]] {
        // 1. Every provider id the batch names, and the stored calls they belong to (locked on PostgreSQL).
        var wanted: [AliasKey] = []
        var seenWanted = Set<AliasKey>()
        for request in requests {
            for event in request.events {
                for external in [event.externalCallId] + (event.relatedExternalId.map { [$0] } ?? []) {
                    let key = AliasKey(connection: request.connectionId, external: external)
                    if seenWanted.insert(key).inserted { wanted.append(key) }
                }
            }
        }
        var aliases: [AliasKey: String] = [:]
        var calls: [String: Call] = [:]
        let lock = tx.dialect == .postgres ? " FOR UPDATE OF c" : ""
        // One query per connection (usually one per batch): `connection = ? AND external IN (…)` is a search of the
        // primary key, where a row-value IN over pairs makes SQLite scan every alias.
        var byConnection: [String: [String]] = [:]
        var connectionOrder: [String] = []
        for key in wanted {
            if byConnection[key.connection] == nil { connectionOrder.append(key.connection) }
            byConnection[key.connection, default: []].append(key.external)
        }
        for connection in connectionOrder {
            for chunk in byConnection[connection]!.chunked(500) {
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                let rows = try await tx.query("""
                    SELECT a.pbx_connection_id, a.external_id, a.call_id, c.model FROM call_aliases a JOIN calls c ON c.id = a.call_id
                    WHERE a.pbx_connection_id = ? AND a.external_id IN (\(marks))\(lock)
                    """, [.text(connection)] + chunk.map { SQLValue.text($0) })
                for row in rows {
                    guard let connection = row.string("pbx_connection_id"), let external = row.string("external_id"),
                          let id = row.string("call_id") else { continue }
                    aliases[AliasKey(connection: connection, external: external)] = id
                    if calls[id] == nil, let model = row.string("model") { calls[id] = try JSON.decode(Call.self, from: model) }
                }
            }
        }

        // 2. Which call each event belongs to; new calls and new provider ids.
        struct Placed {
            let request: Int
            let event: CallEvent
            let callId: String
            let fresh: Bool
        }
        var placed: [Placed] = []
        var newAliases: [(AliasKey, String)] = []
        var newCalls = Set<String>()
        var eventKeys = Set<EventKey>()
        for (r, request) in requests.enumerated() {
            for event in request.events {
                let externals = [event.externalCallId] + (event.relatedExternalId.map { [$0] } ?? [])
                var known: [String] = []
                for external in externals {
                    if let id = aliases[AliasKey(connection: request.connectionId, external: external)], !known.contains(id) {
                        known.append(id)
                    }
                }
                if known.count > 1 { throw NeedsSingleIngest(reason: "an event links two calls") }
                let callId: String
                if let id = known.first {
                    callId = id
                } else {
                    callId = Identifier.ordered("call")
                    calls[callId] = Call(id: callId, tenantId: request.tenantId, pbxConnectionId: request.connectionId,
                                         externalIds: [event.externalCallId], createdAt: event.occurredAt)
                    newCalls.insert(callId)
                }
                for external in externals {
                    let key = AliasKey(connection: request.connectionId, external: external)
                    if aliases[key] == nil {
                        aliases[key] = callId
                        newAliases.append((key, callId))
                    }
                }
                let fresh = eventKeys.insert(EventKey(connection: request.connectionId, key: event.key)).inserted
                placed.append(Placed(request: r, event: event, callId: callId, fresh: fresh))
            }
        }

        // 3. The new provider ids: each must be claimed here, or another writer was first.
        for chunk in newAliases.chunked(300) {
            let claimed = try await tx.query("""
                INSERT INTO call_aliases (pbx_connection_id, external_id, call_id) VALUES \(Self.tuples(chunk.count, width: 3))
                ON CONFLICT (pbx_connection_id, external_id) DO NOTHING RETURNING external_id
                """, chunk.flatMap { [SQLValue.text($0.0.connection), .text($0.0.external), .text($0.1)] })
            if claimed.count != chunk.count { throw NeedsSingleIngest(reason: "a provider id was claimed by another writer") }
        }

        // 4. The events; one stored before (by another request or instance) is a repeat and changes nothing.
        let now = Date()
        let toInsert = placed.filter(\.fresh)
        var stored = Set<EventKey>()
        for chunk in toInsert.chunked(200) {
            var binds: [SQLValue] = []
            binds.reserveCapacity(chunk.count * 8)
            for p in chunk {
                let request = requests[p.request]
                binds += [.text(request.tenantId), .text(request.connectionId), .text(p.callId), .text(p.event.key),
                          .text(p.event.kind.rawValue), .of(p.event.occurredAt), .of(now),
                          .text(JSON.written(StoredEvent(event: p.event, raw: request.raw)))]
            }
            let rows = try await tx.query("""
                INSERT INTO call_events (tenant_id, pbx_connection_id, call_id, event_key, type, occurred_at, received_at, raw)
                VALUES \(Self.tuples(chunk.count, width: 8))
                ON CONFLICT (pbx_connection_id, event_key) DO NOTHING RETURNING pbx_connection_id, event_key
                """, binds)
            for row in rows {
                if let connection = row.string("pbx_connection_id"), let key = row.string("event_key") {
                    stored.insert(EventKey(connection: connection, key: key))
                }
            }
        }

        // 5. The calls move in event order; each changed call is written once.
        var outcomes: [[IngestOutcome]] = requests.map { _ in [] }
        var changed: [String] = []
        var changedSet = Set<String>()
        for p in placed {
            let request = requests[p.request]
            let before = calls[p.callId]!
            guard p.fresh, stored.contains(EventKey(connection: request.connectionId, key: p.event.key)) else {
                outcomes[p.request].append(IngestOutcome(call: before, duplicate: true, transitions: []))
                continue
            }
            let (after, transitions) = CallReducer.apply(p.event, to: before, region: request.region)
            calls[p.callId] = after
            if changedSet.insert(p.callId).inserted { changed.append(p.callId) }
            outcomes[p.request].append(IngestOutcome(call: after, duplicate: false, transitions: transitions))
        }
        let saved = Date()
        for chunk in changed.chunked(200) {
            var binds: [SQLValue] = []
            binds.reserveCapacity(chunk.count * Self.callColumns)
            for id in chunk { binds += Self.row(calls[id]!, at: saved) }
            try await tx.execute(Self.upsertCalls(rows: chunk.count), binds)
        }
        return outcomes
    }

    /// `(?, ?), (?, ?)` for `count` rows of `width` values.
    static func tuples(_ count: Int, width: Int) -> String {
        let one = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
        return Array(repeating: one, count: count).joined(separator: ", ")
    }
}

extension Array {
    /// The array in consecutive pieces of at most `size` elements.
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
