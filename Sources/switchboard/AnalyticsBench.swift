import ArgumentParser
import Foundation
import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

/// `switchboard bench analytics` (issue 14, item 6): the call dashboard and the end-to-end analytics on a large store.
///
/// Seeds one measured tenant and a few others (so every query's tenant filter matters) with calls spread over a year
/// in time order, as a live store fills, and deals whose contacts' numbers are those callers'; then loads each
/// analytics page N times and prints p50/p95/max per statement and per whole page load (every statement of the page
/// and the work on its rows, as the cabinet and the management API run it; HTML and JSON rendering left out), and each
/// statement's plan.
struct AnalyticsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analytics",
        abstract: "Seed calls and deals, then time the call dashboard and the end-to-end analytics and print their query plans.")

    @Option(help: "Calls in the store, all tenants together.") var calls = 1_000_000
    @Option(help: "Deals in the store, all tenants together.") var deals = 100_000
    @Option(help: "Tenants besides the measured one.") var otherTenants = 4
    @Option(help: "The measured tenant's share of the calls and deals (the other tenants share the rest equally).") var share = 0.6
    @Option(help: "Days of history the calls and deals are spread over, up to now.") var days = 365
    @Option(help: "Timed loads of each page.") var runs = 20
    @Option(help: "Keep the SQLite store in this directory and reuse it on the next run (PostgreSQL keeps its data anyway).")
    var dataDir: String?
    @Flag(help: "Leave out the query plans.") var noPlans = false
    @OptionGroup var storage: BenchStorage

    static let measuredName = "Analytics bench 0"

    func run() async throws {
        guard (0.0...1.0).contains(share), runs > 0, days > 0 else { throw ValidationError("share is 0…1; runs and days are positive") }
        let keep = dataDir
        let (sb, config, _) = try await storage.open { config in
            if let keep { config.dataDir = keep }
        }
        print(storage.describe(sb))
        var tenantId = try await sb.db.read { r in
            try await r.one("SELECT id FROM tenants WHERE name = ?", [.text(Self.measuredName)])?.string("id")
        }
        if let tenantId {
            let n = try await sb.db.read { r in try await r.one("SELECT COUNT(*) AS n FROM calls WHERE tenant_id = ?", [.text(tenantId)]) }
            print("reusing the seeded store: the measured tenant has \(n?.int("n") ?? 0) calls")
        } else {
            tenantId = try await AnalyticsSeed(calls: calls, deals: deals, tenants: otherTenants + 1, share: share, days: days).seed(sb)
        }
        guard let tenantId else { return }
        try await measure(sb, tenantId: tenantId)
        if keep == nil { await storage.cleanUp(sb, config) } else { await sb.shutdown() }
    }

    /// A page as the cabinet and the API load it: its statements, and the whole load.
    struct Page {
        var name: String
        var queries: [AnalyticsQuery]
        var load: @Sendable () async throws -> Void
    }

    func pages(_ sb: Switchboard, tenantId: String) -> [Page] {
        // The cabinet's days are Moscow days; the default period is the last 30 of them, today included.
        let moscow = TimeZone(identifier: "Europe/Moscow")!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = moscow
        let tomorrow = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: Date()))!
        let periods: [(String, Date, Date)] = [
            ("default period (last 30 days)", tomorrow.addingTimeInterval(-30 * 86_400), tomorrow),
            ("30 days, 3 months back", tomorrow.addingTimeInterval(-120 * 86_400), tomorrow.addingTimeInterval(-90 * 86_400)),
        ]
        let offset = moscow.secondsFromGMT(for: Date())
        var out: [Page] = []
        for (label, from, to) in periods {
            let dashboard = CallAnalyticsStore(db: sb.db)
            out.append(Page(name: "call dashboard, \(label)",
                            queries: CallAnalyticsStore.queries(tenantId: tenantId, from: from, to: to, utcOffset: offset).all) {
                _ = try await dashboard.report(tenantId: tenantId, from: from, to: to, utcOffset: offset)
            })
            let analytics = [DealStore.analyticsTouchesQuery(tenantId: tenantId, from: from, to: to),
                             DealStore.analyticsTextTouchesQuery(tenantId: tenantId, from: from, to: to),
                             DealStore.analyticsDealsQuery(tenantId: tenantId, from: from, to: to)]
            for (by, byName) in [(DealAnalytics.Dimension.line, "virtual number"), (.campaign, "campaign (UTM)"), (.employee, "employee")] {
                out.append(Page(name: "end-to-end analytics by \(byName), \(label)", queries: analytics) {
                    _ = try await sb.dealAnalytics(tenantId: tenantId, from: from, to: to, by: by, attribution: .first)
                    // The cabinet names the employees.
                    if by == .employee { _ = try await sb.pbx.employees(tenantId: tenantId) }
                })
            }
            let filter = DealStore.Filter(from: from, to: to, limit: 200)
            out.append(Page(name: "Raw data → Deals, \(label)", queries: [DealStore.listQuery(tenantId: tenantId, filter: filter)]) {
                _ = try await sb.deals.list(tenantId: tenantId, filter: filter)
            })
        }
        return out
    }

    func measure(_ sb: Switchboard, tenantId: String) async throws {
        let pages = pages(sb, tenantId: tenantId)
        let db = sb.db
        // One untimed load of each page first: the timed ones read a warm cache, as a dashboard opened twice does.
        for page in pages { try await page.load() }
        print("\nload before measuring: \(Self.loadAverage())")
        print("\(runs) timed loads of each page (p50 / p95 / max, ms); a statement is timed alone, the page as one load:")
        var seen: Set<String> = []
        for page in pages {
            var perQuery = Array(repeating: [Double](), count: page.queries.count)
            var whole: [Double] = []
            for _ in 0..<runs {
                for (i, q) in page.queries.enumerated() {
                    let start = ContinuousClock.now
                    _ = try await db.read { r in try await q.run(on: r) }
                    perQuery[i].append((ContinuousClock.now - start).milliseconds)
                }
                let start = ContinuousClock.now
                try await page.load()
                whole.append((ContinuousClock.now - start).milliseconds)
            }
            print("\n\(page.name)")
            print("  whole page load                \(Self.percentiles(whole))")
            for (i, q) in page.queries.enumerated() {
                let rows = try await db.read { r in try await q.run(on: r) }.count
                print("  \(q.name.padding(toLength: 30, withPad: " ", startingAt: 0)) \(Self.percentiles(perQuery[i]))  (\(rows) rows)")
            }
            for q in page.queries where !noPlans && seen.insert(q.name + "|" + page.name.split(separator: ",").last!).inserted {
                print("  plan of \(q.name):")
                for line in try await q.plan(on: db, analyze: true) { print("    " + line) }
            }
        }
        print("\nload after measuring: \(Self.loadAverage())")
    }

    static func percentiles(_ samples: [Double]) -> String {
        let s = samples.sorted()
        func at(_ p: Double) -> Double { s[max(0, Int((p * Double(s.count)).rounded(.up)) - 1)] }
        return String(format: "%8.1f / %8.1f / %8.1f", at(0.5), at(0.95), s.last ?? 0)
    }

    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return text.split(separator: " ").prefix(3).joined(separator: " ") + " (1, 5, 15 min; \(ProcessInfo.processInfo.activeProcessorCount) cores)"
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}

/// The benchmark's data: tenants with a PBX connection, employees, a Bitrix24 integration whose call tracking names a
/// campaign per virtual number, calls in time order with the tenants interleaved, deals of the same callers.
struct AnalyticsSeed {
    var calls: Int
    var deals: Int
    var tenants: Int
    var share: Double
    var days: Int

    struct Tenant {
        var id: String
        var connection: String
        var integration: String
        var lines: [String]
        var clients: Int
    }

    /// Random draws for the data's mix.
    struct Random {
        var generator = SystemRandomNumberGenerator()
        mutating func unit() -> Double { Double.random(in: 0..<1, using: &generator) }
        mutating func below(_ n: Int) -> Int { Int.random(in: 0..<max(1, n), using: &generator) }
    }

    static let employees = 20
    static let campaigns = ["yandex-direct", "google-ads", "vk-ads", "seo", "offline"]

    /// Seeds everything; returns the measured tenant's id.
    func seed(_ sb: Switchboard) async throws -> String {
        let start = ContinuousClock.now
        var seeded: [Tenant] = []
        for t in 0..<tenants {
            let tenant = try await sb.tenants.create(name: "Analytics bench \(t)")
            let (connection, _) = try await sb.pbx.create(tenantId: tenant.id, name: "pbx", protocol: DemoPBX.id, apiURL: nil, apiKey: nil)
            for e in 0..<Self.employees {
                _ = try await sb.pbx.upsertEmployee(tenantId: tenant.id, connectionId: connection.id, login: Self.login(e),
                                                    extension_: String(100 + e), name: "Сотрудник \(e + 1)", email: nil, directNumber: nil)
            }
            let lines = (0..<12).map { "7495\(String(format: "%02d", t))0\(String(format: "%04d", $0))" }
            var byLine: [String: JSONValue] = [:]
            for (i, line) in lines.enumerated() where i % 6 != 5 {
                byLine[String(line.suffix(10))] = .object(["utm_campaign": .string(Self.campaigns[i % Self.campaigns.count])])
            }
            let settings: JSONValue = .object(["callTracking": .object(["enabled": .bool(true), "tags": .array([.string("utm_campaign")]),
                                                                        "byLine": .object(byLine)])])
            let integration = try await sb.integrations.create(tenantId: tenant.id, crm: DemoCRMs.analyticsBenchCRM, name: "CRM", credentialId: nil,
                                                               pbxConnectionId: connection.id, active: false, settings: settings)
            let weight = t == 0 ? share : (1 - share) / Double(max(1, tenants - 1))
            seeded.append(Tenant(id: tenant.id, connection: connection.id, integration: integration.id, lines: lines,
                                 clients: max(100, Int(Double(calls) * weight / 4))))
        }
        // A real call model for the `model` column, so rows are the size the journal's are.
        let event = CallEvent(key: "bench-template-end", kind: .callEnded, providerType: DemoPBX.id.rawValue, externalCallId: "bench-template",
                              occurredAt: Date(), direction: .inbound, clientNumberRaw: "79161234567", lineNumber: seeded[0].lines[0],
                              employeeLogin: Self.login(0))
        let callStore = sb.calls, first = seeded[0]
        _ = try await sb.db.transaction { tx in
            try await callStore.ingest(event, raw: "{}", tenantId: first.id, connectionId: first.connection, region: "RU", in: tx)
        }
        let model = try await sb.db.read { r in
            try await r.one("SELECT model FROM calls WHERE tenant_id = ?", [.text(first.id)])?.string("model")
        } ?? "{}"
        try await seedCalls(sb.db, seeded, model: model)
        let callsDone = ContinuousClock.now - start
        try await seedDeals(sb.db, seeded)
        if sb.db.dialect == .postgres {
            // What autovacuum does soon after a bulk load; SQLite's planner works without statistics, as Switchboard runs it.
            _ = try await sb.db.transaction { tx in
                try await tx.execute("ANALYZE calls")
                try await tx.execute("ANALYZE deals")
                try await tx.execute("ANALYZE deal_phones")
            }
        }
        let total = ContinuousClock.now - start
        print(String(format: "seeded %d tenants (the measured one with %.0f%% of the rows), %d calls in %.1f s and %d deals in %.1f s (%d days of history)",
                     tenants, share * 100, calls, callsDone.milliseconds / 1000, deals, (total - callsDone).milliseconds / 1000, days))
        return seeded[0].id
    }

    static func login(_ e: Int) -> String { "emp\(String(format: "%02d", e + 1))" }

    func pickTenant(_ rng: inout Random) -> Int {
        let u = rng.unit()
        return u < share || tenants == 1 ? 0 : 1 + min(tenants - 2, Int((u - share) / (1 - share) * Double(tenants - 1)))
    }

    /// A client of the tenant: a few call often, most once or twice.
    func client(_ t: Tenant, _ rng: inout Random) -> String {
        let u = rng.unit()
        return "+79" + String(format: "%09d", Int(u * u * Double(t.clients)) * 7919 % 1_000_000_000)
    }

    static let callColumns = ["id", "tenant_id", "pbx_connection_id", "direction", "client_number", "client_raw", "line_number", "state",
                              "result", "started_at", "answered_at", "ended_at", "wait_sec", "talk_sec", "first_talker", "last_talker",
                              "recording_url", "finalized", "model", "updated_at"]

    /// `total` rows in transactions of `size`, each batch's rows made by `body` in time order: the i-th row of `total`
    /// falls at that share of the history, up to now.
    func inBatches(_ total: Int, _ size: Int, _ body: (Range<Int>, _ at: (Int) -> Int64) async throws -> Void) async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000), span = Int64(days) * 86_400_000
        for start in stride(from: 0, to: total, by: size) {
            try await body(start..<min(total, start + size)) { now - span + span * Int64($0) / Int64(total) }
        }
    }

    func seedCalls(_ db: any Database, _ tenants: [Tenant], model: String) async throws {
        var rng = Random()
        try await inBatches(calls, 25_000) { batch, at in
            var rows: [[SQLValue]] = []
            rows.reserveCapacity(batch.count)
            for i in batch {
                let t = tenants[pickTenant(&rng)]
                let started = at(i)
                let d = rng.unit()
                let direction = d < 0.65 ? "inbound" : d < 0.95 ? "outbound" : "internal"
                let r = rng.unit()
                let result: String
                switch direction {
                case "inbound": result = r < 0.75 ? "answered" : r < 0.87 ? "missed" : r < 0.92 ? "no_answer" : r < 0.95 ? "busy" : "cancelled"
                case "outbound": result = r < 0.6 ? "answered" : r < 0.85 ? "no_answer" : r < 0.95 ? "busy" : "failed"
                default: result = "answered"
                }
                let answered = result == "answered"
                let wait = Int64(3 + rng.below(40)), talk = Int64(10 + rng.below(600))
                let employee = Self.login(rng.below(Self.employees))
                let client = direction == "internal" ? nil : client(t, &rng)
                let line = direction == "internal" ? nil : t.lines[rng.below(t.lines.count)]
                rows.append([
                    .text(Identifier.make("call")), .text(t.id), .text(t.connection), .text(direction), .of(client),
                    .of(client.map { String($0.dropFirst()) }), .of(line), .text("finalized"), .text(result), .int(started),
                    answered ? .int(started + wait * 1000) : .null, .int(started + (answered ? wait + talk : wait) * 1000),
                    direction == "inbound" || answered ? .int(wait) : .null, answered ? .int(talk) : .null,
                    answered ? .text(employee) : .null, answered ? .text(employee) : .null,
                    answered ? .text("https://records.example/\(i).mp3") : .null, .int(1), .text(model), .int(started + (wait + talk) * 1000),
                ])
            }
            try await Self.insert(db, table: "calls", columns: Self.callColumns, rows)
        }
    }

    static let dealColumns = ["tenant_id", "integration_id", "crm", "deal_id", "title", "title_search", "amount_minor", "currency",
                              "pipeline_id", "pipeline_name", "stage_id", "stage_name", "status", "responsible_id", "responsible_name",
                              "contact_ids", "phones", "products", "store", "created_at", "closed_at", "updated_at", "imported_at", "raw"]

    func seedDeals(_ db: any Database, _ tenants: [Tenant]) async throws {
        var rng = Random()
        try await inBatches(deals, 20_000) { batch, at in
            var rows: [[SQLValue]] = [], phones: [[SQLValue]] = []
            for i in batch {
                let t = tenants[pickTenant(&rng)]
                let created = at(i) + Int64(rng.below(3_600_000))
                var numbers = [String(client(t, &rng).suffix(10))]
                if rng.unit() < 0.2 { numbers.append(String(client(t, &rng).suffix(10))) }
                numbers = Array(Set(numbers)).sorted()
                let s = rng.unit()
                let status = s < 0.5 ? "open" : s < 0.8 ? "won" : "lost"
                let amount = Int64(1000 + rng.below(300_000)) * 100
                let id = String(100_000 + i)
                let title = "Сделка #\(id)"
                rows.append([
                    .text(t.id), .text(t.integration), .text(DemoCRMs.analyticsBenchCRM.rawValue), .text(id), .text(title), .text(title.lowercased()), .int(amount),
                    .text("RUB"), .text("0"), .text("Продажи"), .text(status == "open" ? "NEW" : status == "won" ? "WON" : "LOSE"),
                    .text(status == "open" ? "Новая" : status == "won" ? "Успешна" : "Провалена"), .text(status),
                    .text(String(1 + rng.below(Self.employees))), .text("Сотрудник"), .text("[\"\(i)\"]"),
                    .text(JSON.string(numbers)), .text("[]"), .null, .int(created), status == "open" ? .null : .int(created + 86_400_000),
                    .int(created), .int(created), .text("{\"ID\":\"\(id)\"}"),
                ])
                for phone in numbers { phones.append([.text(t.id), .text(t.integration), .text(id), .text(phone)]) }
            }
            try await Self.insert(db, table: "deals", columns: Self.dealColumns, rows)
            try await Self.insert(db, table: "deal_phones", columns: ["tenant_id", "integration_id", "deal_id", "phone"], phones)
        }
    }

    /// Multi-row INSERTs in one transaction, a few thousand values per statement (SQLite takes up to 32766).
    static func insert(_ db: any Database, table: String, columns: [String], _ rows: [[SQLValue]]) async throws {
        let perStatement = max(1, 8000 / columns.count)
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        let head = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        _ = try await db.transaction { tx in
            var i = 0
            while i < rows.count {
                let chunk = rows[i..<min(rows.count, i + perStatement)]
                try await tx.execute(head + Array(repeating: row, count: chunk.count).joined(separator: ", "), chunk.flatMap { $0 })
                i += chunk.count
            }
        }
    }
}
