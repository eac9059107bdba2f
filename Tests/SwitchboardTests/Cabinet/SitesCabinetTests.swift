import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// Issue 14 in the cabinet: «Сайты» (a site added here works with the public API and the management API sees it),
/// «Заявки и чаты» (rules saved here are the API's, a bad rule refused beside its field, a CRM's own keys kept) and
/// «Чаты» (the workspace opened with a token the cabinet mints).
@Suite("Cabinet: sites, text rules and the workspace")
struct SitesCabinetTests {
    static func location(_ res: TestResponse) -> String { res.headers[.location] ?? "" }

    /// A tenant signed in to the cabinet, with an API token (`auth`) to see what the management API sees.
    static func withTenant(_ backend: Backend,
                           _ body: @escaping @Sendable (Switchboard, String, HTTPFields, CabinetSession) async throws -> Void) async throws {
        try await withSwitchboard(backend) { sb in
            try await withCabinetTenant(sb, employees: []) { tenantId, _, cab in
                let (_, token) = try await sb.tenants.createToken(tenantId: tenantId, name: "test")
                try await body(sb, tenantId, [.authorization: "Bearer \(token)", .contentType: "application/json"], cab)
            }
        }
    }

    @Test("a site added in the cabinet takes requests through the public API; bad origins refused beside the field; new key, delete",
          arguments: Backend.available)
    func sites(_ backend: Backend) async throws {
        try await Self.withTenant(backend) { sb, tenantId, auth, cab in
            try await cab.get("/cabinet") { res in
                #expect(res.body.text.contains("href=\"/cabinet/sites\"") && res.body.text.contains("href=\"/cabinet/workspace\""))
            }
            // A bad origin: refused, the message in Russian beside the origins field, what was typed kept, nothing stored.
            try await cab.post("/cabinet/sites", ["name": "Магазин", "origins": "shop.example/catalog", "requestTypes": "Заказ"]) { res in
                #expect(res.status == .unprocessableContent)
                let html = res.body.text
                expectInOrder(html, ["id=\"new-origins\"", "shop.example/catalog</textarea>",
                                     "«shop.example/catalog» — не адрес сайта вида https://shop.example", "id=\"new-requestTypes\""])
            }
            #expect(try await SiteService(sb: sb).list(tenantId: tenantId).isEmpty)
            try await cab.post("/cabinet/sites?lang=en", ["name": " ", "origins": ""]) { res in
                #expect(res.status == .unprocessableContent)
                expectInOrder(res.body.text, ["id=\"new-name\"", "name is 1 to 200 characters", "id=\"new-origins\""])
            }
            let added = try await cab.post("/cabinet/sites", ["name": "Магазин", "origins": "https://Shop.example/\nhttp://127.0.0.1:8080",
                                                              "requestTypes": "Заказ\nОбратный звонок"]) { res in
                #expect(res.status == .seeOther)
                return Self.location(res)
            }
            let site = try #require(try await SiteService(sb: sb).list(tenantId: tenantId).first)
            #expect(site.origins == ["https://shop.example", "http://127.0.0.1:8080"] && site.requestTypes == ["Заказ", "Обратный звонок"])
            #expect(added.hasPrefix("/cabinet/sites?added=\(site.id)"))
            try await cab.get(added) { res in
                let html = res.body.text
                #expect(html.contains("Сайт добавлен"))
                #expect(html.contains("Заявки → никуда — задайте правила интеграции · Чаты → никуда"))
                #expect(html.contains(esc("<script src=\"\(sb.baseURL)/public/v1/sites/\(site.key)/form.js\" async></script>")))
                #expect(html.contains(esc("<script src=\"\(sb.baseURL)/public/v1/sites/\(site.key)/chat.js\" async></script>")))
                #expect(html.contains("data-copy=\"s\(site.id)-form\"") && html.contains("data-copy=\"s\(site.id)-chat\""))
                #expect(html.contains("<script src=\"/cabinet/assets/cabinet.js\"></script>"))
            }
            try await cab.get("/cabinet/assets/cabinet.js") { res in
                #expect(res.status == .ok && res.body.text.contains("data-copy") && res.body.text.contains("clipboard"))
            }
            // The site works with the public API from its origin, and the management API lists it.
            let request = #"{"requestId":"c-1","type":"Заказ","name":"Ирина","phone":"+7 903 111-22-33"}"#
            try await cab.client.execute(uri: "/public/v1/sites/\(site.key)/requests", method: .post,
                                         headers: [.contentType: "application/json", .origin: "https://shop.example"], body: body(request)) { res in
                #expect(res.status == .created)
            }
            try await cab.client.execute(uri: "/public/v1/sites/\(site.key)/requests", method: .post,
                                         headers: [.contentType: "application/json", .origin: "https://evil.example"], body: body(request)) { res in
                #expect(res.status == .forbidden)
            }
            try await cab.client.execute(uri: "/api/v1/sites", method: .get, headers: auth) { res in
                let first = res.body.j.arrayValue?.first
                #expect(first?["key"]?.stringValue == site.key && first?["name"]?.stringValue == "Магазин")
            }
            try await cab.client.execute(uri: "/api/v1/texts?kind=request", method: .get, headers: auth) { res in
                #expect(res.body.j.arrayValue?.first?["name"]?.stringValue == "Ирина")
            }
            // The site's settings: a bad change refused beside its field; a good one stored.
            try await cab.post("/cabinet/sites/\(site.id)", ["action": "save", "name": "Магазин", "origins": "ftp://shop.example"]) { res in
                #expect(res.status == .unprocessableContent)
                expectInOrder(res.body.text, ["id=\"site-\(site.id)\"", "id=\"s\(site.id)-origins\"", "«ftp://shop.example» — не адрес сайта"])
            }
            try await cab.post("/cabinet/sites/\(site.id)", ["action": "save", "name": "Магазин 2", "origins": "", "requestTypes": "Вопрос"]) { res in
                #expect(res.status == .seeOther)
            }
            let changed = try #require(try await SiteService(sb: sb).get(tenantId: tenantId, id: site.id))
            #expect(changed.name == "Магазин 2" && changed.origins.isEmpty && changed.requestTypes == ["Вопрос"] && changed.key == site.key)
            // A new key: the old one is unknown at once.
            try await cab.post("/cabinet/sites/\(site.id)", ["action": "rotate"]) { res in
                #expect(Self.location(res).hasPrefix("/cabinet/sites?rotated=\(site.id)"))
            }
            let rotated = try #require(try await SiteService(sb: sb).get(tenantId: tenantId, id: site.id))
            #expect(rotated.key != site.key && rotated.key.hasPrefix("sk_"))
            try await cab.client.execute(uri: "/public/v1/sites/\(site.key)/form.js", method: .get) { #expect($0.status == .notFound) }
            try await cab.client.execute(uri: "/public/v1/sites/\(rotated.key)/form.js", method: .get) { #expect($0.status == .ok) }
            try await cab.get("/cabinet/sites") { res in
                #expect(res.body.text.contains("/public/v1/sites/\(rotated.key)/chat.js") && !res.body.text.contains(site.key))
            }
            // The API gives a new key the same way, and the cabinet shows it.
            let third = try await cab.client.execute(uri: "/api/v1/sites/\(site.id)/key", method: .post, headers: auth) { res in
                #expect(res.status == .ok)
                return try #require(res.body.j["key"]?.stringValue)
            }
            #expect(third != rotated.key)
            try await cab.get("/cabinet/sites") { res in
                #expect(res.body.text.contains("/public/v1/sites/\(third)/form.js") && !res.body.text.contains(rotated.key))
            }
            // Another tenant's site cannot be touched from here.
            let other = try await sb.tenants.create(name: "Other")
            let foreign = try await SiteService(sb: sb).create(tenantId: other.id, name: "Чужой", origins: [], requestTypes: [])
            try await cab.post("/cabinet/sites/\(foreign.id)", ["action": "delete"]) { #expect($0.status == .notFound) }
            try await cab.post("/cabinet/sites/\(site.id)", ["action": "delete", "csrf": "forged"]) { #expect($0.status == .forbidden) }
            try await cab.post("/cabinet/sites/\(site.id)", ["action": "delete"]) { #expect(Self.location($0) == "/cabinet/sites") }
            #expect(try await SiteService(sb: sb).list(tenantId: tenantId).isEmpty)
            #expect(try await SiteService(sb: sb).get(tenantId: other.id, id: foreign.id) != nil)
        }
    }

    @Test("rules saved in the cabinet are the API's, a CRM's own keys kept; a bad rule refused beside its field, in Russian and English",
          arguments: Backend.available)
    func rules(_ backend: Backend) async throws {
        try await Self.withTenant(backend) { sb, tenantId, auth, cab in
            let site = try await SiteService(sb: sb).create(tenantId: tenantId, name: "Магазин", origins: [], requestTypes: ["Заказ", "Вопрос"])
            // amoCRM's own keys in the block (pipeline, Unsorted) and a key no form knows.
            let own = #"{"requests":{"pipelineId":5,"unsorted":true},"chats":{"statusId":7},"later":{"x":1}}"#
            let integration = try await sb.integrations.create(
                tenantId: tenantId, crm: .amocrm, name: "amoCRM", credentialId: nil, pbxConnectionId: nil,
                settings: try JSON.decode(JSONValue.self, from: #"{"lines":["74950000001"],"texts":\#(own)}"#))
            let path = "/cabinet/integrations/\(integration.id)/texts"
            try await cab.get("/cabinet") { res in #expect(res.body.text.contains("href=\"\(path)\"")) }
            try await cab.get("/cabinet/integrations/\(integration.id)") { res in #expect(res.body.text.contains("href=\"\(path)\"")) }
            try await cab.get(path) { res in
                #expect(res.status == .ok)
                let html = res.body.text
                expectInOrder(html, ["Заявки и чаты", "id=\"texts.requests.enabled\"", "Магазин", "id=\"texts.requests.defaultResponsible.id\"",
                                     "id=\"texts.chats.enabled\"", "id=\"texts.chats.trigger\"", "id=\"texts.chats.contactWithoutDetails\""])
                #expect(html.contains("Типы в формах сайтов: Вопрос, Заказ"))
            }
            let good = ["texts.requests.enabled": "1", "texts.requests.sites.0": "Магазин", "texts.requests.types": "Заказ\nВопрос",
                        "texts.requests.defaultResponsible.id": "42", "texts.requests.createContact": "1", "texts.requests.createTask": "1",
                        "texts.chats.enabled": "1", "texts.chats.trigger": "tagged", "texts.chats.tags": "продажа",
                        "texts.chats.defaultResponsible.id": "43", "texts.chats.contactWithoutDetails": "1", "texts.chats.transcript": "1"]
            // Chats switched on with nobody responsible: refused beside the field, in Russian, and in English.
            var bad = good
            bad["texts.chats.defaultResponsible.id"] = ""
            try await cab.post(path, bad) { res in
                #expect(res.status == .unprocessableContent)
                expectInOrder(res.body.text, ["id=\"texts.chats.defaultResponsible.id\"",
                                              "выберите сотрудника CRM, ответственного за то, что создают чаты", "id=\"texts.chats.createContact\""])
                #expect(!res.body.text.contains("ответственного за то, что создают заявки"))
            }
            bad["texts.chats.defaultResponsible.id"] = "Анна"
            try await cab.post(path + "?lang=en", bad) { res in
                #expect(res.status == .unprocessableContent)
                expectInOrder(res.body.text, ["id=\"texts.chats.defaultResponsible.id\"", "a amoCRM user id is a number", "id=\"texts.chats.createContact\""])
            }
            let unchanged = try #require(try await sb.integrations.get(tenantId: tenantId, id: integration.id))
            #expect(unchanged.settings["texts"] == (try JSON.decode(JSONValue.self, from: own)))
            // The API refuses the same rule for the same field (among the problems of amoCRM's own settings, which this
            // page does not edit).
            try await cab.client.execute(uri: "/api/v1/integrations/\(integration.id)", method: .patch, headers: auth,
                                         body: body(#"{"settings":{"texts":{"chats":{"enabled":true}}}}"#)) { res in
                #expect(res.status == .unprocessableContent)
                let fields = res.body.j["error"]?["problems"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
                #expect(fields.contains("settings.texts.chats.defaultResponsible"))
            }

            try await cab.post(path, good) { res in
                #expect(res.status == .ok && res.body.text.contains("Сохранено"))
                #expect(res.body.text.contains("id=\"texts.chats.contactWithoutDetails\" name=\"texts.chats.contactWithoutDetails\" value=\"1\" checked"))
            }
            let settings = try await cab.client.execute(uri: "/api/v1/integrations/\(integration.id)", method: .get, headers: auth) { res in
                try #require(res.body.j["settings"])
            }
            let rules = try TextRules.of(settings: settings)
            #expect(rules.requests.enabled && rules.requests.sites == ["Магазин"] && rules.requests.types == ["Заказ", "Вопрос"])
            #expect(rules.requests.defaultResponsible == "42" && rules.requests.createContact && !rules.requests.createDeal && rules.requests.createTask)
            #expect(rules.chats.enabled && rules.chats.sites.isEmpty && rules.chats.trigger == .tagged && rules.chats.tags == ["продажа"])
            #expect(rules.chats.defaultResponsible == "43" && !rules.chats.createContact && rules.chats.contactWithoutDetails && rules.chats.transcript)
            let texts = try #require(settings["texts"])
            #expect(texts["requests"]?["pipelineId"] == .number(5) && texts["requests"]?["unsorted"] == .bool(true))
            #expect(texts["chats"]?["statusId"] == .number(7) && texts["later"] == .object(["x": .number(1)]))
            #expect(settings["lines"] == .array([.string("74950000001")]))
            // A request of the site now passes the rules; one of another type does not.
            let text = TextCommunication.sample(site: site, type: "Заказ")
            #expect(rules.wants(text, siteId: site.id, at: .requestReceived))
            #expect(!rules.wants(TextCommunication.sample(site: site, type: "Жалоба"), siteId: site.id, at: .requestReceived))
            // The sites page says where the site's requests and chats go now.
            try await cab.get("/cabinet/sites") { res in
                #expect(res.body.text.contains("Заявки → <a href=\"\(path)\">amoCRM</a> <small>(выключена)</small> · Чаты → <a href=\"\(path)\">amoCRM</a>"))
            }
            // The page reads them back.
            try await cab.get(path) { res in
                let html = res.body.text
                #expect(html.contains("name=\"texts.requests.sites.0\" value=\"Магазин\" checked"))
                #expect(html.contains("<option value=\"tagged\" selected>"))
                #expect(html.contains("name=\"texts.chats.defaultResponsible.id\" value=\"43\""))
            }
        }
    }

    @Test("a problem of a CRM's own key of the block is named on top, in Russian, with the way to the integration's page",
          arguments: Backend.available)
    func ownProblems(_ backend: Backend) async throws {
        try await Self.withTenant(backend) { sb, tenantId, _, cab in
            let integration = try await sb.integrations.create(tenantId: tenantId, crm: .megaplan, name: "Мегаплан", credentialId: nil,
                                                               pbxConnectionId: nil, settings: .object([:]))
            let path = "/cabinet/integrations/\(integration.id)/texts"
            try await cab.get("/cabinet/integrations/\(integration.id)") { res in #expect(res.body.text.contains("href=\"\(path)\"")) }
            // Megaplan makes a process for «create a deal», whose scheme is set on Megaplan's own settings page.
            try await cab.post(path, ["texts.requests.enabled": "1", "texts.requests.defaultResponsible.id": "1000001",
                                      "texts.requests.createDeal": "1"]) { res in
                #expect(res.status == .unprocessableContent)
                expectInOrder(res.body.text, ["Настройки этой CRM для заявок и чатов — на странице интеграции",
                                              "href=\"/cabinet/integrations/\(integration.id)\">Мегаплан</a></p><ul>", "выберите схему процессов Мегаплан",
                                              "(texts.requests.process.programId)", "<form method=\"post\" action=\"\(path)\""])
            }
            #expect(try await sb.integrations.get(tenantId: tenantId, id: integration.id)?.settings == .object([:]))
        }
    }

    @Test("«Чаты» opens the workspace with a short-lived token the cabinet mints, named after the signed-in operator",
          arguments: Backend.available)
    func workspace(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            try await withCabinetTenant(sb, employees: []) { tenantId, _, cab in
                let pbx = try #require(try await sb.pbx.list(tenantId: tenantId).first)
                _ = try await sb.pbx.upsertEmployee(tenantId: tenantId, connectionId: pbx.id, login: "anna", extension_: "101",
                                                    name: "Анна", email: "Boss@acme.ru", directNumber: nil)
                let location = try await cab.get("/cabinet/workspace") { res in
                    #expect(res.status == .seeOther && res.headers[.cacheControl] == "no-store")
                    return Self.location(res)
                }
                #expect(location.hasPrefix("/workspace#token=wst_") && location.hasSuffix("&name=%D0%90%D0%BD%D0%BD%D0%B0"))
                let token = String(try #require(location.split(separator: "=")[1].split(separator: "&").first))
                try await cab.client.execute(uri: "/api/v1/chats", method: .get, headers: [.authorization: "Bearer \(token)"]) { res in
                    #expect(res.status == .ok)
                }
                // It opens the chats and nothing else of the API.
                try await cab.client.execute(uri: "/api/v1/sites", method: .get, headers: [.authorization: "Bearer \(token)"]) { res in
                    #expect(res.status == .unauthorized)
                }
                try await cab.client.execute(uri: "/cabinet/workspace", method: .get) { res in
                    #expect(res.status == .seeOther && res.headers[.location] == "/cabinet/login")
                }
            }
        }
    }
}

extension TextCommunication {
    /// A request from `site` of `type`, for checking rules.
    static func sample(site: Site, type: String) -> TextCommunication {
        TextCommunication(id: "txt_1", tenantId: site.tenantId, siteId: site.id, site: site.name, kind: .request, requestType: type,
                          phone: "+79031112233", state: "received", createdAt: Date())
    }
}
