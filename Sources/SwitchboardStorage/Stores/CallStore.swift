import Foundation
import SwitchboardCore

/// The outcome of storing one PBX event.
public struct IngestOutcome: Sendable {
    public var call: Call
    public var duplicate: Bool
    public var transitions: [CallTransition]
}

/// Calls, their provider aliases and their append-only events.
public struct CallStore: Sendable {
    let db: any Database

    public init(db: any Database) { self.db = db }

    /// Stores `event` and applies it to its call, inside the caller's transaction. A repeated event
    /// (same key) changes nothing. An event naming two provider ids that belong to two calls merges them.
    public func ingest(_ event: CallEvent, raw: String, tenantId: String, connectionId: String, region: String,
                       in tx: any SQLExecutor) async throws -> IngestOutcome {
        // The calls the event's provider ids already belong to, with their models, in one query. A repeated
        // event is caught by the event insert below (its key is unique per connection).
        let ids = [event.externalCallId] + (event.relatedExternalId.map { [$0] } ?? [])
        let known = try await aliasedCalls(connectionId: connectionId, externals: ids, in: tx)
        var callIds: [String] = []
        for external in ids {
            if let id = known.aliases[external], !callIds.contains(id) { callIds.append(id) }
        }
        let now = Date()
        var call: Call
        var events: [CallEvent]? = nil
        if callIds.isEmpty {
            let id = Identifier.ordered("call")
            // Two requests for a new call may race (several instances): the alias decides who created it.
            let claimed = try await tx.query("""
                INSERT INTO call_aliases (pbx_connection_id, external_id, call_id) VALUES (?, ?, ?)
                ON CONFLICT (pbx_connection_id, external_id) DO NOTHING RETURNING call_id
                """, [.text(connectionId), .text(event.externalCallId), .text(id)])
            if claimed.isEmpty, let winner = try await alias(connectionId: connectionId, external: event.externalCallId, in: tx),
               let existing = try await load(winner, in: tx) {
                call = existing
            } else {
                call = Call(id: id, tenantId: tenantId, pbxConnectionId: connectionId, externalIds: [event.externalCallId],
                            createdAt: event.occurredAt)
            }
        } else if callIds.count == 1, let existing = known.calls[callIds[0]] {
            call = existing
        } else {
            // The event links two calls (a transfer seen before its origin): rebuild one call from both histories.
            let keep = callIds[0]
            var all: [CallEvent] = []
            for id in callIds { all += try await storedEvents(callId: id, in: tx) }
            for other in callIds.dropFirst() {
                try await tx.execute("UPDATE call_aliases SET call_id = ? WHERE call_id = ?", [.text(keep), .text(other)])
                try await tx.execute("UPDATE call_events SET call_id = ? WHERE call_id = ?", [.text(keep), .text(other)])
                try await Self.moveJobs(from: other, to: keep, in: tx)
                try await tx.execute("DELETE FROM calls WHERE id = ?", [.text(other)])
            }
            call = Call(id: keep, tenantId: tenantId, pbxConnectionId: connectionId, externalIds: [],
                        createdAt: all.map(\.occurredAt).min() ?? event.occurredAt)
            events = all
        }
        // Every provider id of the event points at the call (a new call's own id was claimed above).
        var stored = known.aliases
        if callIds.isEmpty { stored[event.externalCallId] = call.id }
        for external in ids where stored[external] != call.id {
            try await tx.execute("""
                INSERT INTO call_aliases (pbx_connection_id, external_id, call_id) VALUES (?, ?, ?)
                ON CONFLICT (pbx_connection_id, external_id) DO NOTHING
                """, [.text(connectionId), .text(external), .text(call.id)])
        }
        let before = call
        if let events {
            for e in events { call = CallReducer.apply(e, to: call, region: region).0 }
        }
        let (after, transitions) = CallReducer.apply(event, to: call, region: region)
        call = after
        let inserted = try await tx.query("""
            INSERT INTO call_events (tenant_id, pbx_connection_id, call_id, event_key, type, occurred_at, received_at, raw)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pbx_connection_id, event_key) DO NOTHING RETURNING id
            """, [.text(tenantId), .text(connectionId), .text(call.id), .text(event.key), .text(event.kind.rawValue),
                  .of(event.occurredAt), .of(now), .text(JSON.written(StoredEvent(event: event, raw: raw)))])
        if inserted.isEmpty {
            // The same event arrived at another instance a moment earlier.
            return IngestOutcome(call: before, duplicate: true, transitions: [])
        }
        try await save(call, in: tx)
        return IngestOutcome(call: call, duplicate: false, transitions: transitions)
    }

    /// The jobs of a call merged away become the kept call's: their payloads and dedupe keys name it. A queued job
    /// the kept call already has (the same kind for the same integration and employee) is dropped instead, so the
    /// merged call is shown and logged once.
    static func moveJobs(from other: String, to keep: String, in tx: any SQLExecutor) async throws {
        try await tx.execute("""
            DELETE FROM jobs WHERE call_id = ? AND state = 'queued' AND dedupe_key IS NOT NULL
              AND EXISTS (SELECT 1 FROM jobs k WHERE k.dedupe_key = replace(jobs.dedupe_key, ?, ?))
            """, [.text(other), .text(other), .text(keep)])
        try await tx.execute("""
            UPDATE jobs SET call_id = ?, payload = replace(payload, ?, ?),
              dedupe_key = CASE WHEN dedupe_key IS NULL OR EXISTS (SELECT 1 FROM jobs k WHERE k.dedupe_key = replace(jobs.dedupe_key, ?, ?))
                THEN dedupe_key ELSE replace(dedupe_key, ?, ?) END
            WHERE call_id = ?
            """, [.text(keep), .text(other), .text(keep), .text(other), .text(keep), .text(other), .text(keep), .text(other)])
    }

    struct StoredEvent: Codable, JSONWritable {
        var event: CallEvent
        var raw: String

        func write(to json: inout JSONWriter) {
            json.object { j in
                j.key("event"); j.value(event)
                j.key("raw"); j.string(raw)
            }
        }
    }

    /// Provider id → call id, and the models of those calls (locked for this transaction on PostgreSQL).
    func aliasedCalls(connectionId: String, externals: [String], in tx: any SQLExecutor)
        async throws -> (aliases: [String: String], calls: [String: Call]) {
        let marks = externals.map { _ in "?" }.joined(separator: ", ")
        let lock = tx.dialect == .postgres ? " FOR UPDATE OF c" : ""
        let rows = try await tx.query("""
            SELECT a.external_id, a.call_id, c.model FROM call_aliases a JOIN calls c ON c.id = a.call_id
            WHERE a.pbx_connection_id = ? AND a.external_id IN (\(marks))\(lock)
            """, [.text(connectionId)] + externals.map { .text($0) })
        var aliases: [String: String] = [:], calls: [String: Call] = [:]
        for row in rows {
            guard let external = row.string("external_id"), let id = row.string("call_id") else { continue }
            aliases[external] = id
            if calls[id] == nil, let model = row.string("model") { calls[id] = try JSON.decode(Call.self, from: model) }
        }
        return (aliases, calls)
    }

    func alias(connectionId: String, external: String, in tx: any SQLExecutor) async throws -> String? {
        try await tx.one("SELECT call_id FROM call_aliases WHERE pbx_connection_id = ? AND external_id = ?",
                         [.text(connectionId), .text(external)])?.string("call_id")
    }

    func load(_ id: String, in tx: any SQLExecutor) async throws -> Call? {
        let lock = tx.dialect == .postgres ? " FOR UPDATE" : ""
        guard let row = try await tx.one("SELECT model FROM calls WHERE id = ?\(lock)", [.text(id)]) else { return nil }
        return try JSON.decode(Call.self, from: row.string("model") ?? "")
    }

    func storedEvents(callId: String, in tx: any SQLExecutor) async throws -> [CallEvent] {
        try await tx.query("SELECT raw FROM call_events WHERE call_id = ? ORDER BY occurred_at, id", [.text(callId)]).compactMap {
            try? JSON.decode(StoredEvent.self, from: $0.string("raw") ?? "").event
        }
    }

    func save(_ call: Call, in tx: any SQLExecutor) async throws {
        try await tx.execute(Self.upsertOne, Self.row(call, at: Date()))
    }

    static let upsertOne = upsertCalls(rows: 1)

    /// How many values one call's row has in `upsertCalls`.
    static let callColumns = 20

    /// One call's values for `upsertCalls`, in its column order.
    static func row(_ call: Call, at now: Date) -> [SQLValue] {
        [
            .text(call.id), .text(call.tenantId), .text(call.pbxConnectionId), .text(call.direction.rawValue),
            .of(call.client?.e164), .of(call.client?.raw), .of(call.lineNumber), .text(call.state.rawValue),
            .text(call.result.rawValue), .of(call.createdAt), .of(call.answeredAt), .of(call.endedAt),
            .of(call.waitSec), .of(call.talkSec), .of(call.firstTalker), .of(call.lastTalker), .of(call.recordingURL),
            .of(call.state == .finalized), .text(JSON.written(call)), .of(now),
        ]
    }

    /// Inserts or updates `rows` calls (each given by `row(_:at:)`) in one statement.
    static func upsertCalls(rows: Int) -> String {
        """
        INSERT INTO calls (id, tenant_id, pbx_connection_id, direction, client_number, client_raw, line_number, state,
          result, started_at, answered_at, ended_at, wait_sec, talk_sec, first_talker, last_talker, recording_url,
          finalized, model, updated_at)
        VALUES \(tuples(rows, width: callColumns))
        ON CONFLICT (id) DO UPDATE SET direction = excluded.direction, client_number = excluded.client_number,
          client_raw = excluded.client_raw, line_number = excluded.line_number, state = excluded.state,
          result = excluded.result, started_at = excluded.started_at, answered_at = excluded.answered_at,
          ended_at = excluded.ended_at, wait_sec = excluded.wait_sec, talk_sec = excluded.talk_sec,
          first_talker = excluded.first_talker, last_talker = excluded.last_talker,
          recording_url = excluded.recording_url, finalized = excluded.finalized, model = excluded.model,
          updated_at = excluded.updated_at
        """
    }

    // MARK: reading

    public func get(tenantId: String, id: String) async throws -> Call? {
        try await db.read { r in
            guard let row = try await r.one("SELECT model FROM calls WHERE tenant_id = ? AND id = ?", [.text(tenantId), .text(id)]) else {
                return nil
            }
            return try JSON.decode(Call.self, from: row.string("model") ?? "")
        }
    }

    /// The call a provider id belongs to.
    public func find(connectionId: String, externalId: String) async throws -> Call? {
        try await db.read { r in
            guard let row = try await r.one("""
                SELECT c.model FROM call_aliases a JOIN calls c ON c.id = a.call_id
                WHERE a.pbx_connection_id = ? AND a.external_id = ?
                """, [.text(connectionId), .text(externalId)]) else { return nil }
            return try JSON.decode(Call.self, from: row.string("model") ?? "")
        }
    }

    public struct Filter: Sendable {
        public var from: Date?
        public var to: Date?
        public var number: String?
        public var employee: String?
        public var result: CallResult?
        public var connectionId: String?
        public var limit: Int = 100

        public init(from: Date? = nil, to: Date? = nil, number: String? = nil, employee: String? = nil,
                    result: CallResult? = nil, connectionId: String? = nil, limit: Int = 100) {
            self.from = from
            self.to = to
            self.number = number
            self.employee = employee
            self.result = result
            self.connectionId = connectionId
            self.limit = limit
        }
    }

    /// Calls of a tenant, newest first.
    public func list(tenantId: String, filter: Filter = Filter()) async throws -> [Call] {
        var sql = "SELECT model FROM calls WHERE tenant_id = ?"
        var binds: [SQLValue] = [.text(tenantId)]
        if let v = filter.from { sql += " AND started_at >= ?"; binds.append(.of(v)) }
        if let v = filter.to { sql += " AND started_at < ?"; binds.append(.of(v)) }
        if let v = filter.connectionId { sql += " AND pbx_connection_id = ?"; binds.append(.text(v)) }
        if let v = filter.result { sql += " AND result = ?"; binds.append(.text(v.rawValue)) }
        if let v = filter.number?.filter(\.isNumber), !v.isEmpty {
            sql += " AND (client_number LIKE ? OR client_raw LIKE ?)"
            binds += [.text("%\(v)%"), .text("%\(v)%")]
        }
        if let v = filter.employee, !v.isEmpty {
            sql += " AND (first_talker = ? OR last_talker = ? OR model LIKE ?)"
            binds += [.text(v), .text(v), .text("%\"employeeLogin\":\"\(v)\"%")]
        }
        sql += " ORDER BY started_at DESC LIMIT ?"
        binds.append(.int(Int64(filter.limit)))
        let (query, values) = (sql, binds)
        return try await db.read { r in
            try await r.query(query, values).compactMap { try? JSON.decode(Call.self, from: $0.string("model") ?? "") }
        }
    }

    /// The events of a call as they were received, for the journal.
    public func events(tenantId: String, callId: String) async throws -> [(event: CallEvent, raw: String, receivedAt: Date)] {
        try await db.read { r in
            try await r.query("SELECT raw, received_at FROM call_events WHERE tenant_id = ? AND call_id = ? ORDER BY id",
                              [.text(tenantId), .text(callId)]).compactMap { row in
                guard let stored = try? JSON.decode(StoredEvent.self, from: row.string("raw") ?? "") else { return nil }
                return (stored.event, stored.raw, row.date("received_at") ?? Date())
            }
        }
    }

    /// The most recent events of a connection (the PBX page's "test").
    public func recentEvents(tenantId: String, connectionId: String, limit: Int = 20) async throws -> [(event: CallEvent, receivedAt: Date)] {
        try await db.read { r in
            try await r.query("""
                SELECT raw, received_at FROM call_events WHERE tenant_id = ? AND pbx_connection_id = ? ORDER BY id DESC LIMIT ?
                """, [.text(tenantId), .text(connectionId), .int(Int64(limit))]).compactMap { row in
                guard let stored = try? JSON.decode(StoredEvent.self, from: row.string("raw") ?? "") else { return nil }
                return (stored.event, row.date("received_at") ?? Date())
            }
        }
    }

    /// The tenant's virtual numbers seen in calls.
    public func lineNumbers(tenantId: String, connectionId: String) async throws -> [String] {
        try await db.read { r in
            try await r.query("""
                SELECT DISTINCT line_number FROM calls WHERE tenant_id = ? AND pbx_connection_id = ? AND line_number IS NOT NULL
                ORDER BY line_number
                """, [.text(tenantId), .text(connectionId)]).compactMap { $0.string("line_number") }
        }
    }
}
