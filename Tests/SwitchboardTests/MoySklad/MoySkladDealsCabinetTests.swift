import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardStorage

@Suite("Cabinet: MoySklad's deals import switch and text options")
struct MoySkladDealsCabinetTests {
    static let vera = MoySkladSandboxSeed.demo.employees[2].id

    @Test("the deals import's login and password: a wrong password refused with MoySklad's reason and nothing kept; the right one sealed as its own credentials; text options written over the shared rules",
          arguments: Backend.available)
    func dealsSwitch(_ backend: Backend) async throws {
        try await withMoySklad { _, ms in
            try await withSwitchboard(backend) { sb in
                try await withCabinetTenant(sb, employees: [("vera", "103", "Вера П.")]) { tenantId, _, cab in
                    let c = try await sb.credentials.create(
                        tenantId: tenantId, crm: .moysklad, name: "Склад", baseURL: ms.base, authKind: .token,
                        secret: CRMSecret(login: "admin@demo", password: "demo-password", token: MoySkladSandboxSeed.demo.phoneAccessKey))
                    let (path, integration) = try await cab.connect(sb, tenantId: tenantId, .moysklad)
                    // Shared text rules set through the API before; the page must keep them.
                    var withRules = integration
                    withRules.settings = try JSON.decode(JSONValue.self, from: """
                        {"texts":{"requests":{"enabled":true,"defaultResponsible":"\(Self.vera)"}}}
                        """)
                    _ = try await sb.integrations.update(withRules)
                    try await cab.get(path) { res in
                        let html = res.body.text
                        expectInOrder(html, ["<h2>Параметры интеграции", "<h2>Подключение передачи сделок", "МойСклад - передача сделок",
                                             "Название авторизации", "Логин МойСклад", "<h2>Модуль телефонии в МойСклад",
                                             "<h2>Текстовые коммуникации", "Статус заказа по заявке", "Задачи только по пропущенным чатам",
                                             "<h2>Сопоставления сотрудников"])
                        #expect(html.contains("id=\"texts.chats.tasksOnlyMissed\" name=\"texts.chats.tasksOnlyMissed\" value=\"1\" checked"))
                        #expect(html.contains("href=\"/cabinet/integrations/\(integration.id)/texts\">Заявки и чаты</a>"))
                    }
                    var fields = ["credentialId": c.id, "active": "1", "defaultResponsible": Self.vera, "taskDueMinutes": "60",
                                  "dealsImport.present": "1", "dealsImport.enabled": "1", "dealsImport.name": "Сделки",
                                  "dealsImport.login": "admin@demo", "dealsImport.password": "wrong-password",
                                  "texts.present": "1", "texts.requests.orderState": "Новый", "texts.taskDueMinutes": "45",
                                  "texts.extra.site": "attr-site"]
                    try await cab.post(path, fields) { res in
                        #expect(res.status == .unprocessableContent)
                        #expect(res.body.text.contains("МойСклад не принял логин и пароль"), "\(res.body.text)")
                        #expect(!res.body.text.contains("wrong-password"))
                    }
                    #expect(try await sb.credentials.list(tenantId: tenantId, crm: .moysklad).map(\.id) == [c.id])
                    let untouched = try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id))
                    #expect(!untouched.active)

                    fields["dealsImport.password"] = "demo-password"
                    try await cab.post(path, fields) { res in
                        #expect(res.status == .ok, "\(res.body.text)")
                        #expect(res.body.text.contains("Сохранено") && res.body.text.contains("Авторизация сохранена"))
                    }
                    let saved = try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id))
                    let settings = try JSON.decode(MSSettings.self, from: JSON.string(saved.settings))
                    let dealsId = try #require(settings.dealsImport.credentialId)
                    #expect(settings.dealsImport.enabled && dealsId != c.id)
                    #expect(!JSON.string(saved.settings).contains("demo-password"))
                    let deals = try #require(try await sb.credentials.get(tenantId: tenantId, id: dealsId))
                    #expect(deals.authKind == .password && deals.name == "Сделки" && deals.baseURL == ms.base)
                    #expect(try await sb.credentials.secret(tenantId: tenantId, id: dealsId)?.password == "demo-password")
                    // Its card says what it is for, with no telephony address to paste.
                    #expect(sb.connectors[.moysklad]?.credentialLinks(deals).isEmpty == true)
                    try await cab.get("/cabinet/credentials?crm=moysklad") { res in
                        #expect(res.body.text.contains("логин и пароль для передачи сделок") && !res.body.text.contains("demo-password"))
                    }
                    let rules = try TextRules.of(settings: saved.settings)
                    #expect(rules.requests.enabled && rules.requests.defaultResponsible == Self.vera)
                    let options = try MSTextOptions.of(settings: saved.settings)
                    #expect(options.requests.orderState == "Новый" && options.taskDueMinutes == 45 && !options.chatTasksOnlyMissed)
                    #expect(options.extraFields == [MSTextOptions.ExtraField(attribute: "attr-site", source: "site")])
                }
            }
        }
    }
}
