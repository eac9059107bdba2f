import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardSimulator
import SwitchboardStorage

@Suite("Megaplan texts and deals: site → Switchboard → sandbox (MP-10), sandbox deals → Raw data (MP-11)")
struct MegaplanTextsDealsTests {
    /// Requests: a client with the site in an extra field, a todo for callbacks (the default responsible), a process in
    /// "Продажи" for orders (the client's responsible). Chats: the todo when the chat starts, the client and a process in
    /// "Сервис" when it finishes, with the transcript.
    static let texts = """
        {"requests":{"enabled":true,"defaultResponsible":"\(MegaplanWorld.VERA)","createTask":true,"createDeal":true,
                     "extraFields":{"site":"Category1000047CustomFieldSait","utm_source":"Category1000047CustomFieldUtmMetka"},
                     "todo":{"types":["callback"]},"process":{"types":["order"],"responsible":"client","programId":8}},
         "chats":{"enabled":true,"defaultResponsible":"\(MegaplanWorld.ANNA)","trigger":"finished","alsoAt":["started"],
                  "createContact":true,"createTask":true,"createDeal":true,
                  "todo":{"event":"started"},"process":{"programId":"9"}}}
        """

    static func comments(_ st: MegaplanSandboxSnapshot, on type: String, _ id: String?) -> [MegaplanJSON] {
        st.list("Comment").filter { $0["subject"]?["contentType"]?.string == type && $0["subject"]?["id"]?.string == id }
    }

    @Test("request: a new sender's callback makes a client with the site in its extra field, the request as a comment, a todo for the default responsible; a known client's order makes a process for their responsible; a replay makes nothing more",
          arguments: Backend.available)
    func requests(_ backend: Backend) async throws {
        try await MegaplanWorld.with(backend) { w in
            let visitor = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: Self.texts)
            let reply = try await visitor.sendRequest(name: "Ирина", phone: "+7 903 555-44-33", email: "irina@mail.example", type: "callback",
                                                      message: "Перезвоните после обеда", utm: ["utm_source": "yandex"], requestId: "form-1")
            #expect(reply.status == 201, "\(reply.body)")
            #expect(try await visitor.sendRequest(name: "Ольга", phone: MegaplanWorld.olga, type: "order", message: "Счёт на 10 шт.").status == 201)
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let st = w.state
            let irina = try #require(w.clients("79035554433").first)
            #expect(w.clients("79035554433").count == 1)
            #expect(irina["firstName"]?.string == "Ирина" && irina["responsibles"]?.array?.first?["id"]?.string == MegaplanWorld.VERA)
            #expect(irina["Category1000047CustomFieldSait"]?.string == "Shop" && irina["Category1000047CustomFieldUtmMetka"]?.string == "yandex")
            let emails = (irina["contactInfo"]?.array ?? []).filter { $0["type"]?.string == "email" }.compactMap { $0["value"]?.string }
            #expect(emails == ["irina@mail.example"])
            let notes = Self.comments(st, on: "ContractorHuman", irina["id"]?.string)
            let note = try #require(notes.first)
            #expect(note["content"]?.string?.contains("Перезвоните после обеда") == true)
            let irinaTodos = st.list("Todo").filter { t in (t["relations"]?.array ?? []).contains { r in r["id"] == irina["id"] } }
            let todo = try #require(irinaTodos.first)
            #expect(todo["name"]?.string == "Обработать заявку с сайта Shop" && todo["responsible"]?["id"]?.string == MegaplanWorld.VERA)
            #expect(todo["category"]?["masterType"] == "todo")
            let irinaDeals = st.list("Deal").filter { d in d["contractor"]?["id"] == irina["id"] }
            #expect(irinaDeals.isEmpty)  // callbacks make no process

            // Ольга is known by her phone: no second client; her order is a process for her responsible (Борис), no todo.
            #expect(w.clients(MegaplanWorld.olga).count == 1)
            let olgaDeals = st.list("Deal").filter { d in d["contractor"]?["id"]?.string == MegaplanWorld.OLGA }
            let process = try #require(olgaDeals.first)
            #expect(process["program"]?["id"]?.string == "8" && process["manager"]?["id"]?.string == MegaplanWorld.BORIS)
            #expect(process["name"]?.string == "Заявка с сайта Shop: order" && process["description"]?.string?.contains("Счёт на 10 шт.") == true)
            let olgaTodos = st.list("Todo").filter { t in (t["relations"]?.array ?? []).contains { r in r["id"]?.string == MegaplanWorld.OLGA } }
            #expect(olgaTodos.isEmpty)

            // What it cost: a token; Ирина looked up by phone, then by e-mail, made, the request on her card, the todo
            // category and the todo; Ольга found by phone, the request on her card, the process.
            #expect(w.requests("GET /api/v3/contractor") == 3 && w.requests("POST /api/v3/contractorHuman") == 4)
            #expect(w.state.requests.values.reduce(0, +) == 10, "\(w.state.requests)")

            // The same form again is the same request; replayed jobs find everything made.
            #expect(try await visitor.sendRequest(name: "Ирина", phone: "+7 903 555-44-33", requestId: "form-1").status == 200)
            try await replayTextJobs(w.sb, tenant: w.fx.tenant.id)
            try await w.settled()
            let after = w.state
            for type in ["ContractorHuman", "Todo", "Deal", "Comment"] { #expect(after.list(type).count == st.list(type).count, "\(type)") }
        }
    }

    @Test("chat: the todo when it starts (no client yet), the client and a process in the chosen scheme when it finishes, the transcript on both; a replay makes nothing more",
          arguments: Backend.available)
    func chat(_ backend: Backend) async throws {
        try await MegaplanWorld.with(backend) { w in
            let visitor = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: Self.texts)
            let replies = try await visitor.playChat(name: "Пётр", phone: "+79037770011", lines: [
                ("visitor", "Есть доставка в Тверь?"), ("operator", "Да, за два дня."),
            ])
            #expect(replies.map(\.status) == [201, 200, 200])
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let st = w.state
            let chatTodos = st.list("Todo").filter { t in t["name"]?.string == "Обработать чат с сайта Shop" }
            let todo = try #require(chatTodos.first)
            #expect(todo["responsible"]?["id"]?.string == MegaplanWorld.ANNA && (todo["relations"]?.array ?? []).isEmpty)
            let petr = try #require(w.clients("79037770011").first)
            #expect(petr["responsibles"]?.array?.first?["id"]?.string == MegaplanWorld.ANNA)
            let petrDeals = st.list("Deal").filter { d in d["contractor"]?["id"] == petr["id"] }
            let process = try #require(petrDeals.first)
            #expect(process["program"]?["id"]?.string == "9" && process["manager"]?["id"]?.string == MegaplanWorld.ANNA)
            let clientComments = Self.comments(st, on: "ContractorHuman", petr["id"]?.string).compactMap { c in c["content"]?.string }
            let onClient = try #require(clientComments.first)
            #expect(onClient.hasPrefix("Переписка в чате с сайта Shop") && onClient.contains("Пётр: Есть доставка в Тверь?")
                && onClient.contains("Анна: Да, за два дня."))
            let processComments = Self.comments(st, on: "Deal", process["id"]?.string).compactMap { c in c["content"]?.string }
            #expect(processComments == [onClient])

            // The category and the todo; the search, the client, the process and the transcript twice; and the token. A job
            // reads the chat as it is when it runs: the start's job may already see the phone, and look the visitor up too.
            let searches = w.requests("GET /api/v3/contractor")
            #expect(w.requests("POST /api/v3/todo") == 1 && w.requests("POST /api/v3/deal") == 2 && (1...2).contains(searches))
            #expect(w.state.requests.values.reduce(0, +) == 7 + searches, "\(w.state.requests)")

            try await replayTextJobs(w.sb, tenant: w.fx.tenant.id)
            try await w.settled()
            let after = w.state
            for type in ["ContractorHuman", "Todo", "Deal", "Comment"] { #expect(after.list(type).count == st.list(type).count, "\(type)") }
        }
    }

    @Test("settings: Megaplan's part of the texts block is checked with readable problems (scheme, responsible, fields, a moment Switchboard is not told about)")
    func problems() async throws {
        try await withSwitchboard(.sqlite) { sb in
            let connector = try #require(sb.connectors[.megaplan])
            let texts = """
                {"texts":{"requests":{"enabled":true,"defaultResponsible":"1000003","createDeal":true,"todo":{"responsible":"anna"},"createTask":true,
                                      "extraFields":{"colour":"Category1CustomFieldX"}},
                          "chats":{"enabled":true,"defaultResponsible":"1000001","trigger":"finished","createTask":true,"todo":{"event":"tagged"},
                                   "createDeal":true,"process":{"programId":"8"}}}}
                """
            let problems = connector.settingsProblems(try JSON.decode(JSONValue.self, from: texts))
            #expect(Set(problems.map(\.field)) == ["texts.requests.process.programId", "texts.requests.todo.responsible",
                                                    "texts.requests.extraFields", "texts.chats.todo.event"])
            #expect(problems.first { $0.field == "texts.chats.todo.event" }?.message.contains("alsoAt") == true)
            #expect(connector.settingsProblems(try JSON.decode(JSONValue.self, from: Self.texts.isEmpty ? "{}" : "{\"texts\":\(Self.texts)}")).isEmpty)
            #expect(connector.texts?.workspace?.instructions.contains("iframe") == true)
        }
    }

    @Test("deals backfill: every deal of the account, page by page (100 a page, pageAfter the last)", arguments: Backend.available)
    func backfillPages(_ backend: Backend) async throws {
        try await MegaplanWorld.with(backend) { w in
            let wire = MegaplanWire(base: w.sandboxURL)
            for i in 1...101 { _ = try await wire.steer("deal", ["name": .string("Сделка \(i)"), "price": .int(i), "programId": i % 2 == 0 ? "8" : "9"]) }
            await w.sb.integrationSaved(w.integration)
            try await eventually("the backfill") {
                try await w.sb.deals.list(tenantId: w.fx.tenant.id, filter: .init(limit: 200)).count == 101
            }
            #expect(w.requests("GET /api/v3/deal") == 2)
            let last = try #require(try await w.sb.deals.list(tenantId: w.fx.tenant.id, filter: .init(query: "Сделка 101")).first)
            #expect(last.deal.amount == 101 && last.deal.pipelineName == "Сервис" && last.deal.stageName == "Заявка")
        }
    }

    @Test("deals: existing deals are loaded on connect; a test deal made in the sandbox reaches Raw data through the application's event stream and its move to won follows; a wrong key is refused",
          arguments: Backend.available)
    func deals(_ backend: Backend) async throws {
        try await MegaplanWorld.with(backend) { w in
            let wire = MegaplanWire(base: w.sandboxURL)
            let old = try await wire.steer("deal", ["name": "Старая сделка", "price": 1500, "contractorId": .string(MegaplanWorld.OLGA),
                                                    "managerId": .string(MegaplanWorld.BORIS)])
            let oldId = try #require(old.data?["id"]?.string)
            await w.sb.integrationSaved(w.integration)
            try await eventually("the backfill") { try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: oldId) != nil }
            let loaded = try #require(try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: oldId))
            #expect(loaded.deal.title == "Старая сделка" && loaded.deal.amount == 1500 && loaded.deal.currency == "RUB")
            #expect(loaded.deal.phones == ["9165551234"] && loaded.deal.contactIds == [MegaplanWorld.OLGA])
            #expect(loaded.deal.pipelineName == "Продажи" && loaded.deal.stageName == "Новая" && loaded.deal.status == .open)
            #expect(loaded.deal.responsibleId == MegaplanWorld.BORIS && loaded.deal.responsibleName == "Борис Иванов")

            // The tenant makes the application in Megaplan with the deals address (the sandbox's application steering).
            let url = try #require(w.sb.connectors[.megaplan]?.credentialLinks(w.credential)["dealsURL"])
            #expect(try await wire.steer("application", ["url": .string(url), "models": ["Deal"]]).status == 200)
            let made = try await wire.steer("deal", ["name": "Тестовая сделка", "price": 25000, "phone": "+79031234567",
                                                     "managerId": .string(MegaplanWorld.ANNA),
                                                     "positions": [["name": "Монтаж", "quantity": 2, "price": 12500]]])
            let id = try #require(made.data?["id"]?.string)
            try await eventually("the new deal") { try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id) != nil }
            #expect(w.state.sent.contains { $0.url == url && $0.status == 200 })
            _ = try await wire.steer("deal", ["id": .string(id), "stateId": "83"])
            try await eventually("the won deal") {
                try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id)?.deal.status == .won
            }
            let won = try #require(try await w.sb.deals.get(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id))
            #expect(won.deal.amount == 25000 && won.deal.phones == ["9031234567"] && won.deal.stageName == "Успешно завершена")
            #expect(won.deal.products == [DealProduct(name: "Монтаж", quantity: 2, price: 12500)] && won.deal.closedAt != nil)
            #expect(try await w.sb.deals.history(tenantId: w.fx.tenant.id, integrationId: w.integration.id, dealId: id).map(\.stageId) == ["81", "83"])

            // An address with another key is refused, and nothing is queued for it.
            let forged = url.replacingOccurrences(of: "/deals", with: "x/deals")
            #expect(try await wire.steer("application", ["url": .string(forged), "models": ["Deal"]]).status == 200)
            _ = try await wire.steer("deal", ["name": "Чужая", "price": 1])
            try await eventually("the forged post answered") { w.state.sent.contains { $0.url == forged && $0.status == 401 } }
            try await w.settled()
            #expect(try await w.dead().isEmpty)
        }
    }
}
