import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// Sites, the public API sites post requests and chats to, and the jobs they cause (CORE-15).
@Suite("Texts: sites and the public API")
struct TextsAPITests {
    static func json(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

    /// An integration of `crm` switched on with `texts` as its text rules (no credentials: the jobs only queue).
    static func integration(_ sb: Switchboard, _ tenant: String, crm: CRMKind, active: Bool = true, texts: String) async throws -> Integration {
        try await sb.integrations.create(tenantId: tenant, crm: crm, name: crm.rawValue, credentialId: nil, pbxConnectionId: nil,
                                         active: active, settings: try JSON.decode(JSONValue.self, from: "{\"texts\": \(texts)}"))
    }

    @Test("sites: create with a public key and the script tag, list, change, delete; bad origins are refused by field",
          arguments: Backend.available)
    func sites(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb), b = try await TestTenant.make(sb, name: "Other")
            try await sb.buildApplication(workers: false).test(.router) { client in
                let id = try await client.execute(uri: "/api/v1/sites", method: .post, headers: a.auth, body: Self.json("""
                    {"name":"Shop","origins":["https://Shop.example/"],"requestTypes":["callback","order"]}
                    """)) { res -> String in
                    #expect(res.status == .created)
                    let site = res.body.j
                    let key = try #require(site["key"]?.stringValue)
                    #expect(key.hasPrefix("sk_"))
                    #expect(site["origins"] == .array([.string("https://shop.example")]))
                    #expect(site["formScript"]?.stringValue?.contains("/public/v1/sites/\(key)/form.js") == true)
                    return try #require(site["id"]?.stringValue)
                }
                try await client.execute(uri: "/api/v1/sites", method: .post, headers: a.auth,
                                         body: Self.json(#"{"name":"Bad","origins":["shop.example/path"]}"#)) { res in
                    #expect(res.status == .unprocessableContent)
                    #expect(res.body.j["error"]?["field"]?.stringValue == "origins")
                }
                try await client.execute(uri: "/api/v1/sites", method: .get, headers: b.auth) { res in
                    #expect(res.body.j == .array([]))
                }
                try await client.execute(uri: "/api/v1/sites/\(id)", method: .patch, headers: a.auth,
                                         body: Self.json(#"{"name":"Shop 2","origins":[]}"#)) { res in
                    #expect(res.status == .ok)
                    #expect(res.body.j["name"]?.stringValue == "Shop 2")
                    #expect(res.body.j["requestTypes"] == .array([.string("callback"), .string("order")]))
                }
                try await client.execute(uri: "/api/v1/sites/\(id)", method: .get, headers: b.auth) { #expect($0.status == .notFound) }
                try await client.execute(uri: "/api/v1/sites/\(id)", method: .delete, headers: a.auth) { #expect($0.status == .noContent) }
                try await client.execute(uri: "/api/v1/sites/\(id)", method: .get, headers: a.auth) { #expect($0.status == .notFound) }
            }
        }
    }

    @Test("a request: stored once per requestId, with its UTM; strict validation names the field; unknown keys, foreign origins refused",
          arguments: Backend.available)
    func requests(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb)
            let site = try await TextStore(db: sb.db).createSite(tenantId: a.id, name: "Shop", origins: ["https://shop.example"],
                                                                 requestTypes: ["callback", "order"])
            let path = "/public/v1/sites/\(site.key)/requests"
            let form: HTTPFields = [.contentType: "application/json"]
            try await sb.buildApplication(workers: false).test(.router) { client in
                let body = """
                    {"requestId":"r-1","type":"callback","name":"Ирина","phone":"8 (903) 111-22-33","message":"Перезвоните",
                     "page":"https://shop.example/contacts","utm":{"utm_source":"yandex","utm_campaign":"spring"}}
                    """
                let id = try await client.execute(uri: path, method: .post, headers: form, body: Self.json(body)) { res -> String in
                    #expect(res.status == .created)
                    #expect(res.body.j["duplicate"] == .bool(false))
                    return try #require(res.body.j["id"]?.stringValue)
                }
                try await client.execute(uri: path, method: .post, headers: form, body: Self.json(body)) { res in
                    #expect(res.status == .ok)
                    #expect(res.body.j["id"]?.stringValue == id && res.body.j["duplicate"] == .bool(true))
                }
                try await client.execute(uri: "/api/v1/texts/\(id)", method: .get, headers: a.auth) { res in
                    let t = res.body.j
                    #expect(t["phone"]?.stringValue == "+79031112233" && t["requestType"]?.stringValue == "callback")
                    #expect(t["utm"]?["utm_source"]?.stringValue == "yandex" && t["site"]?.stringValue == "Shop")
                }
                try await client.execute(uri: "/api/v1/texts?kind=request", method: .get, headers: a.auth) { res in
                    #expect(res.body.j.arrayValue?.count == 1)
                }
                for (bad, status, field) in [
                    (#"{"phone":"+79031112233","colour":"red"}"#, HTTPResponse.Status.badRequest, "colour"),
                    (#"{"name":"Без контактов"}"#, .unprocessableContent, "phone"),
                    (#"{"phone":"12"}"#, .unprocessableContent, "phone"),
                    (#"{"email":"not-an-address"}"#, .unprocessableContent, "email"),
                    (#"{"phone":"+79031112233","type":"complaint"}"#, .unprocessableContent, "type"),
                    (#"{"phone":"+79031112233","utm":{"utm_colour":"x"}}"#, .badRequest, "utm.utm_colour"),
                    (#"{"phone":"+79031112233","page":"javascript:alert(1)"}"#, .unprocessableContent, "page"),
                    (#"{"phone":42}"#, .badRequest, "phone"),
                ] {
                    try await client.execute(uri: path, method: .post, headers: form, body: Self.json(bad)) { res in
                        #expect(res.status == status, "\(bad)")
                        #expect(res.body.j["error"]?["field"]?.stringValue == field, "\(bad)")
                    }
                }
                try await client.execute(uri: "/public/v1/sites/sk_nobody/requests", method: .post, headers: form,
                                         body: Self.json(#"{"phone":"+79031112233"}"#)) { #expect($0.status == .notFound) }
                var foreign = form
                foreign[.origin] = "https://evil.example"
                try await client.execute(uri: path, method: .post, headers: foreign, body: Self.json(#"{"phone":"+79031112233"}"#)) { res in
                    #expect(res.status == .forbidden)
                    #expect(res.headers[.accessControlAllowOrigin] == nil)
                }
                var own = form
                own[.origin] = "https://shop.example"
                try await client.execute(uri: path, method: .post, headers: own, body: Self.json(#"{"email":"a@shop.example"}"#)) { res in
                    #expect(res.status == .created)
                    #expect(res.headers[.accessControlAllowOrigin] == "https://shop.example")
                }
                try await client.execute(uri: path, method: .post, headers: own, body: Self.json(#"{"name":"x"}"#)) { res in
                    // A refusal carries the CORS header too, so the page can read why.
                    #expect(res.status == .unprocessableContent && res.headers[.accessControlAllowOrigin] == "https://shop.example")
                }
                try await client.execute(uri: path, method: .options,
                                         headers: [.origin: "https://shop.example", .accessControlRequestMethod: "POST"]) { res in
                    #expect(res.status == .noContent)
                    #expect(res.headers[.accessControlAllowHeaders] == "Content-Type, X-Chat-Token")
                }
            }
        }
    }

    @Test("a site key's budget: 20 at once, then 429 with Retry-After before anything is read; other keys keep theirs",
          arguments: Backend.available)
    func rateLimit(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb)
            let site = try await TextStore(db: sb.db).createSite(tenantId: a.id, name: "Shop", origins: [], requestTypes: [])
            let other = try await TextStore(db: sb.db).createSite(tenantId: a.id, name: "Blog", origins: [], requestTypes: [])
            try await sb.buildApplication(workers: false).test(.router) { client in
                // Refused for their body (422) while the budget lasts; the budget refills slowly, so a burst runs out.
                var read = 0, limited = false
                while !limited && read < 200 {
                    try await client.execute(uri: "/public/v1/sites/\(site.key)/requests", method: .post,
                                             headers: [.contentType: "application/json"], body: Self.json("{}")) { res in
                        if res.status == .tooManyRequests {
                            limited = true
                            #expect(Int(res.headers[.retryAfter] ?? "") ?? 0 >= 1)
                        } else {
                            #expect(res.status == .unprocessableContent)
                            read += 1
                        }
                    }
                }
                #expect(limited && read >= 20)
                try await client.execute(uri: "/public/v1/sites/\(other.key)/requests", method: .post,
                                         headers: [.contentType: "application/json"], body: Self.json(#"{"phone":"+79031112233"}"#)) {
                    #expect($0.status == .created)
                }
            }
            #expect(try await TextStore(db: sb.db).list(tenantId: a.id).map(\.site) == ["Blog"])
        }
    }

    @Test("the budget's arithmetic: a burst, then one request per refill interval")
    func budget() {
        let limiter = SiteRateLimiter(perMinute: 30, burst: 2)
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        #expect(limiter.take("k", now: t0) == nil && limiter.take("k", now: t0) == nil)
        #expect(limiter.take("k", now: t0) == 2)
        #expect(limiter.take("other", now: t0) == nil)
        #expect(limiter.take("k", now: t0.addingTimeInterval(1)) == 1)
        #expect(limiter.take("k", now: t0.addingTimeInterval(2)) == nil)
        #expect(limiter.take("k", now: t0.addingTimeInterval(2)) == 2)
    }

    @Test("jobs: one per active integration whose text rules want the request (site, type), in the request's transaction",
          arguments: Backend.available)
    func jobsByRules(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb)
            let site = try await TextStore(db: sb.db).createSite(tenantId: a.id, name: "Shop", origins: [], requestTypes: [])
            let amo = try await Self.integration(sb, a.id, crm: .amocrm,
                                                 texts: #"{"requests":{"enabled":true,"types":["callback"],"defaultResponsible":"1"}}"#)
            _ = try await Self.integration(sb, a.id, crm: .bitrix24, texts: #"{"requests":{"enabled":false}}"#)
            _ = try await Self.integration(sb, a.id, crm: .bitrix24, active: false, texts: #"{"requests":{"enabled":true}}"#)
            let b24 = try await Self.integration(sb, a.id, crm: .bitrix24,
                                                 texts: #"{"requests":{"enabled":true,"sites":["Blog"]},"chats":{"enabled":true,"trigger":"started"}}"#)
            try await sb.buildApplication(workers: false).test(.router) { client in
                for type in ["callback", "order"] {
                    try await client.execute(uri: "/public/v1/sites/\(site.key)/requests", method: .post,
                                             headers: [.contentType: "application/json"],
                                             body: Self.json(#"{"phone":"+79031112233","type":"\#(type)"}"#)) { #expect($0.status == .created) }
                }
                // A chat: started, then finished; the Bitrix24 rules act at the start and write the transcript at the end.
                try await client.execute(uri: "/public/v1/sites/\(site.key)/chats", method: .post, headers: [.contentType: "application/json"],
                                         body: Self.json(#"{"chatId":"c1","messages":[{"text":"Здравствуйте"}]}"#)) {
                    #expect($0.status == .created)
                }
                try await client.execute(uri: "/public/v1/sites/\(site.key)/chats", method: .post, headers: [.contentType: "application/json"],
                                         body: Self.json(#"{"chatId":"c1","messages":[{"text":"Чем помочь?","author":"operator","name":"Анна"}],"finished":true}"#)) { res in
                    #expect(res.status == .ok)
                    #expect(res.body.j["status"]?.stringValue == "finished" && res.body.j["messages"] == .number(2))
                }
                try await client.execute(uri: "/public/v1/sites/\(site.key)/chats", method: .post, headers: [.contentType: "application/json"],
                                         body: Self.json(#"{"chatId":"c1","messages":[{"text":"Ещё вопрос"}]}"#)) { #expect($0.status == .conflict) }
            }
            let jobs = try await sb.queue.list(tenantId: a.id).sorted { $0.id < $1.id }
            #expect(jobs.map(\.kind) == ["amocrm.request.received", "bitrix24.chat.started", "bitrix24.chat.finished"])
            let payload = try JSON.decode(TextJobPayload.self, from: jobs[0].payload)
            #expect(payload.integrationId == amo.id && payload.event == .requestReceived)
            #expect(try JSON.decode(TextJobPayload.self, from: jobs[1].payload).integrationId == b24.id)
            let chat = try #require(try await TextStore(db: sb.db).list(tenantId: a.id, kind: .chat).first)
            #expect(chat.transcript.map(\.text) == ["Здравствуйте", "Чем помочь?"] && chat.state == "finished")
            #expect(chat.transcriptText().contains("Анна: Чем помочь?"))
        }
    }

    @Test("form.js: the site's form with its key, address and request types; an unknown key says so; the preview page posts from Switchboard's origin", arguments: Backend.available)
    func formScript(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb)
            let site = try await TextStore(db: sb.db).createSite(tenantId: a.id, name: "Shop", origins: ["https://shop.example"],
                                                                 requestTypes: ["callback"])
            try await sb.buildApplication(workers: false).test(.router) { client in
                try await client.execute(uri: "/public/v1/sites/\(site.key)/form.js", method: .get) { res in
                    #expect(res.status == .ok && res.headers[.contentType]?.hasPrefix("application/javascript") == true)
                    #expect(res.body.text.contains(#""key":"\#(site.key)""#) && res.body.text.contains(#""types":["callback"]"#))
                    #expect(res.body.text.contains("/public/v1/sites/\(site.key)/requests") && !res.body.text.contains("__CONFIG__"))
                }
                try await client.execute(uri: "/public/v1/sites/sk_nobody/form.js", method: .get) { #expect($0.status == .notFound) }
                try await client.execute(uri: "/public/v1/sites/\(site.key)/chat.js", method: .get) { res in
                    #expect(res.status == .ok && res.body.text.contains("/public/v1/sites/\(site.key)/widget/chats"))
                }
                try await client.execute(uri: "/workspace", method: .get) { res in
                    #expect(res.status == .ok && res.body.text.contains("/api/v1") && res.body.text.contains("Завершить чат"))
                }
                // The preview page carries the form, and posts from Switchboard's own origin though the site lists others.
                try await client.execute(uri: "/public/v1/sites/\(site.key)/preview", method: .get) { res in
                    #expect(res.status == .ok && res.body.text.contains("/public/v1/sites/\(site.key)/form.js\" data-target"))
                }
                try await client.execute(uri: "/public/v1/sites/\(site.key)/requests", method: .post,
                                         headers: [.contentType: "application/json", .origin: sb.baseURL],
                                         body: Self.json(#"{"phone":"+79031112233","type":"callback"}"#)) { #expect($0.status == .created) }
            }
        }
    }

    @Test("Switchboard's chat: the widget starts a chat with a token, operators answer, tag and finish it through the API; the jobs follow the rules",
          arguments: Backend.available)
    func widgetAndOperator(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb)
            let site = try await TextStore(db: sb.db).createSite(tenantId: a.id, name: "Shop", origins: ["https://shop.example"], requestTypes: [])
            _ = try await Self.integration(sb, a.id, crm: .amocrm,
                                           texts: #"{"chats":{"enabled":true,"defaultResponsible":"1","trigger":"tagged","tags":["sale"]}}"#)
            let json: HTTPFields = [.contentType: "application/json", .origin: "https://shop.example"]
            let widget = "/public/v1/sites/\(site.key)/widget/chats"
            try await sb.buildApplication(workers: false).test(.router) { client in
                let (chatId, token) = try await client.execute(uri: widget, method: .post, headers: json,
                                                               body: Self.json(#"{"text":"Есть доставка?","name":"Пётр"}"#)) { res in
                    #expect(res.status == .created && res.headers[.accessControlAllowOrigin] == "https://shop.example")
                    return (try #require(res.body.j["chatId"]?.stringValue), try #require(res.body.j["token"]?.stringValue))
                }
                var visitor = json
                visitor[HTTPField.Name("X-Chat-Token")!] = token
                var stranger = json
                stranger[HTTPField.Name("X-Chat-Token")!] = "guess"
                try await client.execute(uri: "\(widget)/\(chatId)", method: .get, headers: stranger) { #expect($0.status == .notFound) }
                try await client.execute(uri: "\(widget)/\(chatId)/messages", method: .post, headers: visitor,
                                         body: Self.json(#"{"phone":"+7 903 777-00-11"}"#)) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/v1/chats?state=open", method: .get, headers: a.auth) { res in
                    #expect(res.body.j.arrayValue?.map { $0["id"]?.stringValue } == [chatId])
                    #expect(res.body.j.arrayValue?.first?["phone"]?.stringValue == "+79037770011")
                }
                try await client.execute(uri: "/api/v1/chats/\(chatId)/messages", method: .post, headers: a.auth,
                                         body: Self.json(#"{"text":"Да, завтра.","name":"Анна"}"#)) { #expect($0.status == .ok) }
                try await client.execute(uri: "\(widget)/\(chatId)?after=1", method: .get, headers: visitor) { res in
                    #expect(res.status == .ok && res.body.j["total"] == .number(2))
                    #expect(res.body.j["messages"]?.arrayValue?.first?["text"]?.stringValue == "Да, завтра." && res.body.j["messages"]?.arrayValue?.first?["author"]?.stringValue == "operator")
                }
                try await client.execute(uri: "/api/v1/chats/\(chatId)/tags", method: .post, headers: a.auth,
                                         body: Self.json(#"{"tags":["Sale"]}"#)) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/v1/chats/\(chatId)/finish", method: .post, headers: a.auth) { res in
                    #expect(res.status == .ok && res.body.j["state"]?.stringValue == "finished")
                }
                try await client.execute(uri: "\(widget)/\(chatId)/messages", method: .post, headers: visitor,
                                         body: Self.json(#"{"text":"Ещё вопрос"}"#)) { #expect($0.status == .conflict) }
                try await client.execute(uri: "/api/v1/chats?state=open", method: .get, headers: a.auth) { #expect($0.body.j == .array([])) }
                try await client.execute(uri: "/api/v1/chats/\(chatId)/finish", method: .post, headers: a.auth) { #expect($0.status == .ok) }
            }
            // Tagged: the rules' trigger (the tag matches whatever its case); finished: the transcript. Finishing twice adds nothing.
            #expect(try await sb.queue.list(tenantId: a.id).map(\.kind).sorted() == ["amocrm.chat.finished", "amocrm.chat.tagged"])
        }
    }

    @Test("CORE-18: a workspace token opens the tenant's chats until it expires, and nothing else", arguments: Backend.available)
    func workspaceToken(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb)
            try await sb.buildApplication(workers: false).test(.router) { client in
                let token = try await client.execute(uri: "/api/v1/workspace/tokens", method: .post, headers: a.auth,
                                                     body: Self.json(#"{"minutes":60}"#)) { res -> String in
                    #expect(res.status == .created)
                    #expect(res.body.j["url"]?.stringValue?.contains("/workspace#token=wst_") == true)
                    return try #require(res.body.j["token"]?.stringValue)
                }
                try await client.execute(uri: "/api/v1/workspace/tokens", method: .post, headers: a.auth,
                                         body: Self.json(#"{"minutes":100000}"#)) { #expect($0.status == .unprocessableContent) }
                let bearer = { (t: String) -> HTTPFields in [.authorization: "Bearer \(t)", .contentType: "application/json"] }
                try await client.execute(uri: "/api/v1/chats", method: .get, headers: bearer(token)) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/v1/sites", method: .get, headers: bearer(token)) { #expect($0.status == .unauthorized) }
                let forged = token.replacingOccurrences(of: a.id, with: "ten_other")
                try await client.execute(uri: "/api/v1/chats", method: .get, headers: bearer(forged)) { #expect($0.status == .unauthorized) }
                let expired = ChatsAPI(sb: sb).workspaceToken(tenantId: a.id, expires: Date().addingTimeInterval(-1))
                try await client.execute(uri: "/api/v1/chats", method: .get, headers: bearer(expired)) { res in
                    #expect(res.status == .unauthorized && res.body.j["error"]?["message"]?.stringValue?.contains("expired") == true)
                }
            }
        }
    }

    @Test("the text rules are part of each CRM's settings: an enabled block without a responsible is refused by field")
    func settingsProblems() async throws {
        try await withSwitchboard(.sqlite) { sb in
            for kind in [CRMKind.amocrm, .bitrix24] {
                let connector = try #require(sb.connectors[kind])
                #expect(connector.texts != nil)
                let bad = try JSON.decode(JSONValue.self, from: #"{"texts":{"requests":{"enabled":true}}}"#)
                #expect(connector.settingsProblems(bad).contains { $0.field == "texts.requests.defaultResponsible" }, "\(kind)")
                let notNumber = try JSON.decode(JSONValue.self, from: #"{"texts":{"chats":{"enabled":true,"defaultResponsible":"anna"}}}"#)
                #expect(connector.settingsProblems(notNumber).contains { $0.field == "texts.chats.defaultResponsible" }, "\(kind)")
                let unreadable = try JSON.decode(JSONValue.self, from: #"{"texts":{"requests":{"enabled":"yes"}}}"#)
                #expect(connector.settingsProblems(unreadable).contains { $0.field == "texts" }, "\(kind)")
            }
        }
    }
}
