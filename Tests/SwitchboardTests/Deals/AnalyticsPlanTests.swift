import Foundation
import Testing
import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

/// The analytics pages' statements read one tenant's period through indexes, never a whole table (issue 14, item 6;
/// `switchboard bench analytics` times them on a million calls). Plans, not times: SQLite's EXPLAIN QUERY PLAN, and
/// PostgreSQL's EXPLAIN with sequential scans, hash and merge joins priced out (on a test's small tables the planner
/// rightly prefers them), so the plan shows the index path the statement has.
@Suite("Analytics query plans use the indexes")
struct AnalyticsPlanTests {
    static let from = Date(timeIntervalSince1970: 1_764_000_000), to = from.addingTimeInterval(30 * 86_400)

    static var queries: [AnalyticsQuery] {
        CallAnalyticsStore.queries(tenantId: "t1", from: from, to: to, utcOffset: 3 * 3600).all + [
            DealStore.analyticsTouchesQuery(tenantId: "t1", from: from, to: to),
            DealStore.analyticsTextTouchesQuery(tenantId: "t1", from: from, to: to),
            DealStore.analyticsDealsQuery(tenantId: "t1", from: from, to: to),
            DealStore.listQuery(tenantId: "t1", filter: DealStore.Filter(from: from, to: to, limit: 200)),
        ]
    }

    static func plan(_ q: AnalyticsQuery, _ sb: Switchboard) async throws -> String {
        try await q.plan(on: sb.db, indexPathsOnly: true).joined(separator: "\n")
    }

    /// Two tenants' calls over most of a year (many clients, each calling a few times) and deals, with the planner's
    /// statistics, so PostgreSQL chooses between the indexes as it does on a real store, not by an empty table's guesses.
    static func seed(_ sb: Switchboard) async throws {
        let start: Int64 = 1_745_000_000_000
        var calls: [[SQLValue]] = [], deals: [[SQLValue]] = []
        for i in 0..<4000 {
            let answered = i % 4 != 0
            let tenant: SQLValue = .text(i % 3 == 0 ? "t2" : "t1")
            let direction: SQLValue = .text(i % 20 == 0 ? "internal" : i % 3 == 1 ? "outbound" : "inbound")
            let client: SQLValue = .text("+7916\(1_000_000 + (i * 7919) % 1500)")
            let result: SQLValue = .text(answered ? "answered" : "missed")
            let talker: SQLValue = answered ? .text("emp01") : .null
            let started: SQLValue = .int(start + Int64(i) * 6_000_000)
            calls.append([.text("call\(i)"), tenant, .text("pbx"), direction, client, .text("74950000000"), .text("finalized"), result,
                          started, .int(10), talker, .text("{}"), .int(start)])
        }
        for i in 0..<600 {
            let tenant: SQLValue = .text(i % 3 == 0 ? "t2" : "t1")
            let phones: SQLValue = .text("[\"916\(1_000_000 + (i * 7919) % 1500)\"]")
            deals.append([tenant, .text("int"), .text("bitrix24"), .text("d\(i)"), .text(i % 3 == 0 ? "won" : "open"),
                          .int(start + Int64(i) * 40_000_000), phones, .int(start), .text("{}")])
        }
        let (callRows, dealRows) = (calls, deals)
        _ = try await sb.db.transaction { tx in
            for chunk in stride(from: 0, to: callRows.count, by: 200) {
                let rows = callRows[chunk..<min(callRows.count, chunk + 200)]
                try await tx.execute("""
                    INSERT INTO calls (id, tenant_id, pbx_connection_id, direction, client_number, line_number, state, result, started_at,
                      wait_sec, first_talker, model, updated_at)
                    VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows.count).joined(separator: ", "))
                    """, rows.flatMap { $0 })
            }
            try await tx.execute("""
                INSERT INTO deals (tenant_id, integration_id, crm, deal_id, status, created_at, phones, imported_at, raw)
                VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: dealRows.count).joined(separator: ", "))
                """, dealRows.flatMap { $0 })
            try await tx.execute("ANALYZE")
        }
    }

    @Test("every statement of the call dashboard, the end-to-end analytics and Raw data → Deals reads by index: the period as a range on (tenant, time), a missed call's call-back as a seek on (tenant, number, time)",
          arguments: Backend.available)
    func plansUseIndexes(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            try await Self.seed(sb)
            for q in Self.queries {
                let plan = try await Self.plan(q, sb)
                switch backend {
                case .sqlite:
                    // Every table is read with SEARCH … USING [COVERING] INDEX; a SCAN line reads a whole table.
                    let scans = plan.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("SCAN ") }
                    #expect(scans.isEmpty, "\(q.name) scans a table:\n\(plan)")
                case .postgres:
                    #expect(!plan.contains("Seq Scan"), "\(q.name) scans a table:\n\(plan)")
                }
                let period = q.name.hasPrefix("deals.list") || q.name == "deals.deals" ? "deals_tenant_created"
                    : q.name == "deals.textTouches" ? "text_events_tenant" : "calls_tenant_started"
                #expect(plan.contains(period), "\(q.name) does not read the period by \(period):\n\(plan)")
            }

            // Not every call of the tenant that day for each missed call: its number's calls after it.
            let missed = try await Self.plan(CallAnalyticsStore.queries(tenantId: "t1", from: Self.from, to: Self.to, utcOffset: 0)
                .missedNotCalledBack, sb)
            switch backend {
            case .sqlite:
                #expect(missed.contains("SEARCH c USING INDEX calls_tenant_client_started (tenant_id=? AND client_number=? AND started_at>? AND started_at<?)"),
                        "\(missed)")
            case .postgres:
                #expect(missed.contains("calls_tenant_client_started"), "\(missed)")
            }
        }
    }
}
