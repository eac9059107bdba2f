import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardStorage

@Suite("Cabinet: MoySklad credentials and settings pages")
struct MSCabinetTests {
    static let anna = "2a000001-0000-11ef-0a80-000000000011", boris = "2a000002-0000-11ef-0a80-000000000012"
    static let vera = "2a000003-0000-11ef-0a80-000000000013"
    static let staff: [(String, String?, String)] = [("anna", "101", "Анна С."), ("boris", "102", "Борис И.")]

    @Test("credentials: a MoySklad tab at MoySklad's address; the access key required; JSON API access; the Webhook URL on the card; secrets never shown; edit, delete",
          arguments: Backend.available)
    func credentials(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            try await withCabinetTenant(sb, employees: Self.staff) { tenantId, _, cab in
                try await cab.get("/cabinet/credentials?crm=moysklad") { res in
                    #expect(res.status == .ok)
                    let html = res.body.text
                    #expect(html.contains("Учетные данные МойСклад") && html.contains("Адрес API МойСклад"))
                    #expect(html.contains("name=\"baseURL\" placeholder=\"https://api.moysklad.ru\" value=\"https://api.moysklad.ru\""))
                    #expect(html.contains("Token (ключ доступа приложения телефонии)") && html.contains("«Ключ доступа»"))
                    #expect(html.contains("Доступ к JSON API") && html.contains("name=\"jsonToken\""))
                }
                try await cab.post("/cabinet/credentials", ["crm": "moysklad", "baseURL": "https://api.moysklad.ru", "token": ""]) { res in
                    #expect(res.status == .unprocessableContent)
                    #expect(res.body.text.contains("Вставьте ключ доступа приложения телефонии МойСклад"))
                }
                try await cab.post("/cabinet/credentials", ["crm": "moysklad", "baseURL": "https://api.moysklad.ru", "token": "k",
                                                             "login": "admin@acme"]) { res in
                    #expect(res.status == .unprocessableContent)
                    #expect(res.body.text.contains("Укажите пароль к логину МойСклад"))
                }
                #expect(try await sb.credentials.list(tenantId: tenantId, crm: .moysklad).isEmpty)
                try await cab.post("/cabinet/credentials", ["crm": "moysklad", "name": "Склад", "baseURL": "https://api.moysklad.ru",
                                                             "token": "phone-key-1", "login": "admin@acme", "password": "json-pa55"]) { res in
                    #expect(res.status == .seeOther)
                    #expect(res.headers[.location] == "/cabinet/credentials?crm=moysklad")
                }
                let c = try #require(try await sb.credentials.list(tenantId: tenantId, crm: .moysklad).first)
                #expect(c.baseURL == "https://api.moysklad.ru" && c.authKind == .token && c.name == "Склад")
                let stored = try #require(try await sb.credentials.secret(tenantId: tenantId, id: c.id))
                #expect(stored.token == "phone-key-1" && stored.login == "admin@acme" && stored.password == "json-pa55")
                let webhook = try #require(sb.connectors[.moysklad]?.credentialLinks(c)["webhookURL"])
                try await cab.get("/cabinet/credentials?crm=moysklad") { res in
                    let html = res.body.text
                    #expect(html.contains("<code data-link=\"webhookURL\">\(esc(webhook))</code>"))
                    #expect(html.contains("Webhook URL") && html.contains("«Адрес провайдера телефонии»"))
                    #expect(!html.contains("phone-key-1") && !html.contains("json-pa55"))  // secrets are write-only
                }
                // A JSON API token under the gear replaces the login and password; the access key stays.
                var issued = stored
                issued.accessToken = "issued-from-password"
                try await sb.credentials.storeRefreshed(tenantId: tenantId, id: c.id, secret: issued, status: "ok", detail: nil)
                try await cab.post("/cabinet/credentials/\(c.id)", ["action": "save", "name": "Склад", "baseURL": c.baseURL, "token": "",
                                                                     "login": "", "password": "", "jsonToken": "json-token-2"]) { res in
                    #expect(res.status == .seeOther)
                }
                let edited = try #require(try await sb.credentials.secret(tenantId: tenantId, id: c.id))
                #expect(edited.token == "phone-key-1" && edited.login == nil && edited.password == "json-token-2" && edited.accessToken == nil)
                try await cab.deleteCredential(sb, c)
            }
        }
    }

    @Test("settings against the sandbox: the guide's blocks in order with the Webhook URL; employees with extensions; a missing default responsible marked; Save stores it all",
          arguments: Backend.available)
    func settings(_ backend: Backend) async throws {
        try await withMoySklad { _, ms in
            try await withSwitchboard(backend) { sb in
                try await withCabinetTenant(sb, employees: Self.staff) { tenantId, employees, cab in
                    let c = try await sb.credentials.create(
                        tenantId: tenantId, crm: .moysklad, name: "Склад", baseURL: ms.base, authKind: .token,
                        secret: CRMSecret(login: "admin@demo", password: "demo-password", token: MoySkladSandboxSeed.demo.phoneAccessKey))
                    try await cab.post("/cabinet/credentials/\(c.id)", ["action": "test"]) { res in
                        #expect(res.status == .ok)
                        #expect(res.body.text.contains("подключение работает"))
                    }
                    let (path, integration) = try await cab.connect(sb, tenantId: tenantId, .moysklad)
                    let webhook = try #require(sb.connectors[.moysklad]?.credentialLinks(c)["webhookURL"])
                    try await cab.get(path) { res in
                        #expect(res.status == .ok)
                        let html = res.body.text
                        expectInOrder(html, ["<h2>Учетные данные", "<h2>Параметры интеграции", " Активен</span>", "<h2>Модуль телефонии в МойСклад",
                                      "Webhook URL", "Показывать внутренние звонки", "<h2>Контрагенты, заказы и задачи по звонкам",
                                      "Ответственный по умолчанию", "Назначать ответственного на", "Заказ покупателя", "Статус заказа",
                                      "Срок задачи", "<h2>Фильтрация", "<h2>Передача дополнительных полей в контрагента", "Обновлять всегда",
                                      "UTM-метки по виртуальным номерам", "<h2>Переадресация на персонального менеджера",
                                      "<h2>Звонок в один клик из CRM", "Номер для звонка по клику", "<h2>Сопоставления сотрудников"])
                        #expect(html.contains("value=\"\(esc(webhook))\" data-link=\"webhookURL\""))
                        #expect(html.contains("Выберите настройку, если в МойСклад необходимо фиксировать звонки между сотрудниками."))
                        // The default rules: a counterparty for every call but an unanswered outgoing one; a task for missed incoming.
                        #expect(html.contains("id=\"rule.incomingMissed.createTask\" name=\"rule.incomingMissed.createTask\" value=\"1\" aria-label=\"Входящий пропущенный: Задача\" checked"))
                        #expect(!html.contains("id=\"rule.outgoingMissed.createCounterparty\" name=\"rule.outgoingMissed.createCounterparty\" value=\"1\" aria-label=\"Исходящий неуспешный: Контрагент\" checked"))
                        #expect(html.contains("<option value=\"\(Self.anna)\">Анна Смирнова (101)</option>"))
                        #expect(html.contains("id=\"map.\(Self.vera)\""))
                        #expect(!html.contains("не прочитаны"))
                    }
                    // No default responsible: marked beside its field, nothing stored, what was typed kept.
                    var fields = ["credentialId": c.id, "active": "1", "showInternalCalls": "1", "defaultResponsible": "",
                                  "responsibleTalker": "last", "rule.incomingAnswered.createCounterparty": "1",
                                  "rule.incomingAnswered.createOrder": "1", "rule.incomingMissed.createCounterparty": "1",
                                  "rule.incomingMissed.createTask": "1", "rule.outgoingMissed.createTask": "1",
                                  "order.state": "Новый", "order.organizationId": "", "taskDueMinutes": "30",
                                  "lines": "+7 495 123-45-67", "ignoredNumbers": "+7 916 000-00-01\n+7 916 000-00-02",
                                  "extra.line": "attr-line", "extra.utm_source": "attr-source", "extra.client": "",
                                  "extraFieldsUpdateAlways": "1", "utm.0.line": "+7 (495) 123-45-67", "utm.0.utm_source": "yandex", "utm.1.line": "",
                                  "personalManager": "1", "clickToCall.callerId": "+74950000000",
                                  "map.\(Self.anna)": employees["anna"]!.id, "mapname.\(Self.anna)": "Анна Смирнова",
                                  "map.\(Self.boris)": employees["boris"]!.id, "mapname.\(Self.boris)": "Борис Иванов",
                                  "map.\(Self.vera)": "", "mapname.\(Self.vera)": "Вера Петрова"]
                    try await cab.post(path, fields) { res in
                        #expect(res.status == .unprocessableContent)
                        let html = res.body.text
                        let field = try #require(html.range(of: "id=\"defaultResponsible\""))
                        let marked = try #require(html.range(of: "выберите сотрудника МойСклад, ответственного за пропущенные звонки"))
                        #expect(field.lowerBound < marked.lowerBound && marked.lowerBound < html.range(of: "Назначать ответственного на")!.lowerBound)
                        #expect(html.contains("value=\"yandex\"") && html.contains("value=\"attr-source\""))
                    }
                    let untouched = try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id))
                    #expect(!untouched.active && untouched.settings == integration.settings)
                    fields["defaultResponsible"] = Self.vera
                    try await cab.post(path, fields) { res in
                        #expect(res.status == .ok)
                        #expect(res.body.text.contains("Сохранено"))
                        #expect(res.body.text.contains("<option value=\"\(Self.vera)\" selected>Вера Петрова (103)</option>"))
                    }
                    let saved = try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id))
                    #expect(saved.active)
                    let s = try JSON.decode(MSSettings.self, from: JSON.string(saved.settings))
                    var expected = MSSettings()
                    expected.showInternalCalls = true
                    expected.defaultResponsible = Self.vera
                    expected.responsibleTalker = .last
                    expected.incomingAnswered = MSSettings.Rule(createCounterparty: true, createOrder: true)
                    expected.incomingMissed = MSSettings.Rule(createCounterparty: true, createTask: true)
                    expected.outgoingAnswered = MSSettings.Rule(createCounterparty: false)
                    expected.outgoingMissed = MSSettings.Rule(createCounterparty: false, createTask: true)
                    expected.order = MSSettings.Order(state: "Новый")
                    expected.taskDueMinutes = 30
                    expected.lines = ["+7 495 123-45-67"]
                    expected.ignoredNumbers = ["+7 916 000-00-01", "+7 916 000-00-02"]
                    expected.extraFields = [MSSettings.ExtraField(attribute: "attr-line", source: "line"),
                                            MSSettings.ExtraField(attribute: "attr-source", source: "utm_source")]
                    expected.extraFieldsUpdateAlways = true
                    expected.utmByLine = ["74951234567": ["utm_source": "yandex"]]
                    expected.personalManager = true
                    expected.clickToCall = ClickToCallSettings(callerId: "+74950000000", overrideCallerId: false)
                    #expect(s == expected)
                    #expect(s.extraValues(line: "+74951234567", client: PhoneNumber.parse("+79160000009"))["attr-source"] == "yandex")
                    let mappings = try await sb.integrations.mappings(tenantId: tenantId, integrationId: integration.id)
                    #expect(mappings.sorted { $0.crmUserId < $1.crmUserId } == [
                        EmployeeMapping(crmUserId: Self.anna, crmUserName: "Анна Смирнова", employeeId: employees["anna"]!.id),
                        EmployeeMapping(crmUserId: Self.boris, crmUserName: "Борис Иванов", employeeId: employees["boris"]!.id)])
                    try await cab.get(path + "?lang=en") { res in
                        let html = res.body.text
                        #expect(html.contains("The telephony application in MoySklad") && html.contains("Employee mapping"))
                        #expect(html.contains("id=\"showInternalCalls\" name=\"showInternalCalls\" value=\"1\" checked"))
                    }
                }
            }
        }
    }
}
