import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardStorage

@Suite("Cabinet: Megaplan credentials and settings pages")
struct MPCabinetTests {
    /// Anna (101) and Boris (102) have extensions, Vera has none.
    static let staff: [(String, String?, String)] = [("anna", "101", "Анна С."), ("boris", "102", "Борис И."), ("vera", nil, "Вера П.")]

    @Test("credentials: a Megaplan tab; login and password required; the web phone's addresses on the card; the password never shown; edit, delete",
          arguments: Backend.available)
    func credentials(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            try await withCabinetTenant(sb, employees: Self.staff) { tenantId, _, cab in
                try await cab.get("/cabinet/credentials") { res in
                    #expect(res.body.text.contains("href=\"/cabinet/credentials?crm=megaplan\""))
                }
                try await cab.get("/cabinet/credentials?crm=megaplan") { res in
                    #expect(res.status == .ok)
                    let html = res.body.text
                    #expect(html.contains("Учетные данные Мегаплан") && html.contains("Домен Мегаплан"))
                    #expect(html.contains("placeholder=\"https://mp361546.megaplan.ru\""))
                    #expect(html.contains("Логин (username) от Мегаплан") && html.contains("id=\"new-password\" name=\"password\" type=\"password\""))
                }
                try await cab.post("/cabinet/credentials", ["crm": "megaplan", "baseURL": "mp361546.megaplan.ru", "login": "boss"]) { res in
                    #expect(res.status == .unprocessableContent)
                    #expect(res.body.text.contains("Укажите логин и пароль от Мегаплан"))
                }
                #expect(try await sb.credentials.list(tenantId: tenantId, crm: .megaplan).isEmpty)
                try await cab.post("/cabinet/credentials", ["crm": "megaplan", "name": "Мегаплан", "baseURL": "mp361546.megaplan.ru/",
                                                             "login": "boss@acme.ru", "password": "pa55-w0rd"]) { res in
                    #expect(res.status == .seeOther)
                    #expect(res.headers[.location] == "/cabinet/credentials?crm=megaplan")
                }
                let c = try #require(try await sb.credentials.list(tenantId: tenantId, crm: .megaplan).first)
                #expect(c.baseURL == "https://mp361546.megaplan.ru" && c.authKind == .password && c.name == "Мегаплан")
                let stored = try #require(try await sb.credentials.secret(tenantId: tenantId, id: c.id))
                #expect(stored.login == "boss@acme.ru" && stored.password == "pa55-w0rd")
                let links = try #require(sb.connectors[.megaplan]?.credentialLinks(c))
                #expect(links.keys.sorted() == ["callURL", "dealsURL", "dndURL", "hangupURL"])
                try await cab.get("/cabinet/credentials?crm=megaplan") { res in
                    let html = res.body.text
                    for (key, url) in links { #expect(html.contains("<code data-link=\"\(key)\">\(esc(url))</code>")) }
                    #expect(html.contains("Режим «Не беспокоить»") && html.contains("Подключение к телефонии по API"))
                    #expect(!html.contains("pa55-w0rd"))  // secrets are write-only
                }
                // A new password under the gear keeps the login and drops the tokens of the old one.
                var renewed = stored
                renewed.accessToken = "old-access"
                renewed.refreshToken = "old-refresh"
                try await sb.credentials.storeRefreshed(tenantId: tenantId, id: c.id, secret: renewed, status: "ok", detail: nil)
                try await cab.post("/cabinet/credentials/\(c.id)", ["action": "save", "name": "Мегаплан 2", "baseURL": c.baseURL,
                                                                     "login": "", "password": "new-pa55"]) { res in
                    #expect(res.status == .seeOther)
                }
                let edited = try #require(try await sb.credentials.secret(tenantId: tenantId, id: c.id))
                #expect(edited.login == "boss@acme.ru" && edited.password == "new-pa55")
                #expect(edited.accessToken == nil && edited.refreshToken == nil)
                try await cab.deleteCredential(sb, c)
            }
        }
    }

    @Test("settings against the sandbox: the guides' blocks in order with their hints; test; the telephony sync maps by extension; problems beside their fields; Save stores it all",
          arguments: Backend.available)
    func settings(_ backend: Backend) async throws {
        try await withMegaplanSandbox { _, sandboxURL in
            try await withSwitchboard(backend) { sb in
                try await withCabinetTenant(sb, employees: Self.staff) { tenantId, employees, cab in
                    let c = try await sb.credentials.create(tenantId: tenantId, crm: .megaplan, name: "Мегаплан", baseURL: sandboxURL,
                                                            authKind: .password, secret: CRMSecret(login: "admin@demo.example", password: "demo-password"))
                    try await cab.post("/cabinet/credentials/\(c.id)", ["action": "test"]) { res in
                        #expect(res.status == .ok)
                        #expect(res.body.text.contains("подключение работает: аккаунт 127.0.0.1, сотрудников: 3"))
                    }
                    let (path, integration) = try await cab.connect(sb, tenantId: tenantId, .megaplan)
                    try await cab.get(path) { res in
                        #expect(res.status == .ok)
                        let html = res.body.text
                        expectInOrder(html, ["<h2>Учетные данные", "<h2>Параметры интеграции", " Активен</span>", "<h2>Синхронизация данных",
                                      "Синхронизировать настройки телефонии из Мегаплан", "Сопоставления сотрудников", "<h2>Настройки фильтрации",
                                      "Фильтровать по виртуальным номерам", "Список виртуальных номеров", "<h2>Ответственный по умолчанию",
                                      "<h2>Обработка звонков", "Создавать контакт при звонке", "Назначать ответственного на",
                                      "Передавать дополнительные поля в клиента", "Обновлять всегда", "Создавать коммуникацию по звонку",
                                      "Длительность коммуникации", "Создавать дело по звонку", "Создавать процесс по звонку", "Схема процесса",
                                      "Включить переадресацию на персонального менеджера", "<h2>Звонки по клику из CRM", "Номер для звонка по клику",
                                      "Переопределять АОН для исходящих звонков", "Адреса веб-телефона Мегаплан"])
                        // The guides' hints and wording.
                        #expect(html.contains("то функционал поднятия карточки звонка и передача информации по нему не будет доступен"))
                        #expect(html.contains("По умолчанию указано 120 минут (2 часа)"))
                        #expect(html.contains("Входящие потерянные") && html.contains("Исходящие неуспешные"))
                        // Megaplan's employees with their extensions; the command addresses of the chosen credentials.
                        #expect(html.contains("<option value=\"1000001\">Анна Смирнова (101)</option>"))
                        #expect(html.contains("id=\"map.1000001\"") && html.contains("id=\"map.1000003\""))
                        let call = try #require(sb.connectors[.megaplan]?.credentialLinks(c)["callURL"])
                        #expect(html.contains(esc(call)))
                        #expect(!html.contains("не прочитаны"))
                    }
                    // "Sync telephony settings": the rows whose extension a PBX employee has are filled, nothing stored yet.
                    var fields = ["credentialId": c.id, "active": "1", "createClient.enabled": "1",
                                  "createClient.responsibleTalker": "last", "defaultResponsible": "1000003",
                                  "lineFilter.enabled": "1", "lineFilter.numbers": "+7 495 123-45-67\n74957654321",
                                  "numberFilter": "+7 916 000-00-01",
                                  "extraFields.enabled": "1", "extraFields.updateAlways": "1",
                                  "extraFields.field.virtualNumber": "Category1000047CustomFieldVirtualnyiNomer",
                                  "extraFields.field.utm_source": "Category1000047CustomFieldUtmMetka",
                                  "xl.0.line": "+7 (495) 123-45-67", "xl.0.utm_source": "yandex", "xl.0.campaign": "Весна", "xl.1.line": "",
                                  "communication.enabled": "1", "communication.kind.incoming.answered": "1",
                                  "communication.kind.outgoing.answered": "1", "communication.minutes": "0",
                                  "todo.enabled": "1", "todo.kind.incoming.missed": "1", "todo.responsible": "client",
                                  "process.enabled": "1", "process.kind.incoming.missed": "1", "process.responsible": "1000002",
                                  "process.programId": "", "personalManager": "1",
                                  "clickToCall.callerId": "+74950000000", "clickToCall.overrideCallerId": "1",
                                  "map.1000001": "", "mapname.1000001": "Анна Смирнова", "map.1000002": "", "mapname.1000002": "Борис Иванов",
                                  "map.1000003": "", "mapname.1000003": "Вера Петрова"]
                    fields["action"] = "syncTelephony"
                    try await cab.post(path, fields) { res in
                        #expect(res.status == .ok)
                        let html = res.body.text
                        #expect(html.contains("сотрудники сопоставлены по внутренним номерам (2)"))
                        #expect(html.contains("<option value=\"\(employees["anna"]!.id)\" selected>Анна С. (anna, 101)</option>"))
                        #expect(html.contains("<option value=\"\(employees["boris"]!.id)\" selected>Борис И. (boris, 102)</option>"))
                        #expect(!html.contains("<option value=\"\(employees["vera"]!.id)\" selected>"))
                        #expect(html.contains("value=\"yandex\""))  // what was typed stays
                    }
                    #expect(try await sb.integrations.mappings(tenantId: tenantId, integrationId: integration.id).isEmpty)
                    // Save with a process without its scheme and a zero duration: each marked beside its field, nothing stored.
                    fields["action"] = nil
                    fields["map.1000001"] = employees["anna"]!.id
                    fields["map.1000002"] = employees["boris"]!.id
                    try await cab.post(path, fields) { res in
                        #expect(res.status == .unprocessableContent)
                        let html = res.body.text
                        let scheme = try #require(html.range(of: "id=\"process.programId\""))
                        let schemeProblem = try #require(html.range(of: "выберите схему процессов Мегаплан"))
                        #expect(html.contains("длительность — от 1 до 10080 минут"))
                        #expect(scheme.lowerBound < schemeProblem.lowerBound && schemeProblem.lowerBound < html.range(of: "<h2>Звонки по клику")!.lowerBound)
                        let minutes = try #require(html.range(of: "id=\"communication.minutes\""))
                        let minutesProblem = try #require(html.range(of: "class=\"error\" role=\"alert\"", range: minutes.upperBound..<html.endIndex))
                        #expect(minutesProblem.lowerBound < html.range(of: "Создавать дело по звонку</span>")!.lowerBound)
                        #expect(html.contains("value=\"yandex\"") && html.contains("value=\"Весна\""))
                    }
                    let untouched = try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id))
                    #expect(!untouched.active && untouched.settings == integration.settings)
                    fields["process.programId"] = "8"
                    fields["communication.minutes"] = "90"
                    try await cab.post(path, fields) { res in
                        #expect(res.status == .ok)
                        #expect(res.body.text.contains("Сохранено"))
                    }
                    let saved = try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id))
                    #expect(saved.active)
                    let s = try JSON.decode(MegaplanSettings.self, from: JSON.string(saved.settings))
                    var expected = MegaplanSettings()
                    expected.lineFilter.enabled = true
                    expected.lineFilter.numbers = ["+7 495 123-45-67", "74957654321"]
                    expected.numberFilter = ["+7 916 000-00-01"]
                    expected.defaultResponsible = "1000003"
                    expected.createClient.responsibleTalker = .last
                    expected.extraFields.enabled = true
                    expected.extraFields.updateAlways = true
                    expected.extraFields.fields = ["virtualNumber": "Category1000047CustomFieldVirtualnyiNomer",
                                                   "utm_source": "Category1000047CustomFieldUtmMetka"]
                    expected.extraFields.byLine = ["74951234567": ["utm_source": "yandex", "campaign": "Весна"]]
                    expected.communication.enabled = true
                    expected.communication.kinds = [.init(.incoming, .answered), .init(.outgoing, .answered)]
                    expected.communication.minutes = 90
                    expected.todo.enabled = true
                    expected.todo.kinds = [.init(.incoming, .missed)]
                    expected.todo.responsible = .client
                    expected.process.enabled = true
                    expected.process.kinds = [.init(.incoming, .missed)]
                    expected.process.responsible = .employee("1000002")
                    expected.process.programId = "8"
                    expected.personalManager = true
                    expected.clickToCall = ClickToCallSettings(callerId: "+74950000000", overrideCallerId: true)
                    #expect(s == expected)
                    #expect(s.extraFieldValues(line: "+74951234567") == ["Category1000047CustomFieldVirtualnyiNomer": "+74951234567",
                                                                          "Category1000047CustomFieldUtmMetka": "yandex"])
                    let mappings = try await sb.integrations.mappings(tenantId: tenantId, integrationId: integration.id)
                    #expect(mappings.sorted { $0.crmUserId < $1.crmUserId } == [
                        EmployeeMapping(crmUserId: "1000001", crmUserName: "Анна Смирнова", employeeId: employees["anna"]!.id),
                        EmployeeMapping(crmUserId: "1000002", crmUserName: "Борис Иванов", employeeId: employees["boris"]!.id)])
                    // Read back: the choices drawn as saved; the page in English.
                    try await cab.get(path) { res in
                        let html = res.body.text
                        #expect(html.contains("<option value=\"1000002\" selected>Борис Иванов (102)</option>"))
                        #expect(html.contains("<option value=\"client\" selected>"))
                        #expect(html.contains("id=\"communication.kind.outgoing.answered\" name=\"communication.kind.outgoing.answered\" value=\"1\" checked"))
                        #expect(!html.contains("id=\"communication.kind.incoming.missed\" name=\"communication.kind.incoming.missed\" value=\"1\" checked"))
                        #expect(html.contains("<option value=\"last\" selected>"))
                    }
                    try await cab.get(path + "?lang=en") { res in
                        #expect(res.body.text.contains("Data sync") && res.body.text.contains("Call handling"))
                    }
                }
            }
        }
    }

    @Test("settings without credentials: why the employees are not read, ids typed instead, stored", arguments: Backend.available)
    func typedIds(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            try await withCabinetTenant(sb, employees: Self.staff) { tenantId, _, cab in
                let integration = try await sb.integrations.create(tenantId: tenantId, crm: .megaplan, name: "Megaplan", credentialId: nil,
                                                                   pbxConnectionId: nil, active: false)
                let path = "/cabinet/integrations/\(integration.id)"
                try await cab.get(path) { res in
                    let html = res.body.text
                    #expect(html.contains("Сотрудники Мегаплан не прочитаны: не выбраны учетные данные"))
                    #expect(html.contains("<input id=\"defaultResponsible.id\" name=\"defaultResponsible.id\""))
                    #expect(html.contains("<input id=\"todo.responsible.id\" name=\"todo.responsible.id\""))
                    #expect(!html.contains("Адреса веб-телефона Мегаплан"))
                }
                try await cab.post(path, ["defaultResponsible.id": " 1000002 ", "createClient.enabled": "1", "todo.enabled": "1",
                                          "todo.kind.outgoing.missed": "1", "todo.responsible": "",
                                          "todo.responsible.id": "1000003", "communication.minutes": "120"]) { res in
                    #expect(res.status == .ok)
                }
                let s = try JSON.decode(MegaplanSettings.self, from: JSON.string(try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id)).settings))
                #expect(s.defaultResponsible == "1000002" && s.todo.responsible == .employee("1000003"))
                #expect(s.todo.kinds == [.init(.outgoing, .missed)] && s.createClient.enabled && !s.communication.enabled)
            }
        }
    }
}
