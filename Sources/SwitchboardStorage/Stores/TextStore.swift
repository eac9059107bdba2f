import Foundation
import SwitchboardCore

/// A tenant's sites and their text communications (requests and chats). Every change a CRM acts on is stored with
/// the jobs it causes in one transaction: a communication acknowledged to the site is never lost, and never sent twice.
public struct TextStore: Sendable {
    let db: any Database
    /// Where the jobs of changes go; nil for a store that only reads.
    let queue: JobQueue?
    /// Who hears of a chat's changes at once (this instance's live sockets); on PostgreSQL every instance hears too.
    let signals: ChatSignals?

    public init(db: any Database, queue: JobQueue? = nil, signals: ChatSignals? = nil) {
        self.db = db
        self.queue = queue
        self.signals = signals
    }

    // MARK: sites

    public func createSite(tenantId: String, name: String, origins: [String], requestTypes: [String]) async throws -> Site {
        let site = Site(id: Identifier.make("site"), tenantId: tenantId, name: name, key: Hashing.randomToken(prefix: "sk_", bytes: 16),
                        origins: origins, requestTypes: requestTypes, createdAt: Date())
        _ = try await db.transaction { tx in
            try await tx.execute("""
                INSERT INTO sites (id, tenant_id, name, site_key, origins, request_types, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(site.id), .text(tenantId), .text(name), .text(site.key), .text(JSON.string(origins)),
                      .text(JSON.string(requestTypes)), .of(site.createdAt)])
        }
        return site
    }

    public func sites(tenantId: String) async throws -> [Site] {
        try await db.read { r in
            try await r.query("SELECT * FROM sites WHERE tenant_id = ? ORDER BY created_at, id", [.text(tenantId)]).map(Self.site)
        }
    }

    public func site(tenantId: String, id: String) async throws -> Site? {
        try await db.read { r in
            try await r.one("SELECT * FROM sites WHERE tenant_id = ? AND id = ?", [.text(tenantId), .text(id)]).map(Self.site)
        }
    }

    /// The site a public request names by its key.
    public func site(key: String) async throws -> Site? {
        try await db.read { r in try await r.one("SELECT * FROM sites WHERE site_key = ?", [.text(key)]).map(Self.site) }
    }

    public func updateSite(_ site: Site) async throws -> Site? {
        let changed: Bool = try await db.transaction { tx in
            !(try await tx.query("""
                UPDATE sites SET name = ?, origins = ?, request_types = ? WHERE tenant_id = ? AND id = ? RETURNING id
                """, [.text(site.name), .text(JSON.string(site.origins)), .text(JSON.string(site.requestTypes)),
                      .text(site.tenantId), .text(site.id)]).isEmpty)
        }
        return changed ? try await self.site(tenantId: site.tenantId, id: site.id) : nil
    }

    /// Gives the site a new key; the old one is unknown from now on. Nil when the tenant has no such site.
    public func rotateSiteKey(tenantId: String, id: String) async throws -> Site? {
        let key = Hashing.randomToken(prefix: "sk_", bytes: 16)
        let changed: Bool = try await db.transaction { tx in
            !(try await tx.query("UPDATE sites SET site_key = ? WHERE tenant_id = ? AND id = ? RETURNING id",
                                 [.text(key), .text(tenantId), .text(id)]).isEmpty)
        }
        return changed ? try await site(tenantId: tenantId, id: id) : nil
    }

    public func deleteSite(tenantId: String, id: String) async throws -> Bool {
        try await db.transaction { tx in
            !(try await tx.query("DELETE FROM sites WHERE tenant_id = ? AND id = ? RETURNING id", [.text(tenantId), .text(id)]).isEmpty)
        }
    }

    static func site(_ row: SQLRow) -> Site {
        Site(id: row.string("id")!, tenantId: row.string("tenant_id")!, name: row.string("name") ?? "",
             key: row.string("site_key") ?? "", origins: list(row.string("origins")), requestTypes: list(row.string("request_types")),
             createdAt: row.date("created_at") ?? Date())
    }

    static func list(_ text: String?) -> [String] { (try? JSON.decode([String].self, from: text ?? "[]")) ?? [] }

    // MARK: communications

    /// What `receive` did: the stored communication, whether it was new, and how many CRM jobs it caused.
    public struct Received: Sendable {
        public var text: TextCommunication
        public var created: Bool
        public var jobs: Int
    }

    /// Stores a new request (or a chat's start) with the jobs of `event` for every active integration of the tenant
    /// whose text rules want it and whose CRM can act on it (`handled` job kinds), in one transaction. The same
    /// `externalId` from the same site again is the stored communication, and no new job.
    public func receive(_ draft: TextCommunication, event: TextEvent, handled: Set<String>) async throws -> Received {
        try await db.transaction { tx in
            if let externalId = draft.externalId,
               let row = try await tx.one("SELECT * FROM text_events WHERE site_id = ? AND external_id = ?",
                                          [.text(draft.siteId), .text(externalId)]) {
                return Received(text: Self.text(row), created: false, jobs: 0)
            }
            let now = Date()
            var text = draft
            text.createdAt = now
            let inserted = try await tx.query("""
                INSERT INTO text_events (id, tenant_id, site_id, site, kind, external_id, request_type, channel, name, phone, email,
                  message, utm, page, tags, transcript, state, created_at, updated_at, finished_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (site_id, external_id) DO NOTHING RETURNING id
                """, [.text(text.id), .text(text.tenantId), .text(text.siteId), .text(text.site), .text(text.kind.rawValue),
                      .of(text.externalId), .of(text.requestType), .of(text.channel), .of(text.name), .of(text.phone),
                      .of(text.email), .of(text.message), .text(JSON.string(text.utm)), .of(text.page), .text(JSON.string(text.tags)),
                      .text(JSON.string(text.transcript)), .text(text.state), .of(now), .of(now), .of(text.finishedAt)])
            guard !inserted.isEmpty else {
                // The same submission raced in through another request and committed first.
                let row = try await tx.one("SELECT * FROM text_events WHERE site_id = ? AND external_id = ?",
                                           [.text(draft.siteId), .of(draft.externalId)])
                return Received(text: row.map(Self.text) ?? text, created: false, jobs: 0)
            }
            let jobs = try await enqueue(text, event: event, handled: handled, in: tx)
            try await announce(text, in: tx)
            return Received(text: text, created: true, jobs: jobs)
        }
    }

    /// Changes a stored communication (a chat's new message, tag or end) and, for `event`, enqueues the jobs the rules
    /// want, in one transaction. `change` returns false to leave it as it was (then no job is made); nil when unknown.
    public func update(tenantId: String, id: String, event: TextEvent?, handled: Set<String>,
                       _ change: @escaping @Sendable (inout TextCommunication) -> Bool) async throws -> Received? {
        // PostgreSQL: two changes of one chat wait for each other (SQLite writes one transaction at a time anyway).
        let lock = db.dialect == .postgres ? " FOR UPDATE" : ""
        return try await db.transaction { tx in
            guard let row = try await tx.one("SELECT * FROM text_events WHERE tenant_id = ? AND id = ?\(lock)",
                                             [.text(tenantId), .text(id)]) else { return nil }
            var text = Self.text(row)
            guard change(&text) else { return Received(text: text, created: false, jobs: 0) }
            try await tx.execute("""
                UPDATE text_events SET name = ?, phone = ?, email = ?, message = ?, tags = ?, transcript = ?, state = ?,
                  updated_at = ?, finished_at = ? WHERE id = ?
                """, [.of(text.name), .of(text.phone), .of(text.email), .of(text.message), .text(JSON.string(text.tags)),
                      .text(JSON.string(text.transcript)), .text(text.state), .of(Date()), .of(text.finishedAt), .text(text.id)])
            var jobs = 0
            if let event { jobs = try await enqueue(text, event: event, handled: handled, in: tx) }
            try await announce(text, in: tx)
            return Received(text: text, created: false, jobs: jobs)
        }
    }

    // MARK: chats

    /// Adds messages (and the visitor's details, when given) to an open chat; nil when unknown. A finished chat takes
    /// nothing more (`StoreError.conflict`).
    public func addMessages(tenantId: String, id: String, _ messages: [ChatMessage], name: String? = nil, phone: String? = nil,
                            email: String? = nil, handled: Set<String>) async throws -> Received? {
        let finished = LockedFlag()
        let got = try await update(tenantId: tenantId, id: id, event: nil, handled: handled) { t in
            guard t.state != "finished" else { finished.set(); return false }
            t.transcript += messages
            t.name = name ?? t.name
            t.phone = phone ?? t.phone
            t.email = email ?? t.email
            return true
        }
        if finished.value, !messages.isEmpty { throw StoreError.conflict("chat \(id) is finished") }
        return got
    }

    /// Adds the tags a chat does not carry yet (`chat.tagged` for them); nil when unknown.
    public func tag(tenantId: String, id: String, _ tags: [String], handled: Set<String>) async throws -> Received? {
        try await update(tenantId: tenantId, id: id, event: .chatTagged, handled: handled) { t in
            let new = tags.filter { tag in !t.tags.contains { $0.caseInsensitiveCompare(tag) == .orderedSame } }
            guard !new.isEmpty else { return false }
            t.tags += new
            return true
        }
    }

    /// Ends a chat (`chat.finished`: its transcript goes to the CRMs); finishing it again changes nothing.
    public func finish(tenantId: String, id: String, handled: Set<String>) async throws -> Received? {
        try await update(tenantId: tenantId, id: id, event: .chatFinished, handled: handled) { t in
            guard t.state != "finished" else { return false }
            t.state = "finished"
            t.finishedAt = Date()
            return true
        }
    }

    /// A chat's change, for the live sockets once it commits: this instance's at once, the others' through NOTIFY.
    func announce(_ text: TextCommunication, in tx: any SQLExecutor) async throws {
        guard text.kind == .chat else { return }
        if tx.dialect == .postgres {
            let payload = ChatSignals.payload(origin: signals?.origin ?? "-", tenantId: text.tenantId, chatId: text.id)
            try await tx.execute("SELECT pg_notify(?, ?)", [.text(JobQueue.notifyChannel), .text(payload)])
        }
        if let signals {
            let change = ChatSignals.Change(tenantId: text.tenantId, chatId: text.id)
            tx.afterCommit { signals.publish(change) }
        }
    }

    /// The jobs of one event for the tenant's active integrations whose rules want it (see `TextRules.wants`).
    func enqueue(_ text: TextCommunication, event: TextEvent, handled: Set<String>, in tx: any SQLExecutor) async throws -> Int {
        guard let queue else { throw StoreError.invalid("this text store was opened without a job queue") }
        var made = 0
        for row in try await tx.query("SELECT id, crm, credential_id, settings FROM integrations WHERE tenant_id = ? AND active = 1 ORDER BY created_at",
                                      [.text(text.tenantId)]) {
            guard let id = row.string("id"), let crm = row.string("crm") else { continue }
            let kind = TextJobKind.kind(CRMKind(crm), event)
            guard handled.contains(kind),
                  let settings = try? JSON.decode(JSONValue.self, from: row.string("settings") ?? "{}"),
                  let rules = try? TextRules.of(settings: settings),
                  rules.wants(text, siteId: text.siteId, at: event) else { continue }
            // Jobs of one CRM account run in order under its rate limit, beside its calls.
            let spec = JobSpec(tenantId: text.tenantId, partitionKey: "crm:\(row.string("credential_id") ?? id)", kind: kind,
                               payload: JSON.string(TextJobPayload(textId: text.id, integrationId: id, event: event)),
                               callId: text.id, dedupeKey: "\(text.id):\(id):\(event.rawValue)")
            if try await queue.enqueue(spec, in: tx) != nil { made += 1 }
        }
        return made
    }

    public func get(tenantId: String, id: String) async throws -> TextCommunication? {
        try await db.read { r in
            try await r.one("SELECT * FROM text_events WHERE tenant_id = ? AND id = ?", [.text(tenantId), .text(id)]).map(Self.text)
        }
    }

    /// The tenant's communications, newest first.
    public func list(tenantId: String, kind: TextKind? = nil, state: String? = nil, limit: Int = 100) async throws -> [TextCommunication] {
        try await db.read { r in
            var sql = "SELECT * FROM text_events WHERE tenant_id = ?"
            var binds: [SQLValue] = [.text(tenantId)]
            if let kind { sql += " AND kind = ?"; binds.append(.text(kind.rawValue)) }
            if let state { sql += " AND state = ?"; binds.append(.text(state)) }
            sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
            binds.append(.int(Int64(limit)))
            return try await r.query(sql, binds).map(Self.text)
        }
    }

    static func text(_ row: SQLRow) -> TextCommunication {
        TextCommunication(
            id: row.string("id")!, tenantId: row.string("tenant_id")!, siteId: row.string("site_id") ?? "", site: row.string("site") ?? "",
            kind: TextKind(rawValue: row.string("kind") ?? "") ?? .request, externalId: row.string("external_id"),
            requestType: row.string("request_type"), channel: row.string("channel"), name: row.string("name"),
            phone: row.string("phone"), email: row.string("email"), message: row.string("message"),
            utm: (try? JSON.decode([String: String].self, from: row.string("utm") ?? "{}")) ?? [:], page: row.string("page"),
            tags: list(row.string("tags")),
            transcript: (try? JSON.decode([ChatMessage].self, from: row.string("transcript") ?? "[]")) ?? [],
            state: row.string("state") ?? "", createdAt: row.date("created_at") ?? Date(), finishedAt: row.date("finished_at"))
    }
}

/// A flag set inside a transaction's closure and read after it.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set_ = false
    func set() { lock.withLock { set_ = true } }
    var value: Bool { lock.withLock { set_ } }
}
