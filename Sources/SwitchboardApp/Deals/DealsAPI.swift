import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// Raw data → Deals (CORE-16) and end-to-end analytics (CORE-17) in the management API.
struct DealsRoutes {
    let tenants: TenantStore
    let deals: DealStore
    let analytics: DealAnalyticsService

    /// A deal as the API lists it.
    struct DealItem: Encodable {
        var integrationId: String
        var crm: CRMKind
        var id: String
        var title: String
        var amount: Double
        var currency: String?
        var pipelineId: String?
        var pipelineName: String?
        var stageId: String?
        var stageName: String?
        var status: DealStatus
        var responsibleId: String?
        var responsibleName: String?
        var contactIds: [String]
        var phones: [String]
        var products: [DealProduct]
        var store: String?
        var createdAt: Date?
        var closedAt: Date?
        var updatedAt: Date?
        var importedAt: Date

        init(_ s: StoredDeal) {
            let d = s.deal
            integrationId = s.integrationId
            crm = s.crm
            id = d.id
            title = d.title
            amount = d.amount
            currency = d.currency
            pipelineId = d.pipelineId
            pipelineName = d.pipelineName
            stageId = d.stageId
            stageName = d.stageName
            status = d.status
            responsibleId = d.responsibleId
            responsibleName = d.responsibleName
            contactIds = d.contactIds
            phones = d.phones
            products = d.products
            store = d.store
            createdAt = d.createdAt
            closedAt = d.closedAt
            updatedAt = d.updatedAt
            importedAt = s.importedAt
        }
    }

    struct DealDetail: Encodable {
        var deal: DealItem
        var history: [DealStageChange]
        var raw: JSONValue
    }

    func register(on router: Router<AppRequestContext>) {
        let v1 = router.managementAPI(tenants)
        v1.get("deals") { req, ctx in
            let t = try ctx.tenant()
            var filter = DealStore.Filter(limit: try req.limit())
            filter.integrationId = try req.query("integrationId")
            if let v = try req.query("status") {
                guard let s = DealStatus(rawValue: v) else { throw APIError(.badRequest, "status is open, won or lost", field: "status") }
                filter.status = s
            }
            filter.from = try Self.time(req, "from")
            filter.to = try Self.time(req, "to")
            filter.query = try req.query("q")
            if let v = try req.query("offset") {
                guard let n = Int(v), n >= 0 else { throw APIError(.badRequest, "offset is a whole number from 0", field: "offset") }
                filter.offset = n
            }
            return jsonResponse(try await deals.list(tenantId: t, filter: filter).map(DealItem.init))
        }
        v1.get("deals/:integration/:id") { req, ctx in
            let t = try ctx.tenant()
            let integration = try ctx.param("integration"), id = try ctx.param("id")
            guard let stored = try await deals.get(tenantId: t, integrationId: integration, dealId: id) else {
                throw APIError(.notFound, "deal not found")
            }
            let history = try await deals.history(tenantId: t, integrationId: integration, dealId: id)
            return jsonResponse(DealDetail(deal: DealItem(stored), history: history, raw: stored.deal.raw))
        }
        v1.get("analytics/deals") { req, ctx in
            let t = try ctx.tenant()
            let by = try Self.choice(req, "by", DealAnalytics.Dimension.line)
            let attribution = try Self.choice(req, "attribution", DealAnalytics.Attribution.first)
            let (from, to) = try Self.period(try Self.time(req, "from"), try Self.time(req, "to"))
            let report = try await analytics.report(tenantId: t, from: from, to: to, by: by, attribution: attribution)
            if try req.query("format") == "csv" { return Self.csv(report, from: from, to: to) }
            return jsonResponse(AnalyticsAnswer(from: from, to: to, report: report))
        }
    }

    struct AnalyticsAnswer: Encodable {
        var from: Date
        var to: Date
        var by: DealAnalytics.Dimension
        var attribution: DealAnalytics.Attribution
        var rows: [DealAnalytics.Row]
        var totals: DealAnalytics.Row
        var unattributedDeals: Int

        init(from: Date, to: Date, report: DealAnalytics.Report) {
            self.from = from
            self.to = to
            by = report.by
            attribution = report.attribution
            rows = report.rows
            totals = report.totals
            unattributedDeals = report.unattributedDeals
        }
    }

    static func time(_ req: Request, _ name: String) throws -> Date? {
        guard let v = try req.query(name) else { return nil }
        guard let d = ISO8601DateFormatter().date(from: v) else { throw APIError(.badRequest, "\(name) is an ISO 8601 time", field: name) }
        return d
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ req: Request, _ name: String, _ fallback: T) throws -> T where T.RawValue == String {
        guard let v = try req.query(name) else { return fallback }
        guard let c = T(rawValue: v) else {
            throw APIError(.badRequest, "\(name) is one of \(T.allCases.map(\.rawValue).joined(separator: ", "))", field: name)
        }
        return c
    }

    /// The period asked for: the last 30 days when neither end is given; at most 366 days.
    static func period(_ from: Date?, _ to: Date?) throws -> (Date, Date) {
        let end = to ?? Date()
        let start = from ?? end.addingTimeInterval(-30 * 86_400)
        guard start < end else { throw APIError(.badRequest, "from must be before to", field: "from") }
        guard end.timeIntervalSince(start) <= 366 * 86_400 else { throw APIError(.badRequest, "the period is at most 366 days", field: "from") }
        return (start, end)
    }

    /// The report as CSV (semicolons, as spreadsheets in Russian locales read them), one row per group and a total.
    static func csv(_ report: DealAnalytics.Report, from: Date, to: Date, names: [String: String] = [:]) -> Response {
        let currencies = Set(report.totals.revenue.keys).sorted()
        func cell(_ s: String) -> String {
            var t = s
            // A cell a spreadsheet would read as a formula is quoted as text.
            if let first = t.first, "=+-@".contains(first) { t = "'" + t }
            return t.contains(where: { ";\"\n\r".contains($0) }) ? "\"" + t.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : t
        }
        func number(_ d: Double) -> String { d == d.rounded() ? String(Int64(d)) : String(format: "%.2f", d) }
        var lines = [(["group", "name", "calls", "texts", "contacts", "first_touch_deals", "last_touch_deals", "won_deals"]
            + currencies.map { "revenue_\($0)" } + ["conversion"]).joined(separator: ";")]
        for r in report.rows + [report.totals] {
            let total = r == report.totals
            let fields = [total ? "total" : cell(r.key), cell(total ? "" : names[r.key] ?? r.key), String(r.calls), String(r.texts), String(r.contacts),
                          String(r.firstTouchDeals), String(r.lastTouchDeals), String(r.wonDeals)]
                + currencies.map { number(r.revenue[$0] ?? 0) } + [String(format: "%.4f", r.conversion)]
            lines.append(fields.joined(separator: ";"))
        }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        let name = "deals-\(report.by.rawValue)-\(day.string(from: from))-\(day.string(from: to)).csv"
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                               .contentDisposition: "attachment; filename=\"\(name)\""],
                        body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\r\n") + "\r\n")))
    }
}

extension Switchboard {
    /// CORE-17 over the tenant's calls, requests, chats and deals in [from, to) (`DealAnalyticsService`).
    public func dealAnalytics(tenantId: String, from: Date, to: Date, by: DealAnalytics.Dimension,
                              attribution: DealAnalytics.Attribution) async throws -> DealAnalytics.Report {
        try await DealAnalyticsService(sb: self).report(tenantId: tenantId, from: from, to: to, by: by, attribution: attribution)
    }
}
