import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
@testable import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardSimulator
import SwitchboardStorage

/// MS-3, text half: requests and chats from a tenant's site become counterparties, orders, tasks and transcript notes in
/// the MoySklad sandbox.
@Suite("MoySklad texts: site → Switchboard → MoySklad sandbox")
struct MoySkladTextsTests {
    static let attr = "6e000001-0000-11ef-0a80-000000000051"
    static let texts = """
        {"requests":{"enabled":true,"defaultResponsible":"\(MSWorld.VERA)","createTask":true,"orderState":"Новый"},
         "chats":{"enabled":true,"defaultResponsible":"\(MSWorld.ANNA)","trigger":"finished","createTask":true},
         "taskDueMinutes":30,"extraFields":[{"attribute":"\(attr)","source":"utm_source"}]}
        """

    func counts(_ s: MoySkladSandboxSnapshot) -> [Int] {
        [s.counterparties.count, s.orders.count, s.tasks.count, s.notes.values.map(\.count).reduce(0, +)]
    }

    @Test("a request from a new sender: counterparty with phone, e-mail, owner and extra field, an order with its status, a task; a replay makes nothing more",
          arguments: Backend.available)
    func request(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            let visitor = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: Self.texts)
            let reply = try await visitor.sendRequest(name: "Ирина", phone: "+7 903 555-44-33", email: "irina@mail.example", type: "callback",
                                                      message: "Перезвоните после обеда", utm: ["utm_source": "yandex"], requestId: "form-1")
            #expect(reply.status == 201, "\(reply.body)")
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let st = w.state
            let irina = try #require(w.counterparties("79035554433").first)
            #expect(w.counterparties("79035554433").count == 1)
            #expect(irina.name == "Ирина" && irina.email == "irina@mail.example" && irina.ownerId == MSWorld.VERA)
            #expect(irina.attributes[Self.attr] == "yandex" && irina.companyType == "individual")
            let order = try #require(st.orders.first { $0.agentId == irina.id })
            #expect(order.ownerId == MSWorld.VERA && order.stateId == MoySkladSandboxSeed.demo.orderStates[0].id)
            #expect(order.description?.contains("Перезвоните после обеда") == true && order.description?.contains("utm_source: yandex") == true)
            let task = try #require(st.tasks.first { $0.agent == "counterparty/\(irina.id)" })
            #expect(task.assigneeId == MSWorld.VERA && task.description.hasPrefix("Обработать заявку с сайта Shop"))
            // What it cost (docs/connectors/moysklad.md): the token once, two look-ups (phone, e-mail), the counterparty,
            // the organization and the statuses once per integration, the order, the task.
            let r = "/api/remap/1.2"
            #expect(st.requests["POST \(r)/security/token"] == 1 && st.requests["GET \(r)/entity/counterparty"] == 2)
            #expect(st.requests["POST \(r)/entity/counterparty"] == 1 && st.requests["GET \(r)/entity/organization"] == 1)
            #expect(st.requests["GET \(r)/entity/customerorder/metadata"] == 1 && st.requests["POST \(r)/entity/customerorder"] == 1)
            #expect(st.requests["POST \(r)/entity/task"] == 1 && st.requests.values.reduce(0, +) == 8)

            // The same form sent again is one request; a replayed job finds everything made.
            #expect(try await visitor.sendRequest(name: "Ирина", phone: "+7 903 555-44-33", requestId: "form-1").status == 200)
            try await replayTextJobs(w.sb, tenant: w.fx.tenant.id)
            try await w.settled()
            #expect(counts(w.state) == counts(st))
            #expect(w.state.requests == st.requests)  // a replay asks MoySklad nothing
            #expect(try await w.dead().isEmpty)
        }
    }

    @Test("chats: an answered chat makes a counterparty and its transcript note, no task; a missed chat of a known client is a task and a note on their counterparty; a replay makes nothing more",
          arguments: Backend.available)
    func chats(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            let visitor = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: Self.texts)
            let answered = try await visitor.playChat(name: "Пётр", phone: "+79037770011", lines: [
                ("visitor", "Есть доставка в Тверь?"), ("operator", "Да, за два дня."),
            ])
            #expect(answered.map(\.status) == [201, 200, 200])
            let missed = try await visitor.playChat(name: "Ольга", phone: "+7 916 555-12-34", lines: [("visitor", "Вы тут?")])
            #expect(missed.first?.status == 201)
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let st = w.state
            let petr = try #require(w.counterparties("79037770011").first)
            #expect(petr.ownerId == MSWorld.ANNA)
            let transcript = try #require(st.notes[petr.id]?.first)
            #expect(transcript.hasPrefix("Переписка в чате с сайта Shop") && transcript.contains("Пётр: Есть доставка в Тверь?")
                    && transcript.contains("Анна: Да, за два дня."))
            #expect(!st.tasks.contains { $0.agent == "counterparty/\(petr.id)" })  // answered: no task
            #expect(!st.orders.contains { $0.agentId == petr.id })  // chats make no order unless the rules say so

            #expect(w.counterparties(MSWorld.olga).count == 1)  // known by phone: no new counterparty
            let task = try #require(st.tasks.first { $0.agent == "counterparty/\(MSWorld.olgaId)" })
            #expect(task.assigneeId == MSWorld.ANNA && task.description.hasPrefix("Ответить на пропущенный чат с сайта Shop"))
            #expect(st.notes[MSWorld.olgaId]?.first?.contains("Ольга: Вы тут?") == true)

            try await replayTextJobs(w.sb, tenant: w.fx.tenant.id)
            try await w.settled()
            #expect(counts(w.state) == counts(st))
        }
    }

    @Test("a long chat's transcript takes several notes of at most 4096 characters (MoySklad's limit), all of it kept; a long request's order is cut to fit; a replay adds none",
          arguments: Backend.available)
    func longTexts(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            let visitor = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: Self.texts)
            let lines = (1...6).map { i in (i % 2 == 1 ? "visitor" : "operator", "Строка \(i) " + String(repeating: "слово ", count: 250)) }
            let replies = try await visitor.playChat(name: "Пётр", phone: "+79037770011", lines: lines)
            #expect(replies.allSatisfy { $0.status == 200 || $0.status == 201 })
            #expect(try await visitor.sendRequest(name: "Ирина", phone: "+79035554433", message: String(repeating: "длинно ", count: 700)).status == 201)
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let st = w.state
            let petr = try #require(w.counterparties("79037770011").first)
            let notes = try #require(st.notes[petr.id])
            #expect(notes.count == 3 && notes.allSatisfy { $0.count <= 4096 })
            for i in 1...6 { #expect(notes.contains { $0.contains("Строка \(i) ") }) }
            #expect(notes.enumerated().allSatisfy { i, n in n.hasSuffix(" · \(i + 1)/3)") })
            let irina = try #require(w.counterparties("79035554433").first)
            let order = try #require(st.orders.first { $0.agentId == irina.id })
            #expect((order.description?.count ?? 0) <= 4096 && order.description?.hasSuffix(")") == true)
            try await replayTextJobs(w.sb, tenant: w.fx.tenant.id)
            try await w.settled()
            #expect(w.state.notes[petr.id]?.count == 3)
        }
    }

    enum Step: String, CaseIterable, Sendable { case counterparty, order, task, transcript }

    @Test("a chat's job cut off after MoySklad answered a write, run again: one counterparty, order, task and note",
          arguments: Backend.available, Step.allCases)
    func interrupted(_ backend: Backend, _ step: Step) async throws {
        try await MSWorld.with(backend, workers: false) { w in
            let texts = """
                {"chats":{"enabled":true,"defaultResponsible":"\(MSWorld.ANNA)","createTask":true,"createDeal":true,"tasksOnlyMissed":false}}
                """
            _ = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: texts)
            let integration = try #require(try await w.sb.integrations.get(tenantId: w.fx.tenant.id, id: w.integration.id))
            let site = try #require(try await TextStore(db: w.sb.db).sites(tenantId: w.fx.tenant.id).first)
            let draft = TextsIdempotencyTests.draft(site, kind: .chat, phone: "+79037001122")
            let job = try await TextsIdempotencyTests.job(w.sb, draft, event: .chatFinished, integration: integration)
            let ms = try #require(w.sb.connectors[.moysklad]?.context as? MSConnector)
            try await TextsIdempotencyTests.abortAndRerun(MSTexts.spec(ms), crm: .moysklad, env: w.sb.connectorEnvironment, job: job,
                                                          at: step.rawValue)
            let st = w.state
            let irina = try #require(w.counterparties("79037001122").first)
            #expect(w.counterparties("79037001122").count == 1)
            #expect(st.orders.filter { $0.agentId == irina.id }.count == 1)
            #expect(st.tasks.filter { $0.agent == "counterparty/\(irina.id)" }.count == 1)
            #expect(st.notes[irina.id]?.count == 1)
        }
    }

    @Test("MoySklad's own text options are checked when the settings are written")
    func problems() {
        let json = try! JSON.decode(JSONValue.self, from: """
            {"texts":{"requests":{"enabled":true,"defaultResponsible":"7"},"taskDueMinutes":0,
             "extraFields":[{"attribute":"","source":"referrer"}]}}
            """)
        let fields = Set(MSTextOptions.problems(json).map(\.field))
        #expect(fields == ["texts.requests.defaultResponsible", "texts.taskDueMinutes", "texts.extraFields"])
        #expect(MSTextOptions.problems(try! JSON.decode(JSONValue.self, from: "{\"texts\":\(Self.texts)}")).isEmpty)
    }
}
