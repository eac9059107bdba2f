import Foundation
import Testing
import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

/// CORE-17 with text communications: web requests and chats that left a phone number are touches of the deals of the
/// same contact, beside calls, grouped by channel, site and campaign. Numbers worked out by hand below.
@Suite("End-to-end analytics: requests and chats beside calls")
struct TextAnalyticsTests {
    static let p1 = "+79161110001", p2 = "+79161110002", p4 = "+79161110004", p5 = "+79161110005"

    @Test("requests and chats are touches of the same contact's deals, by channel, site and campaign", arguments: Backend.available)
    func textsInAnalytics(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let t = try await TestTenant.make(sb)
            let texts = TextStore(db: sb.db, queue: sb.queue)
            let shop = try await texts.createSite(tenantId: t.id, name: "shop.example", origins: [], requestTypes: [])
            let blog = try await texts.createSite(tenantId: t.id, name: "blog.example", origins: [], requestTypes: [])
            let now = Date()
            // P2 called a minute before writing in the shop's chat.
            _ = try await sb.db.transaction { tx in
                try await sb.calls.ingest(CallEvent(key: "c1", kind: .legRinging, providerType: "INCOMING", externalCallId: "c1",
                                                    occurredAt: now.addingTimeInterval(-60), occurredAtIsProviderTime: true,
                                                    direction: .inbound, clientNumberRaw: Self.p2, lineNumber: "+74951110001",
                                                    employeeLogin: "anna"),
                                          raw: "{}", tenantId: t.id, connectionId: "pbx", region: "RU", in: tx)
            }
            func text(_ site: Site, _ kind: TextKind, phone: String?, email: String? = nil, utm: [String: String] = [:]) async throws {
                let draft = TextCommunication(id: Identifier.make("txt"), tenantId: t.id, siteId: site.id, site: site.name, kind: kind,
                                              phone: phone, email: email, utm: utm, state: kind == .chat ? "open" : "received",
                                              createdAt: now)
                _ = try await texts.receive(draft, event: kind == .chat ? .chatStarted : .requestReceived, handled: [])
            }
            try await text(shop, .request, phone: Self.p1, utm: ["utm_campaign": "autumn", "utm_source": "yandex"])
            try await text(shop, .chat, phone: Self.p2)
            try await text(blog, .request, phone: Self.p4)
            try await text(blog, .request, phone: nil, email: "no-phone@example.com")  // no number: joins no deal
            let created = Date().addingTimeInterval(120)
            let deals: [(String, String, DealStatus, Double)] = [("d1", Self.p1, .won, 1000), ("d2", Self.p2, .won, 500),
                                                                  ("d3", Self.p4, .lost, 200), ("d4", Self.p5, .won, 50)]
            try await sb.deals.upsert(tenantId: t.id, integrationId: "crm", crm: .amocrm, deals.map { id, phone, status, amount in
                DealRecord(id: id, title: id, amount: amount, currency: "RUB", status: status, phones: DealRecord.phoneKeys([phone]),
                           createdAt: created)
            })
            let (from, to) = (now.addingTimeInterval(-3600), now.addingTimeInterval(3600))

            // Touches: d1 ← the shop's request (P1); d2 ← the call (first), the shop's chat (last); d3 ← the blog's
            // request (P4); d4's number never wrote or called.
            let channel = try await sb.dealAnalytics(tenantId: t.id, from: from, to: to, by: .channel, attribution: .first)
            func row(_ r: DealAnalytics.Report, _ key: String) throws -> DealAnalytics.Row { try #require(r.rows.first { $0.key == key }) }
            #expect(try row(channel, "call") == DealAnalytics.Row(key: "call", calls: 1, texts: 0, contacts: 1, firstTouchDeals: 1,
                                                                 lastTouchDeals: 0, wonDeals: 1, revenue: ["RUB": 500], conversion: 1))
            #expect(try row(channel, "request") == DealAnalytics.Row(key: "request", calls: 0, texts: 2, contacts: 2, firstTouchDeals: 2,
                                                                    lastTouchDeals: 2, wonDeals: 1, revenue: ["RUB": 1000], conversion: 0.5))
            #expect(try row(channel, "chat") == DealAnalytics.Row(key: "chat", calls: 0, texts: 1, contacts: 1, firstTouchDeals: 0,
                                                                 lastTouchDeals: 1, wonDeals: 0, revenue: [:], conversion: 0))
            #expect(channel.totals == DealAnalytics.Row(key: "", calls: 1, texts: 3, contacts: 3, firstTouchDeals: 3, lastTouchDeals: 3,
                                                        wonDeals: 2, revenue: ["RUB": 1500], conversion: 2.0 / 3))
            #expect(channel.unattributedDeals == 1)

            let last = try await sb.dealAnalytics(tenantId: t.id, from: from, to: to, by: .channel, attribution: .last)
            #expect(try row(last, "chat").wonDeals == 1 && row(last, "chat").revenue == ["RUB": 500])
            #expect(try row(last, "call").wonDeals == 0)

            let site = try await sb.dealAnalytics(tenantId: t.id, from: from, to: to, by: .site, attribution: .first)
            #expect(try row(site, "shop.example") == DealAnalytics.Row(key: "shop.example", calls: 0, texts: 2, contacts: 2,
                                                                      firstTouchDeals: 1, lastTouchDeals: 2, wonDeals: 1,
                                                                      revenue: ["RUB": 1000], conversion: 0.5))
            #expect(try row(site, "blog.example").firstTouchDeals == 1 && row(site, "blog.example").wonDeals == 0)
            #expect(try row(site, "").calls == 1, "calls come from no site")

            let campaign = try await sb.dealAnalytics(tenantId: t.id, from: from, to: to, by: .campaign, attribution: .first)
            #expect(try row(campaign, "autumn").revenue == ["RUB": 1000])
        }
    }
}
