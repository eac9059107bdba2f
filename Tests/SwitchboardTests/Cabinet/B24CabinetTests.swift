import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox
import SwitchboardStorage

@Suite("Cabinet: Bitrix24 credentials and settings pages")
struct B24CabinetTests {
    static let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    func form(_ fields: [String: String]) -> ByteBuffer { ByteBuffer(string: FormURLEncoding.encode(fields)) }

    /// A tenant with a cabinet user and a PBX employee to map.
    func tenant(_ sb: Switchboard) async throws -> (tenantId: String, employee: Employee) {
        let tenant = try await sb.tenants.create(name: "Acme")
        _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "boss@acme.ru", passwordHash: Passwords.hash("correct horse"))
        let (pbx, _) = try await sb.pbx.create(tenantId: tenant.id, name: "АТС", protocol: .itoolabs, apiURL: nil, apiKey: nil)
        let employee = try await sb.pbx.upsertEmployee(tenantId: tenant.id, connectionId: pbx.id, login: "ivan", extension_: "101",
                                                       name: "Иван Петров", email: nil, directNumber: nil)
        return (tenant.id, employee)
    }

    @Test("credentials: a Bitrix24 tab beside amoCRM's; add, the handler address to paste, edit keeping the tokens, delete",
          arguments: Backend.available)
    func credentials(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let (tenantId, _) = try await tenant(sb)
            try await sb.buildApplication(workers: false).test(.router) { client in
                let cookie = try await cabinetSignIn(client, email: "boss@acme.ru", password: "correct horse")
                let headers = cookie + Self.formHeaders
                // The amoCRM page stays where it was, with a tab to Bitrix24's.
                try await client.execute(uri: "/cabinet/credentials", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("Учетные данные amoCRM") && res.body.text.contains("id=\"new-token\""))
                    #expect(res.body.text.contains("href=\"/cabinet/credentials?crm=bitrix24\""))
                }
                let csrf = try await client.execute(uri: "/cabinet/credentials?crm=bitrix24", method: .get, headers: cookie) { res in
                    #expect(res.status == .ok)
                    #expect(res.body.text.contains("Учетные данные Битрикс24") && res.body.text.contains("Домен портала"))
                    #expect(res.body.text.contains("name=\"clientId\"") && !res.body.text.contains("id=\"new-token\""))
                    return try #require(hiddenCSRF(res.body.text))
                }
                try await client.execute(uri: "/cabinet/credentials", method: .post, headers: headers,
                                         body: form(["csrf": csrf, "crm": "bitrix24", "name": "Портал", "baseURL": "comagic.bitrix24.ru/",
                                                     "clientId": "local.1", "clientSecret": "s3cret-key"])) { res in
                    #expect(res.status == .seeOther)
                    #expect(res.headers[.location] == "/cabinet/credentials?crm=bitrix24")
                }
                let c = try #require(try await sb.credentials.list(tenantId: tenantId, crm: .bitrix24).first)
                #expect(c.baseURL == "https://comagic.bitrix24.ru" && c.authKind == .oauth && c.name == "Портал")
                #expect(try await sb.credentials.list(tenantId: tenantId, crm: .amocrm).isEmpty)
                let stored = try #require(try await sb.credentials.secret(tenantId: tenantId, id: c.id))
                #expect(stored.login == "local.1" && stored.password == "s3cret-key")
                let handler = try #require(sb.connectors[.bitrix24]?.credentialLinks(c)["applicationHandlerURL"])
                try await client.execute(uri: "/cabinet/credentials?crm=bitrix24", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains(esc(handler)))
                    #expect(res.body.text.contains("«Путь вашего обработчика»"))
                    #expect(!res.body.text.contains("s3cret-key"))  // secrets are write-only
                }
                try await client.execute(uri: "/cabinet/credentials?crm=bitrix24&lang=en", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("Bitrix24 credentials") && res.body.text.contains("handler path"))
                }
                // The application is installed: a new key under the gear keeps its tokens.
                var installed = stored
                installed.refreshToken = "refresh-1"
                try await sb.credentials.storeRefreshed(tenantId: tenantId, id: c.id, secret: installed, status: "ok", detail: nil)
                try await client.execute(uri: "/cabinet/credentials/\(c.id)", method: .post, headers: headers,
                                         body: form(["csrf": csrf, "action": "save", "name": "Портал 2", "baseURL": c.baseURL,
                                                     "clientId": "", "clientSecret": "new-key"])) { res in
                    #expect(res.status == .seeOther)
                }
                let edited = try #require(try await sb.credentials.secret(tenantId: tenantId, id: c.id))
                #expect(edited.login == "local.1" && edited.password == "new-key" && edited.refreshToken == "refresh-1")
                #expect(try await sb.credentials.get(tenantId: tenantId, id: c.id)?.name == "Портал 2")
                try await client.execute(uri: "/cabinet/credentials/\(c.id)", method: .post, headers: headers,
                                         body: form(["csrf": csrf, "action": "delete"])) { res in
                    #expect(res.headers[.location] == "/cabinet/credentials?crm=bitrix24")
                }
                #expect(try await sb.credentials.list(tenantId: tenantId, crm: .bitrix24).isEmpty)
            }
        }
    }

    @Test("settings: the guide's blocks in order; users unreadable → why, and numeric ids; a missing responsible is marked; Save stores it all",
          arguments: Backend.available)
    func settings(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let (tenantId, employee) = try await tenant(sb)
            // Not installed yet: the portal's users cannot be read, and nothing leaves for the portal.
            let c = try await sb.credentials.create(tenantId: tenantId, crm: .bitrix24, name: "Портал", baseURL: "https://comagic.bitrix24.ru",
                                                    authKind: .oauth, secret: CRMSecret(login: "local.1", password: "key"))
            try await sb.buildApplication(workers: false).test(.router) { client in
                let cookie = try await cabinetSignIn(client, email: "boss@acme.ru", password: "correct horse")
                let headers = cookie + Self.formHeaders
                let csrf = try await client.execute(uri: "/cabinet", method: .get, headers: cookie) { try #require(hiddenCSRF($0.body.text)) }
                let path = try await client.execute(uri: "/cabinet/integrations", method: .post, headers: headers,
                                                    body: form(["csrf": csrf, "crm": "bitrix24"])) { try #require($0.headers[.location]) }
                let integration = try #require(try await sb.integrations.list(tenantId: tenantId).first)
                #expect(integration.crm == .bitrix24 && integration.credentialId == c.id && !integration.active)
                try await client.execute(uri: "/cabinet", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("href=\"\(path)\""))
                }
                try await client.execute(uri: path, method: .get, headers: cookie) { res in
                    #expect(res.status == .ok)
                    let html = res.body.text
                    let blocks = ["<h2>Учетные данные", "<h2>Параметры интеграции", "Интеграция активна", "Режим телефонии",
                                  "<h2>Входящие", "Переадресация на персонального менеджера", "Ответственный по-умолчанию на входящий звонок",
                                  "Назначать ответственного на", "<h2>Исходящие", "Ответственный по-умолчанию на исходящий звонок",
                                  "<h2>Прочее", "Использовать CallTracking", "utm_campaign", "Добавлять сообщение о совершенном звонке",
                                  "<h2>Сопоставления сотрудников"]
                    let at = blocks.map { html.range(of: $0)?.lowerBound }
                    #expect(at.allSatisfy { $0 != nil }, "\(zip(blocks, at).filter { $0.1 == nil }.map(\.0))")
                    #expect(zip(at, at.dropFirst()).allSatisfy { a, b in a.map { a in b.map { a < $0 } ?? false } ?? false })
                    #expect(html.contains("Использовать WebRTC виджет") && html.contains("Использовать IP телефонию"))
                    // The guide's hints beside the toggles.
                    #expect(html.contains("Поиск производится при сценарном звонке"))
                    #expect(html.contains("Пользователи Битрикс24 не прочитаны"))
                    #expect(html.contains("приложение Switchboard ещё не установлено на портале Битрикс24"))
                    #expect(html.contains("<input id=\"incoming.defaultResponsible\" name=\"incoming.defaultResponsible\" inputmode=\"numeric\""))
                }
                // The outgoing responsible is missing: marked beside its field, nothing stored, what was typed kept.
                var fields = ["csrf": csrf, "credentialId": c.id, "active": "1", "telephonyMode": "webrtc",
                              "incoming.personalManager": "1", "incoming.createEntity": "1", "incoming.defaultResponsible": "7",
                              "incoming.responsibleTalker": "last", "outgoing.defaultResponsible": "",
                              "callTracking.enabled": "1", "callTracking.tag.utm_source": "1", "callTracking.tag.utm_campaign": "1",
                              "ct.0.line": "+7 (495) 000-11-22", "ct.0.utm_source": "yandex", "ct.0.utm_campaign": "spring",
                              "ct.1.line": "", "chatMessage": "1", "callerId": "+74950000000",
                              "map.12": employee.id, "mapname.12": "Иван Петров в Битрикс24"]
                try await client.execute(uri: path, method: .post, headers: headers, body: form(fields)) { res in
                    #expect(res.status == .unprocessableContent)
                    let html = res.body.text
                    let field = try #require(html.range(of: "id=\"outgoing.defaultResponsible\""))
                    let marked = try #require(html.range(of: "выберите пользователя Битрикс24, ответственного за исходящие звонки"))
                    #expect(field.lowerBound < marked.lowerBound && html.range(of: "<h2>Прочее")!.lowerBound > marked.lowerBound)
                    #expect(!html.contains("ответственного за пропущенные входящие звонки"))
                    #expect(html.contains("value=\"yandex\"") && html.contains("value=\"7\""))
                }
                let untouched = try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id))
                #expect(!untouched.active && untouched.settings == integration.settings)
                fields["outgoing.defaultResponsible"] = "9"
                try await client.execute(uri: path, method: .post, headers: headers, body: form(fields)) { res in
                    #expect(res.status == .ok)
                    #expect(res.body.text.contains("Сохранено"))
                    #expect(res.body.text.contains("value=\"spring\""))
                }
                let saved = try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id))
                #expect(saved.active)
                let settings = try JSON.decode(B24Settings.self, from: JSON.string(saved.settings))
                #expect(settings.telephonyMode == .webrtc && settings.incoming.personalManager && settings.incoming.createEntity)
                #expect(settings.incoming.defaultResponsible == 7 && settings.incoming.responsibleTalker == .last)
                #expect(settings.outgoing.defaultResponsible == 9 && !settings.outgoing.createEntity)
                #expect(settings.callTracking.enabled && settings.callTracking.tags == ["utm_source", "utm_campaign"])
                #expect(settings.callTracking.byLine == ["74950001122": ["utm_source": "yandex", "utm_campaign": "spring"]])
                #expect(settings.chatMessage && settings.clickToCall.callerId == "+74950000000")
                #expect(settings.utmFields(line: "+74950001122") == ["UTM_SOURCE": "yandex", "UTM_CAMPAIGN": "spring"])
                let mappings = try await sb.integrations.mappings(tenantId: tenantId, integrationId: integration.id)
                #expect(mappings == [EmployeeMapping(crmUserId: "12", crmUserName: "Иван Петров в Битрикс24", employeeId: employee.id,
                                                     useForRouting: false)])
                // The mapped user keeps a row while the portal cannot be read; the page in English.
                try await client.execute(uri: path + "?lang=en", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("Integration parameters") && res.body.text.contains("Employee mapping"))
                    #expect(res.body.text.contains("id=\"map.12\"") && res.body.text.contains("Иван Петров в Битрикс24"))
                }
            }
        }
    }

    @Test("with the application installed on the sandbox portal: test, users in the selects and the mapping, lookup flag saved",
          arguments: Backend.available)
    func installed(_ backend: Backend) async throws {
        try await withB24Sandbox { wire, _ in
            try await withSwitchboard(backend) { sb in
                let (tenantId, employee) = try await tenant(sb)
                let seed = B24SandboxSeed.demo
                let c = try await sb.credentials.create(tenantId: tenantId, crm: .bitrix24, name: "", baseURL: wire.base, authKind: .oauth,
                                                        secret: CRMSecret(login: seed.client_id, password: seed.client_secret))
                try await withLiveSwitchboard(sb, workers: false) { _ in
                    let handler = try #require(sb.connectors[.bitrix24]?.credentialLinks(c)["applicationHandlerURL"])
                    _ = try await wire.steer("install", ["handler": handler])
                    #expect(try await sb.credentials.get(tenantId: tenantId, id: c.id)?.status == "ok")
                    try await sb.buildApplication(workers: false).test(.router) { client in
                        let cookie = try await cabinetSignIn(client, email: "boss@acme.ru", password: "correct horse")
                        let headers = cookie + Self.formHeaders
                        let csrf = try await client.execute(uri: "/cabinet", method: .get, headers: cookie) { try #require(hiddenCSRF($0.body.text)) }
                        try await client.execute(uri: "/cabinet/credentials/\(c.id)", method: .post, headers: headers,
                                                 body: form(["csrf": csrf, "action": "test"])) { res in
                            #expect(res.status == .ok)
                            #expect(res.body.text.contains("подключение работает: портал 127.0.0.1"))
                        }
                        let path = try await client.execute(uri: "/cabinet/integrations", method: .post, headers: headers,
                                                            body: form(["csrf": csrf, "crm": "bitrix24"])) { try #require($0.headers[.location]) }
                        try await client.execute(uri: path, method: .get, headers: cookie) { res in
                            let html = res.body.text
                            #expect(!html.contains("Пользователи Битрикс24 не прочитаны"))
                            #expect(html.contains("<select id=\"incoming.defaultResponsible\""))
                            #expect(html.contains("<option value=\"1\">Анна Смирнова (101)</option>"))
                            #expect(html.contains("id=\"map.2\"") && html.contains("id=\"route.2\""))
                            #expect(!html.contains("Уволенный"))  // a dismissed user is neither responsible nor mapped
                        }
                        try await client.execute(uri: path, method: .post, headers: headers,
                                                 body: form(["csrf": csrf, "credentialId": c.id, "incoming.defaultResponsible": "1",
                                                             "incoming.responsibleTalker": "first", "outgoing.defaultResponsible": "2",
                                                             "map.1": employee.id, "route.1": "1", "mapname.1": "Анна Смирнова", "map.2": ""])) { res in
                            #expect(res.status == .ok)
                            #expect(res.body.text.contains("<option value=\"2\" selected>Борис Иванов (102)</option>"))
                        }
                        let id = try #require(URL(string: path)?.lastPathComponent)
                        #expect(try await sb.integrations.mappings(tenantId: tenantId, integrationId: id)
                            == [EmployeeMapping(crmUserId: "1", crmUserName: "Анна Смирнова", employeeId: employee.id, useForRouting: true)])
                    }
                }
            }
        }
    }
}
