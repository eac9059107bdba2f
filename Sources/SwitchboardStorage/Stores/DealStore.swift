import Foundation
import SwitchboardCore

/// Raw data → Deals (CORE-16): the CRMs' deals by integration, their contacts' numbers for the analytics join
/// (CORE-17), and each deal's stage history as Switchboard saw it.
public struct DealStore: Sendable {
    let db: any Database

    public init(db: any Database) { self.db = db }

    /// What storing one deal did.
    public enum Outcome: String, Sendable, Equatable {
        /// The deal is new here.
        case created
        /// Its stage or status changed (a history entry was added).
        case moved
        /// Its other fields were written again.
        case updated
        /// The stored deal is newer (the CRM's change time): nothing was written.
        case stale
    }

    /// Stores deals of one integration (a webhook's deals, a backfill's page), in one transaction.
    @discardableResult
    public func upsert(tenantId: String, integrationId: String, crm: CRMKind, _ deals: [DealRecord], at now: Date = Date()) async throws
        -> [Outcome] {
        guard !deals.isEmpty else { return [] }
        return try await db.transaction { tx in
            var out: [Outcome] = []
            for deal in deals { out.append(try await upsert(tenantId: tenantId, integrationId: integrationId, crm: crm, deal, now: now, in: tx)) }
            return out
        }
    }

    func upsert(tenantId: String, integrationId: String, crm: CRMKind, _ d: DealRecord, now: Date, in tx: any SQLExecutor) async throws -> Outcome {
        let lock = tx.dialect == .postgres ? " FOR UPDATE" : ""
        let existing = try await tx.one("SELECT stage_id, status, updated_at FROM deals WHERE integration_id = ? AND deal_id = ?\(lock)",
                                        [.text(integrationId), .text(d.id)])
        if let stored = existing?.int64("updated_at"), let incoming = d.updatedAt,
           Int64((incoming.timeIntervalSince1970 * 1000).rounded()) < stored {
            return .stale
        }
        let values: [SQLValue] = [
            .text(tenantId), .text(integrationId), .text(crm.rawValue), .text(d.id), .text(d.title), .text(d.title.lowercased()),
            .int(Int64((d.amount * 100).rounded())), .of(d.currency), .of(d.pipelineId), .of(d.pipelineName), .of(d.stageId),
            .of(d.stageName), .text(d.status.rawValue), .of(d.responsibleId), .of(d.responsibleName), .text(JSON.string(d.contactIds)),
            .text(JSON.string(d.phones)), .text(JSON.string(d.products)), .of(d.store), .of(d.createdAt ?? now), .of(d.closedAt),
            .of(d.updatedAt), .of(now), .text(JSON.string(d.raw)),
        ]
        try await tx.execute("""
            INSERT INTO deals (tenant_id, integration_id, crm, deal_id, title, title_search, amount_minor, currency, pipeline_id,
              pipeline_name, stage_id, stage_name, status, responsible_id, responsible_name, contact_ids, phones, products, store,
              created_at, closed_at, updated_at, imported_at, raw)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (integration_id, deal_id) DO UPDATE SET title = excluded.title, title_search = excluded.title_search,
              amount_minor = excluded.amount_minor,
              currency = excluded.currency, pipeline_id = excluded.pipeline_id, pipeline_name = excluded.pipeline_name,
              stage_id = excluded.stage_id, stage_name = excluded.stage_name, status = excluded.status,
              responsible_id = excluded.responsible_id, responsible_name = excluded.responsible_name,
              contact_ids = excluded.contact_ids, phones = excluded.phones, products = excluded.products, store = excluded.store,
              created_at = \(d.createdAt == nil ? "deals.created_at" : "excluded.created_at"), closed_at = excluded.closed_at,
              updated_at = excluded.updated_at, imported_at = excluded.imported_at, raw = excluded.raw
            """, values)
        try await tx.execute("DELETE FROM deal_phones WHERE integration_id = ? AND deal_id = ?", [.text(integrationId), .text(d.id)])
        for phone in Set(d.phones).sorted() {
            try await tx.execute("INSERT INTO deal_phones (tenant_id, integration_id, deal_id, phone) VALUES (?, ?, ?, ?)",
                                 [.text(tenantId), .text(integrationId), .text(d.id), .text(phone)])
        }
        let moved = existing == nil || existing?.string("stage_id") != d.stageId || existing?.string("status") != d.status.rawValue
        if moved {
            try await tx.execute("""
                INSERT INTO deal_stage_history (tenant_id, integration_id, deal_id, stage_id, stage_name, status, at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(tenantId), .text(integrationId), .text(d.id), .of(d.stageId), .of(d.stageName), .text(d.status.rawValue),
                      .of(d.updatedAt ?? now)])
        }
        return existing == nil ? .created : moved ? .moved : .updated
    }

    public struct Filter: Sendable {
        public var integrationId: String?
        public var status: DealStatus?
        /// Created at or after.
        public var from: Date?
        /// Created before.
        public var to: Date?
        /// A phone number (any digits of it) or words of the title.
        public var query: String?
        public var limit = 100
        public var offset = 0

        public init(integrationId: String? = nil, status: DealStatus? = nil, from: Date? = nil, to: Date? = nil, query: String? = nil,
                    limit: Int = 100, offset: Int = 0) {
            self.integrationId = integrationId
            self.status = status
            self.from = from
            self.to = to
            self.query = query
            self.limit = limit
            self.offset = offset
        }
    }

    static let columns = """
        tenant_id, integration_id, crm, deal_id, title, amount_minor, currency, pipeline_id, pipeline_name, stage_id, stage_name,
        status, responsible_id, responsible_name, contact_ids, phones, products, store, created_at, closed_at, updated_at, imported_at
        """

    /// A tenant's deals, newest first; `raw` is left out (`get` has it).
    public func list(tenantId: String, filter: Filter = Filter()) async throws -> [StoredDeal] {
        let query = Self.listQuery(tenantId: tenantId, filter: filter)
        return try await db.read { r in try await query.run(on: r).map { Self.deal($0, raw: .null) } }
    }

    /// The statement `list` runs.
    public static func listQuery(tenantId: String, filter: Filter = Filter()) -> AnalyticsQuery {
        var sql = "SELECT \(Self.columns) FROM deals WHERE tenant_id = ?"
        var binds: [SQLValue] = [.text(tenantId)]
        if let v = filter.integrationId { sql += " AND integration_id = ?"; binds.append(.text(v)) }
        if let v = filter.status { sql += " AND status = ?"; binds.append(.text(v.rawValue)) }
        if let v = filter.from { sql += " AND created_at >= ?"; binds.append(.of(v)) }
        if let v = filter.to { sql += " AND created_at < ?"; binds.append(.of(v)) }
        if let q = filter.query?.trimmingCharacters(in: .whitespaces), !q.isEmpty {
            var digits = q.filter(\.isNumber)
            if digits.count >= 3, digits.count == q.filter({ !" +()-".contains($0) }).count {
                // A number typed with its country code or trunk prefix (+7, 8) is searched without it: phones keep 10 digits.
                if q.hasPrefix("+7") || (digits.count == 11 && (digits.hasPrefix("7") || digits.hasPrefix("8"))) { digits.removeFirst() }
                sql += " AND phones LIKE ?"
                binds.append(.text("%\(digits.suffix(10))%"))
            } else {
                sql += " AND title_search LIKE ?"
                binds.append(.text("%\(q.lowercased())%"))
            }
        }
        sql += " ORDER BY created_at DESC, deal_id DESC LIMIT ? OFFSET ?"
        binds += [.int(Int64(max(1, filter.limit))), .int(Int64(max(0, filter.offset)))]
        return AnalyticsQuery(name: "deals.list", sql: sql, binds: binds)
    }

    /// One deal with the CRM's answer it was read from.
    public func get(tenantId: String, integrationId: String, dealId: String) async throws -> StoredDeal? {
        try await db.read { r in
            guard let row = try await r.one("SELECT \(Self.columns), raw FROM deals WHERE tenant_id = ? AND integration_id = ? AND deal_id = ?",
                                            [.text(tenantId), .text(integrationId), .text(dealId)]) else { return nil }
            return Self.deal(row, raw: (try? JSON.decode(JSONValue.self, from: row.string("raw") ?? "null")) ?? .null)
        }
    }

    /// A deal's stages in the order Switchboard saw them.
    public func history(tenantId: String, integrationId: String, dealId: String) async throws -> [DealStageChange] {
        try await db.read { r in
            try await r.query("""
                SELECT stage_id, stage_name, status, at FROM deal_stage_history
                WHERE integration_id = ? AND deal_id = ? AND tenant_id = ? ORDER BY id
                """, [.text(integrationId), .text(dealId), .text(tenantId)]).map {
                DealStageChange(stageId: $0.string("stage_id"), stageName: $0.string("stage_name"),
                                status: DealStatus(rawValue: $0.string("status") ?? "") ?? .open, at: $0.date("at") ?? Date())
            }
        }
    }

    static func deal(_ row: SQLRow, raw: JSONValue) -> StoredDeal {
        func list<T: Decodable>(_ name: String, _ type: T.Type) -> T? { try? JSON.decode(T.self, from: row.string(name) ?? "") }
        let record = DealRecord(
            id: row.string("deal_id") ?? "", title: row.string("title") ?? "", amount: Double(row.int64("amount_minor") ?? 0) / 100,
            currency: row.string("currency"), pipelineId: row.string("pipeline_id"), pipelineName: row.string("pipeline_name"),
            stageId: row.string("stage_id"), stageName: row.string("stage_name"),
            status: DealStatus(rawValue: row.string("status") ?? "") ?? .open, responsibleId: row.string("responsible_id"),
            responsibleName: row.string("responsible_name"), contactIds: list("contact_ids", [String].self) ?? [],
            phones: list("phones", [String].self) ?? [], products: list("products", [DealProduct].self) ?? [],
            store: row.string("store"), createdAt: row.date("created_at"), closedAt: row.date("closed_at"),
            updatedAt: row.date("updated_at"), raw: raw)
        return StoredDeal(tenantId: row.string("tenant_id") ?? "", integrationId: row.string("integration_id") ?? "",
                          crm: CRMKind(row.string("crm") ?? ""), deal: record, importedAt: row.date("imported_at") ?? Date())
    }

    // MARK: CORE-17

    /// The statement `analyticsDeals` runs: the period's deals with their numbers as stored on the deal (the same set
    /// `deal_phones` holds, written in the same transaction), so the tenant's period is all it reads; a join to
    /// `deal_phones` made PostgreSQL hash every tenant's numbers on each load (switchboard bench analytics).
    public static func analyticsDealsQuery(tenantId: String, from: Date, to: Date) -> AnalyticsQuery {
        AnalyticsQuery(name: "deals.deals", sql: """
            SELECT integration_id, deal_id, status, amount_minor, currency, created_at, phones
            FROM deals WHERE tenant_id = ? AND created_at >= ? AND created_at < ?
            ORDER BY integration_id, deal_id
            """, binds: [.text(tenantId), .of(from), .of(to)])
    }

    /// The deals created in [from, to) with their contacts' numbers, as the analytics joins them.
    public func analyticsDeals(tenantId: String, from: Date, to: Date) async throws -> [DealAnalytics.Deal] {
        let query = Self.analyticsDealsQuery(tenantId: tenantId, from: from, to: to)
        return try await db.read { r in
            try await query.run(on: r).map { row in
                let phones = (try? JSON.decode([String].self, from: row.string("phones") ?? "[]")) ?? []
                return DealAnalytics.Deal(id: "\(row.string("integration_id") ?? "")/\(row.string("deal_id") ?? "")",
                                          phones: Set(phones).sorted(), status: DealStatus(rawValue: row.string("status") ?? "") ?? .open,
                                          amount: Double(row.int64("amount_minor") ?? 0) / 100,
                                          currency: row.string("currency") ?? "RUB", createdAt: row.date("created_at") ?? from)
            }
        }
    }

    /// The statement `analyticsTouches` runs.
    public static func analyticsTouchesQuery(tenantId: String, from: Date, to: Date) -> AnalyticsQuery {
        AnalyticsQuery(name: "deals.touches", sql: """
            SELECT id, client_number, client_raw, line_number, first_talker, started_at FROM calls
            WHERE tenant_id = ? AND started_at >= ? AND started_at < ? AND direction <> 'internal'
            """, binds: [.text(tenantId), .of(from), .of(to)])
    }

    /// The statement `analyticsTextTouches` runs: the period's requests and chats that left a phone number.
    public static func analyticsTextTouchesQuery(tenantId: String, from: Date, to: Date) -> AnalyticsQuery {
        AnalyticsQuery(name: "deals.textTouches", sql: """
            SELECT id, kind, site, phone, utm, created_at FROM text_events
            WHERE tenant_id = ? AND created_at >= ? AND created_at < ? AND phone IS NOT NULL AND phone <> ''
            """, binds: [.text(tenantId), .of(from), .of(to)])
    }

    /// The tenant's web requests and chats with a phone number that came in [from, to), as touches: their site, and
    /// their `utm_campaign` as the campaign.
    public func analyticsTextTouches(tenantId: String, from: Date, to: Date) async throws -> [DealAnalytics.Touch] {
        let query = Self.analyticsTextTouchesQuery(tenantId: tenantId, from: from, to: to)
        return try await db.read { r in
            try await query.run(on: r).compactMap { row in
                guard let phone = PhoneNumber.parse(row.string("phone") ?? "", region: "RU").last10 else { return nil }
                let utm = (try? JSON.decode([String: String].self, from: row.string("utm") ?? "{}")) ?? [:]
                return DealAnalytics.Touch(callId: row.string("id") ?? "", phone: phone, line: nil,
                                           campaign: utm["utm_campaign"].flatMap { $0.isEmpty ? nil : $0 }, employee: nil,
                                           startedAt: row.date("created_at") ?? from,
                                           channel: row.string("kind") == "chat" ? .chat : .request, site: row.string("site"))
            }
        }
    }

    /// The tenant's calls with a client number that started in [from, to) (internal calls left out), as touches;
    /// the campaign is the caller's to fill.
    public func analyticsTouches(tenantId: String, from: Date, to: Date) async throws -> [DealAnalytics.Touch] {
        let query = Self.analyticsTouchesQuery(tenantId: tenantId, from: from, to: to)
        return try await db.read { r in
            try await query.run(on: r).compactMap { row in
                guard let phone = PhoneNumber(e164: row.string("client_number"), raw: row.string("client_raw") ?? "").last10 else { return nil }
                return DealAnalytics.Touch(callId: row.string("id") ?? "", phone: phone, line: row.string("line_number"),
                                           employee: row.string("first_talker"), startedAt: row.date("started_at") ?? from)
            }
        }
    }
}
