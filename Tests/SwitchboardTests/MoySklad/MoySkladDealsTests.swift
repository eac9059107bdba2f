import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardStorage

/// MS-1: with «МойСклад - передача сделок» on and MoySklad's own login and password, customer orders reach Raw data →
/// Deals: the existing ones by the backfill, new and changed ones by MoySklad's webhooks.
@Suite("MoySklad deals import: customer orders → Raw data → Deals")
struct MoySkladDealsTests {
    /// Switches the deals import on with its own credential set (login and password) and saves the integration.
    static func switchOn(_ w: MSWorld, login: String = "admin@demo", password: String = "demo-password") async throws -> (Integration, CRMCredential) {
        let credential = try await w.sb.credentials.create(tenantId: w.fx.tenant.id, crm: .moysklad, name: "МойСклад - передача сделок",
                                                           baseURL: w.sandboxURL, authKind: .password,
                                                           secret: CRMSecret(login: login, password: password))
        var integration = try #require(try await w.sb.integrations.get(tenantId: w.fx.tenant.id, id: w.integration.id))
        var settings = try JSON.decode(MSSettings.self, from: JSON.string(integration.settings))
        settings.dealsImport = MSSettings.DealsImport(enabled: true, credentialId: credential.id)
        #expect(settings.validate().isEmpty && settings.dealsProblems().isEmpty)
        var missing = settings
        missing.dealsImport.credentialId = nil
        #expect(missing.dealsProblems().map(\.field) == ["dealsImport.credentialId"] && missing.validate().isEmpty)
        integration.settings = try JSON.decode(JSONValue.self, from: JSON.string(settings))
        let saved = try #require(try await w.sb.integrations.update(integration))
        await w.sb.integrationSaved(saved)
        return (saved, credential)
    }

    func deal(_ w: MSWorld, _ id: String) async throws -> StoredDeal? {
        try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id)
    }

    @Test("existing orders are backfilled page by page on switching on; a test order made in MoySklad and moved to a successful status arrives by webhook",
          arguments: Backend.available)
    func importOrders(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            // 101 orders before the switch: two pages of 100.
            let old = try await msSteer(w.sandboxURL, "orders", ["store": "Склад на Тверской", "ownerUid": "boris@demo",
                                                                  "positions": [["product": "Стол письменный", "quantity": 2],
                                                                                ["product": "Доставка", "quantity": 1, "price": 60_000]]])
            let oldId = try #require(old["id"] as? String)
            for _ in 0..<100 { _ = try await msSteer(w.sandboxURL, "orders", ["sum": 100_00]) }
            // Off: saving neither reads orders nor subscribes.
            await w.sb.integrationSaved(w.integration)
            #expect(!w.state.webhooks.contains { $0.entityType == "customerorder" })

            _ = try await Self.switchOn(w)
            try await eventually(timeout: .seconds(120), "the backfill") {
                try await w.sb.deals.list(tenantId: w.fx.tenant.id, filter: .init(limit: 500)).count == 101
            }
            #expect(w.state.requests["GET /api/remap/1.2/entity/customerorder"] == 2)
            let loaded = try #require(try await deal(w, oldId))
            #expect(loaded.crm == .moysklad && loaded.deal.amount == 25_600 && loaded.deal.currency == "RUB")
            #expect(loaded.deal.store == "Склад на Тверской" && loaded.deal.stageName == "Новый" && loaded.deal.status == .open)
            #expect(loaded.deal.phones == [String(MSWorld.olga.suffix(10))] && loaded.deal.contactIds == [MSWorld.olgaId])
            #expect(loaded.deal.responsibleId == MSWorld.BORIS && loaded.deal.responsibleName == "Борис Иванов")
            #expect(loaded.deal.products == [DealProduct(id: MoySkladSandboxSeed.demo.products?[0].id, name: "Стол письменный", quantity: 2, price: 12_500),
                                             DealProduct(id: MoySkladSandboxSeed.demo.products?[1].id, name: "Доставка", quantity: 1, price: 600)])

            // The order webhooks, made once however often the integration is saved.
            await w.sb.integrationSaved(try #require(try await w.sb.integrations.get(tenantId: w.fx.tenant.id, id: w.integration.id)))
            let hooks = w.state.webhooks.filter { $0.entityType == "customerorder" }
            #expect(Set(hooks.map(\.action)) == ["CREATE", "UPDATE"] && hooks.count == 2)
            #expect(hooks.allSatisfy { $0.url.contains("/crm/moysklad-deals/\(w.fx.tenant.id)/\(w.integration.id)/") })

            // «Создайте тестовую сделку в МойСклад».
            let made = try await msSteer(w.sandboxURL, "orders", ["positions": [["product": "Доставка"]], "state": "Подтвержден"])
            let id = try #require(made["id"] as? String)
            #expect((made["deliveries"] as? [[String: Any]])?.first?["attempts"] as? [Int] == [200])
            try await eventually("the test order") { try await deal(w, id) != nil }
            let test = try #require(try await deal(w, id))
            #expect(test.deal.amount == 500 && test.deal.stageName == "Подтвержден")
            let moved = try await msSteer(w.sandboxURL, "orders/update", ["id": id, "state": "Доставлен"])
            #expect((moved["deliveries"] as? [[String: Any]])?.first?["attempts"] as? [Int] == [200])
            try await eventually("the successful order") { try await deal(w, id)?.deal.status == .won }
            #expect(try await w.sb.deals.history(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id).map(\.status) == [.open, .won])
            try await w.settled()
            #expect(try await w.dead().isEmpty)
        }
    }

    @Test("the order webhook's address is per integration: a wrong key is refused, a delivery naming other entities queues nothing",
          arguments: Backend.available)
    func webhookAddress(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            let (integration, _) = try await Self.switchOn(w)
            let ms = try #require(w.sb.connectors[.moysklad]?.context as? MSConnector)
            let url = ms.dealsURL(integration)
            let body = #"{"events":[{"meta":{"type":"counterparty","href":"http://x/entity/counterparty/1"},"action":"UPDATE"}]}"#
            let wrong = try await msPost(String(url.dropLast(4)) + "0000", body)
            #expect(wrong.status == 401)
            let other = try await msPost(url, body)
            #expect(other.status == 200 && other.body.contains("\"orders\":0"))
        }
    }

    @Test("a wrong deals password is refused with MoySklad's reason, and the credentials are marked for reconnecting",
          arguments: Backend.available)
    func wrongPassword(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            let bad = try await w.sb.credentials.create(tenantId: w.fx.tenant.id, crm: .moysklad, name: "Сделки", baseURL: w.sandboxURL,
                                                        authKind: .password, secret: CRMSecret(login: "admin@demo", password: "wrong"))
            let result = try #require(await w.sb.connectors[.moysklad]?.check?(bad))
            #expect(!result.ok && result.message.en.contains("MoySklad refused the login and password"), "\(result.message)")
            #expect(result.message.en.contains("1056"))
            #expect(try await w.sb.credentials.get(tenantId: w.fx.tenant.id, id: bad.id)?.status == "reconnect")
            let good = try await w.sb.credentials.create(tenantId: w.fx.tenant.id, crm: .moysklad, name: "Сделки", baseURL: w.sandboxURL,
                                                         authKind: .password, secret: CRMSecret(login: "admin@demo", password: "demo-password"))
            let fine = try #require(await w.sb.connectors[.moysklad]?.check?(good))
            #expect(fine.ok && fine.message.en.contains("customer orders can be imported"), "\(fine.message)")
        }
    }
}

/// A plain JSON POST to a full address (as MoySklad posts its webhooks).
func msPost(_ url: String, _ body: String) async throws -> (status: Int, body: String) {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    var buffer = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), buffer.readString(length: buffer.readableBytes) ?? "")
}
