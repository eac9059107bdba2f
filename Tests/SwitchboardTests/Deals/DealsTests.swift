import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardStorage

@Suite("Deals: Raw data → Deals and end-to-end analytics")
struct DealsTests {
    static let utc: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    static func at(_ month: Int, _ day: Int, _ hour: Int = 10) -> Date {
        utc.date(from: DateComponents(year: 2025, month: month, day: day, hour: hour))!
    }

    // MARK: storage

    @Test("upsert: a new deal, a stage change kept in the history, an older read ignored; phones for the join",
          arguments: Backend.available)
    func store(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let store = sb.deals
            var deal = DealRecord(id: "17", title: "Поставка", amount: 1234.5, currency: "RUB", pipelineId: "1", pipelineName: "Продажи",
                                  stageId: "NEW", stageName: "Новая", phones: DealRecord.phoneKeys(["+7 (916) 555-12-34", "89165551234"]),
                                  products: [DealProduct(name: "Монтаж", quantity: 2, price: 617.25)], createdAt: Self.at(3, 1),
                                  updatedAt: Self.at(3, 1), raw: .object(["ID": .string("17")]))
            #expect(deal.phones == ["9165551234"])
            #expect(try await store.upsert(tenantId: "t", integrationId: "i", crm: .bitrix24, [deal]) == [.created])
            #expect(try await store.upsert(tenantId: "t", integrationId: "i", crm: .bitrix24, [deal]) == [.updated])
            deal.stageId = "WON"
            deal.stageName = "Сделка успешна"
            deal.status = .won
            deal.updatedAt = Self.at(3, 2)
            #expect(try await store.upsert(tenantId: "t", integrationId: "i", crm: .bitrix24, [deal]) == [.moved])
            var older = deal
            older.stageId = "NEW"
            older.status = .open
            older.updatedAt = Self.at(3, 1)
            #expect(try await store.upsert(tenantId: "t", integrationId: "i", crm: .bitrix24, [older]) == [.stale])

            let got = try #require(try await store.get(tenantId: "t", integrationId: "i", dealId: "17"))
            #expect(got.deal.status == .won && got.deal.amount == 1234.5 && got.deal.products.first?.quantity == 2)
            #expect(got.deal.raw["ID"]?.stringValue == "17")
            #expect(try await store.history(tenantId: "t", integrationId: "i", dealId: "17").map(\.stageId) == ["NEW", "WON"])
            #expect(try await store.get(tenantId: "other", integrationId: "i", dealId: "17") == nil)
            #expect(try await store.list(tenantId: "t", filter: .init(status: .won)).map(\.deal.id) == ["17"])
            #expect(try await store.list(tenantId: "t", filter: .init(status: .open)).isEmpty)
            #expect(try await store.list(tenantId: "t", filter: .init(query: "+7 916 555")).count == 1)
            #expect(try await store.list(tenantId: "t", filter: .init(query: "поставка")).count == 1)
            let joined = try await store.analyticsDeals(tenantId: "t", from: Self.at(3, 1, 0), to: Self.at(4, 1, 0))
            #expect(joined.map(\.phones) == [["9165551234"]])
        }
    }

    // MARK: analytics on a seeded data set

    static let l1 = "+74951110001", l2 = "+74951110002"
    static let a = "+79160000001", b = "+79160000002", c = "+79160000003", d = "+79160000004", e = "+79160000005", f = "+79160000006"

    /// Calls (client, line, the employee who answered or nil, when) and deals, with the numbers worked out by hand in
    /// `analytics` below.
    static func seed(_ sb: Switchboard, tenant: String) async throws {
        let calls: [(String, String, String, String?, Date)] = [
            ("c1", a, l1, "anna", at(3, 2)), ("c2", a, l2, "boris", at(3, 5)), ("c3", b, l2, nil, at(3, 3, 12)),
            ("c4", c, l1, "boris", at(3, 10, 9)), ("c5", d, l1, "anna", at(2, 20)), ("c6", e, l2, "anna", at(3, 20)),
        ]
        for (id, client, line, employee, time) in calls {
            var events = [CallEvent(key: "\(id)-ring", kind: .legRinging, providerType: "INCOMING", externalCallId: id, occurredAt: time,
                                    occurredAtIsProviderTime: true, direction: .inbound, clientNumberRaw: client, lineNumber: line,
                                    employeeLogin: employee ?? "anna")]
            if let employee {
                events.append(CallEvent(key: "\(id)-answer", kind: .legAnswered, providerType: "ACCEPTED", externalCallId: id,
                                        occurredAt: time.addingTimeInterval(5), occurredAtIsProviderTime: true, direction: .inbound,
                                        clientNumberRaw: client, lineNumber: line, employeeLogin: employee))
            }
            for event in events {
                _ = try await sb.db.transaction { tx in
                    try await sb.calls.ingest(event, raw: "{}", tenantId: tenant, connectionId: "pbx", region: "RU", in: tx)
                }
            }
        }
        let deals: [(String, String, DealStatus, Double, String, Date)] = [
            ("d1", a, .won, 1000, "RUB", at(3, 6)), ("d2", b, .lost, 500, "RUB", at(3, 4)), ("d3", c, .won, 700, "RUB", at(3, 9)),
            ("d4", e, .won, 300, "RUB", at(3, 21)), ("d5", a, .open, 200, "RUB", at(3, 3)), ("d6", d, .won, 900, "RUB", at(3, 1, 12)),
            ("d7", a, .won, 5000, "RUB", at(2, 25)), ("d8", f, .won, 100, "USD", at(3, 15)),
        ]
        try await sb.deals.upsert(tenantId: tenant, integrationId: "crm", crm: .amocrm, deals.map { id, phone, status, amount, currency, created in
            DealRecord(id: id, title: id, amount: amount, currency: currency, status: status, phones: DealRecord.phoneKeys([phone]),
                       createdAt: created)
        })
    }

    @Test("analytics: calls joined to the deals of the same contact, numbers worked out by hand", arguments: Backend.available)
    func analytics(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let t = try await TestTenant.make(sb)
            try await Self.seed(sb, tenant: t.id)
            // Bitrix24's call tracking names the campaign of the first line only.
            var settings = B24Settings()
            settings.callTracking.byLine = [Self.l1: ["utm_source": "yandex", "utm_campaign": "spring"]]
            _ = try await sb.integrations.create(tenantId: t.id, crm: .bitrix24, name: "B24", credentialId: nil, pbxConnectionId: nil,
                                                 active: false, settings: try JSON.decode(JSONValue.self, from: JSON.string(settings)))
            let (from, to) = (Self.at(3, 1, 0), Self.at(4, 1, 0))
            // The period holds c1–c4 and c6 (c5 is in February) and d1–d6, d8 (d7 is in February).
            // Touches: d1 ← c1 (L1, anna), c2 (L2, boris); d2 ← c3 (L2, nobody); d3 has none (c4 came after it); d4 ← c6
            // (L2, anna); d5 ← c1 (c2 came after it); d6's only call is outside the period; d8's number never called.
            let line = try await sb.dealAnalytics(tenantId: t.id, from: from, to: to, by: .line, attribution: .first)
            let l1 = try #require(line.rows.first { $0.key == Self.l1 }), l2 = try #require(line.rows.first { $0.key == Self.l2 })
            #expect(line.rows.count == 2)
            #expect(l1 == DealAnalytics.Row(key: Self.l1, calls: 2, contacts: 2, firstTouchDeals: 2, lastTouchDeals: 1, wonDeals: 1,
                                            revenue: ["RUB": 1000], conversion: 0.5))
            #expect(l2 == DealAnalytics.Row(key: Self.l2, calls: 3, contacts: 3, firstTouchDeals: 2, lastTouchDeals: 3, wonDeals: 1,
                                            revenue: ["RUB": 300], conversion: 1.0 / 3))
            #expect(line.totals == DealAnalytics.Row(key: "", calls: 5, contacts: 4, firstTouchDeals: 4, lastTouchDeals: 4, wonDeals: 2,
                                                     revenue: ["RUB": 1300], conversion: 0.5))
            #expect(line.unattributedDeals == 3)
            #expect(line.rows.first?.key == Self.l1)  // most revenue first

            let last = try await sb.dealAnalytics(tenantId: t.id, from: from, to: to, by: .line, attribution: .last)
            let lastL1 = try #require(last.rows.first { $0.key == Self.l1 }), lastL2 = try #require(last.rows.first { $0.key == Self.l2 })
            #expect(lastL2.wonDeals == 2 && lastL2.revenue == ["RUB": 1300] && lastL2.conversion == 2.0 / 3)
            #expect(lastL1.wonDeals == 0 && lastL1.revenue.isEmpty && lastL1.conversion == 0)

            let campaign = try await sb.dealAnalytics(tenantId: t.id, from: from, to: to, by: .campaign, attribution: .first)
            #expect(Set(campaign.rows.map(\.key)) == ["spring", Self.l2])
            #expect(campaign.rows.first { $0.key == "spring" }?.revenue == ["RUB": 1000])

            let employee = try await sb.dealAnalytics(tenantId: t.id, from: from, to: to, by: .employee, attribution: .first)
            let anna = try #require(employee.rows.first { $0.key == "anna" })
            #expect(anna == DealAnalytics.Row(key: "anna", calls: 2, contacts: 2, firstTouchDeals: 3, lastTouchDeals: 2, wonDeals: 2,
                                              revenue: ["RUB": 1300], conversion: 1))
            let boris = try #require(employee.rows.first { $0.key == "boris" }), nobody = try #require(employee.rows.first { $0.key == "" })
            #expect(boris.calls == 2 && boris.firstTouchDeals == 0 && boris.lastTouchDeals == 1)
            #expect(nobody.calls == 1 && nobody.contacts == 1 && nobody.firstTouchDeals == 1)

            // The same numbers through the API, as JSON and as CSV.
            try await sb.buildApplication(workers: false).test(.router) { client in
                let query = "from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z&by=line"
                try await client.execute(uri: "/api/v1/analytics/deals?\(query)", method: .get, headers: t.auth) { res in
                    #expect(res.status == .ok)
                    let rows = res.body.j["rows"]
                    guard case .array(let list)? = rows else { Issue.record("no rows"); return }
                    let first = list.first { $0["key"]?.stringValue == Self.l1 }
                    #expect(first?["firstTouchDeals"]?.stringValue == "2" && first?["revenue"]?["RUB"]?.stringValue == "1000")
                    #expect(res.body.j["totals"]?["wonDeals"]?.stringValue == "2" && res.body.j["unattributedDeals"]?.stringValue == "3")
                }
                try await client.execute(uri: "/api/v1/analytics/deals?\(query)&format=csv", method: .get, headers: t.auth) { res in
                    #expect(res.status == .ok && res.headers[.contentType]?.hasPrefix("text/csv") == true)
                    let lines = res.body.text.split(separator: "\r\n").map(String.init)
                    #expect(lines.first == "group;name;calls;texts;contacts;first_touch_deals;last_touch_deals;won_deals;revenue_RUB;conversion")
                    #expect(lines.contains("'\(Self.l1);'\(Self.l1);2;0;2;2;1;1;1000;0.5000"))
                    #expect(lines.last == "total;;5;0;4;4;4;2;1300;0.5000")
                }
                try await client.execute(uri: "/api/v1/analytics/deals?by=planet", method: .get, headers: t.auth) { #expect($0.status == .badRequest) }
                try await client.execute(uri: "/api/v1/deals?status=won&limit=2", method: .get, headers: t.auth) { res in
                    #expect(res.status == .ok)
                    guard case .array(let list) = res.body.j else { Issue.record("not a list"); return }
                    #expect(list.count == 2 && list.allSatisfy { $0["status"]?.stringValue == "won" })
                }
                try await client.execute(uri: "/api/v1/deals/crm/d1", method: .get, headers: t.auth) { res in
                    #expect(res.status == .ok && res.body.j["history"]?.isArray == true)
                }
            }
        }
    }

    // MARK: end to end, per sandbox

    @Test("amoCRM: existing leads are loaded on connect; a deal made in the sandbox and moved to won reaches Raw data",
          arguments: Backend.available)
    func amocrm(_ backend: Backend) async throws {
        try await AmoWorld.with(backend) { w in
            let old = await w.sandbox.createLeadInInterface(["name": "Старая сделка", "price": 1500, "phone": "+7 916 555-12-34"])
            let oldId = String(try #require(old["id"] as? Int))
            // Saving the integration subscribes to lead changes and loads the existing leads.
            await w.sb.integrationSaved(w.integration)
            try await eventually("the backfill") { try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: oldId) != nil }
            let loaded = try #require(try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: oldId))
            #expect(loaded.deal.phones == ["9165551234"] && loaded.deal.amount == 1500 && loaded.deal.currency == "RUB")
            #expect(loaded.deal.pipelineName == "Воронка" && loaded.deal.stageName == "Первичный контакт" && loaded.deal.status == .open)
            #expect(loaded.deal.responsibleName == "Анна Смирнова")

            // A manager makes a test deal: amoCRM posts the lead webhook, Switchboard reads the lead.
            let made = await w.sandbox.createLeadInInterface(["name": "Тестовая сделка", "price": 25000, "phone": "+79031234567",
                                                              "responsible_user_id": AmoWorld.BORIS])
            #expect(made["webhook_statuses"] as? [Int] == [200])
            let id = String(try #require(made["id"] as? Int))
            try await eventually("the new deal") { try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id) != nil }
            let moved = await w.sandbox.moveLeadInInterface(id: Int(id)!, status: 142, price: 26000)
            #expect(moved["webhook_statuses"] as? [Int] == [200])
            try await eventually("the won deal") {
                try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id)?.deal.status == .won
            }
            let won = try #require(try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id))
            #expect(won.deal.amount == 26000 && won.deal.phones == ["9031234567"] && won.deal.responsibleName == "Борис Иванов")
            #expect(won.deal.stageName == "Успешно реализовано" && won.deal.closedAt != nil)
            #expect(try await w.sb.deals.history(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id).map(\.status) == [.open, .won])
            try await w.settled()
            #expect(try await w.dead().isEmpty)
        }
    }

    @Test("Bitrix24: existing deals are loaded on connect; a deal made in the portal (ONCRMDEALADD) and won (ONCRMDEALUPDATE) reaches Raw data",
          arguments: Backend.available)
    func bitrix24(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            await w.sb.integrationSaved(w.integration)
            // The seed's deal 41 of contact 11 (Olga).
            try await eventually("the backfill") { try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: "41") != nil }
            let seeded = try #require(try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: "41"))
            #expect(seeded.deal.title == "Поставка" && seeded.deal.phones == ["9165551234"] && seeded.deal.stageName == "Новая")
            #expect(seeded.deal.pipelineName == "Общая" && seeded.deal.status == .open && seeded.deal.currency == "RUB")

            let made = try await w.wire.steer("deal-add", [
                "TITLE": "Тестовая сделка", "OPPORTUNITY": "25000.00", "CURRENCY_ID": "RUB", "ASSIGNED_BY_ID": B24World.BORIS,
                "phone": "+79031234567", "products": [["PRODUCT_NAME": "Монтаж", "PRICE": "25000", "QUANTITY": "1"]],
            ])
            let id = String(try #require(made.json["ID"] as? Int))
            #expect(made.json["handler_statuses"] as? [Int] == [200])
            try await eventually("the new deal") { try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id) != nil }
            _ = try await w.wire.steer("deal-update", ["id": Int(id)!, "fields": ["STAGE_ID": "WON"]])
            try await eventually("the won deal") {
                try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id)?.deal.status == .won
            }
            let won = try #require(try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id))
            #expect(won.deal.amount == 25000 && won.deal.phones == ["9031234567"] && won.deal.stageName == "Сделка успешна")
            #expect(won.deal.products == [DealProduct(name: "Монтаж", quantity: 1, price: 25000)])
            #expect(won.deal.responsibleId == String(B24World.BORIS) && won.deal.responsibleName?.isEmpty == false)
            #expect(try await w.sb.deals.history(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id).map(\.stageId) == ["NEW", "WON"])
            try await w.settled()
            #expect(try await w.dead().isEmpty)
        }
    }
}

extension JSONValue {
    var isArray: Bool { if case .array = self { return true } else { return false } }
}
