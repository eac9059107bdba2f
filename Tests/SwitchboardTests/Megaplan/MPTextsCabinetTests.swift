import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

@Suite("Cabinet: Megaplan text communications and deals import on the settings page")
struct MPTextsCabinetTests {
    @Test("the guide's requests and chats blocks and the deals address; a process without its scheme marked beside the field; saved values read back as the rules the jobs use",
          arguments: Backend.available)
    func textsAndDeals(_ backend: Backend) async throws {
        try await withMegaplanSandbox { _, sandboxURL in
          try await withSwitchboard(backend) { sb in
            try await withCabinetTenant(sb, employees: MPCabinetTests.staff) { tenantId, _, cab in
                let c = try await sb.credentials.create(tenantId: tenantId, crm: .megaplan, name: "Мегаплан", baseURL: sandboxURL, authKind: .password,
                                                        secret: CRMSecret(login: "admin@demo.example", password: "demo-password"))
                let integration = try await sb.integrations.create(tenantId: tenantId, crm: .megaplan, name: "Megaplan", credentialId: c.id,
                                                                   pbxConnectionId: nil, active: false)
                let path = "/cabinet/integrations/\(integration.id)"
                let dealsURL = try #require(sb.connectors[.megaplan]?.credentialLinks(c)["dealsURL"])
                try await cab.get(path) { res in
                    let html = res.body.text
                    for heading in ["Текстовые коммуникации", "Передавать заявки", "Передавать чаты", "Создавать клиента для чатов без контактных данных",
                                    "На какое событие создавать дело", "Рабочее место оператора в Мегаплан", "Передача сделок"] {
                        #expect(html.contains(heading), "\(heading)")
                    }
                    #expect(html.contains("<code data-link=\"dealsURL\">\(esc(dealsURL))</code>"))
                    #expect(html.range(of: "Передавать заявки")!.lowerBound < html.range(of: "Передача сделок")!.lowerBound)
                }
                var form = ["credentialId": c.id, "communication.minutes": "120", "texts.form": "1",
                            "texts.requests.enabled": "1", "texts.requests.types": "callback, order", "texts.requests.defaultResponsible": "1000003",
                            "texts.requests.createContact": "1", "texts.requests.extraFields.site": "Category1000047CustomFieldSait",
                            "texts.requests.createDeal": "1", "texts.requests.process.types": "order", "texts.requests.process.responsible": "client",
                            "texts.chats.enabled": "1", "texts.chats.defaultResponsible": "1000001", "texts.chats.createContact": "1",
                            "texts.chats.clientEvent": "finished", "texts.chats.createTask": "1", "texts.chats.todo.event": "started",
                            "texts.chats.todo.responsible": "1000002", "texts.chats.transcript": "1"]
                try await cab.post(path, form) { res in
                    #expect(res.status == .unprocessableContent)
                    let html = res.body.text
                    let field = try #require(html.range(of: "id=\"texts.requests.process.programId\""))
                    let problem = try #require(html.range(of: "выберите схему процессов Мегаплан"))
                    #expect(field.lowerBound < problem.lowerBound)
                }
                form["texts.requests.process.programId"] = "8"
                try await cab.post(path, form) { res in #expect(res.status == .ok) }
                let saved = try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id)).settings
                let rules = try TextRules.of(settings: saved)
                #expect(rules.requests.enabled && rules.requests.types == ["callback", "order"] && rules.requests.defaultResponsible == "1000003")
                #expect(rules.requests.createDeal && !rules.requests.createTask)
                #expect(rules.chats.trigger == .finished && rules.chats.alsoAt == [.started] && rules.chats.defaultResponsible == "1000001")
                #expect(rules.chats.createTask && !rules.chats.createDeal && rules.chats.transcript && !rules.chats.contactWithoutDetails)
                let own = try JSON.decode(MegaplanTextOptions.self, from: JSON.string(try #require(saved["texts"])))
                #expect(own.requests.extraFields == ["site": "Category1000047CustomFieldSait"] && own.requests.process.programId == "8")
                #expect(own.requests.process.types == ["order"] && own.requests.process.responsible == "client")
                #expect(own.chats.todo.event == .started && own.chats.todo.responsible == "1000002" && own.chats.clientEvent == .finished)
                #expect(sb.connectors[.megaplan]?.settingsProblems(saved).isEmpty == true)
                // A chat started now makes the todo's job (the moment is told to Switchboard).
                let text = TextCommunication(id: "t1", tenantId: tenantId, siteId: "s", site: "Shop", kind: .chat, state: "open", createdAt: Date())
                #expect(rules.wants(text, siteId: "s", at: .chatStarted))

                // Saving the page again without touching the section keeps it; a form without the section keeps the block.
                try await cab.post(path, ["credentialId": c.id, "communication.minutes": "120"]) { res in #expect(res.status == .ok) }
                let kept = try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id)).settings
                #expect(kept["texts"] == saved["texts"])
                try await cab.get(path) { res in
                    #expect(res.body.text.contains("value=\"callback, order\""))
                }
            }
          }
        }
    }
}
