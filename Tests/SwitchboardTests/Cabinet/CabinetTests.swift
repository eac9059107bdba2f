import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardPBX
import SwitchboardSimulator
import SwitchboardStorage

/// Pulls `name=value` out of a response's Set-Cookie.
func setCookie(_ res: TestResponse, _ name: String) -> String? {
    guard let header = res.headers[.setCookie], header.hasPrefix(name + "=") else { return nil }
    return String(header.dropFirst(name.count + 1).prefix { $0 != ";" })
}

func hiddenCSRF(_ html: String) -> String? {
    guard let r = html.range(of: "name=\"csrf\" value=\"") else { return nil }
    return String(html[r.upperBound...].prefix { $0 != "\"" })
}

@Suite("Cabinet: sign-in, sessions, CSRF and pages")
struct CabinetTests {
    func form(_ fields: [String: String]) -> ByteBuffer {
        ByteBuffer(string: FormURLEncoding.encode(fields))
    }

    @Test("sign in, see the journal with what was done in the CRM, retry a dead job, sign out", arguments: Backend.available)
    func flow(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let tenant = try await sb.tenants.create(name: "Acme")
            _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "boss@acme.ru", passwordHash: Passwords.hash("correct horse"))
            let other = try await sb.tenants.create(name: "Other")
            let fx = try await PBXFixture.make(sb)  // another tenant's PBX and call must stay invisible
            _ = other
            try await sb.buildApplication(workers: false).test(.router) { client in
                // Not signed in: the pages send you to the sign-in form.
                try await client.execute(uri: "/cabinet/calls", method: .get) { #expect($0.status == .seeOther) }
                let (nonce, csrfField) = try await client.execute(uri: "/cabinet/login", method: .get) { res in
                    #expect(res.body.text.contains("<label for=\"email\">"))
                    return (setCookie(res, "sb_login"), hiddenCSRF(res.body.text))
                }
                let loginCookie = try #require(nonce)
                #expect(csrfField == loginCookie)
                // A form without the matching token is refused.
                try await client.execute(uri: "/cabinet/login", method: .post,
                                         headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "sb_login=\(loginCookie)"],
                                         body: form(["csrf": "forged", "email": "boss@acme.ru", "password": "correct horse"])) {
                    #expect($0.status == .forbidden)
                }
                try await client.execute(uri: "/cabinet/login", method: .post,
                                         headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "sb_login=\(loginCookie)"],
                                         body: form(["csrf": loginCookie, "email": "boss@acme.ru", "password": "wrong"])) { res in
                    #expect(res.status == .unauthorized)
                    #expect(res.body.text.contains("Неверная почта или пароль"))
                }
                let session = try await client.execute(uri: "/cabinet/login", method: .post,
                                                       headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "sb_login=\(loginCookie)"],
                                                       body: form(["csrf": loginCookie, "email": "BOSS@acme.ru", "password": "correct horse"])) { res in
                    #expect(res.status == .seeOther)
                    #expect(res.headers[.setCookie]?.contains("HttpOnly") == true && res.headers[.setCookie]?.contains("SameSite=Lax") == true)
                    return try #require(setCookie(res, "sb_session"))
                }
                let cookie: HTTPFields = [.cookie: "sb_session=\(session)"]

                // A call of this tenant with a dead CRM job; the other tenant's call stays out.
                let (mine, _) = try await sb.pbx.create(tenantId: tenant.id, name: "Моя АТС", protocol: .itoolabs, apiURL: nil, apiKey: nil)
                for (c, t) in [(mine, tenant.id), (fx.connection, fx.tenant.id)] {
                    let outcome = try await sb.db.transaction { tx in
                        try await sb.calls.ingest(CallEvent(key: UUID().uuidString, kind: .legRinging, providerType: "INCOMING",
                                                            externalCallId: "x-\(t)", occurredAt: Date(), direction: .inbound,
                                                            clientNumberRaw: t == tenant.id ? "79101112233" : "79990000000",
                                                            employeeLogin: "ivan"),
                                                  raw: "{}", tenantId: t, connectionId: c.id, region: "RU", in: tx)
                    }
                    if t == tenant.id {
                        let jobId = try #require(try await sb.queue.enqueue(JobSpec(tenantId: t, partitionKey: "crm:x", kind: "amocrm.call.finished",
                                                                                    payload: "{}", callId: outcome.call.id)))
                        let claimed = try await sb.queue.claim(worker: "w", limit: 1, lease: .seconds(30))
                        try await sb.queue.finish(claimed[0], worker: "w", startedAt: Date(), result: .dead(reason: "amoCRM refused: pipeline 42"),
                                                  exchanges: [Exchange(request: "", note: AmoReason.taskForAnswerer.phrase.en,
                                                                       phrase: AmoReason.taskForAnswerer.phrase),
                                                              Exchange(request: "POST /api/v4/leads", status: 400, response: "{}")])
                        #expect(claimed[0].id == jobId)
                    }
                }
                let calls = try await sb.calls.list(tenantId: tenant.id)
                let callId = try #require(calls.first?.id)
                try await client.execute(uri: "/cabinet/calls", method: .get, headers: cookie) { res in
                    #expect(res.status == .ok)
                    #expect(res.body.text.contains("+79101112233"))
                    #expect(!res.body.text.contains("+79990000000"))
                }
                try await client.execute(uri: "/cabinet/calls?number=0000&lang=en", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("No calls found"))
                }
                try await client.execute(uri: "/cabinet/calls/\(callId)?lang=en", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("task for the employee who answered"))
                }
                let csrf = try await client.execute(uri: "/cabinet/calls/\(callId)", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("amoCRM refused: pipeline 42"))
                    #expect(res.body.text.contains("POST /api/v4/leads"))
                    // The engine's English notes read in the page's language.
                    #expect(res.body.text.contains("задача сотруднику, принявшему звонок"))
                    #expect(res.body.text.contains("amoCRM: звонок завершён"))
                    return try #require(hiddenCSRF(res.body.text))
                }
                let job = try #require(try await sb.queue.list(tenantId: tenant.id, state: .dead).first)
                try await client.execute(uri: "/cabinet/jobs/\(job.id)/retry", method: .post,
                                         headers: cookie + [.contentType: "application/x-www-form-urlencoded"],
                                         body: form(["csrf": "nope"])) { #expect($0.status == .forbidden) }
                try await client.execute(uri: "/cabinet/jobs/\(job.id)/retry", method: .post,
                                         headers: cookie + [.contentType: "application/x-www-form-urlencoded"],
                                         body: form(["csrf": csrf])) { #expect($0.status == .seeOther) }
                #expect(try await sb.queue.get(tenantId: tenant.id, id: job.id)?.state == .queued)
                try await client.execute(uri: "/cabinet/pbx", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("Моя АТС") && res.body.text.contains("/pbx/itoolabs/\(mine.id)"))
                    #expect(!res.body.text.contains(fx.secret))
                }
                try await client.execute(uri: "/cabinet", method: .get, headers: cookie) { res in
                    #expect(res.status == .ok)
                    for crm in ["amoCRM", "Bitrix24", "Мегаплан", "МойСклад"] { #expect(res.body.text.contains(crm)) }
                }
                // "Connect" makes the amoCRM integration, switched off until the tenant switches it on.
                try await client.execute(uri: "/cabinet/integrations", method: .post,
                                         headers: cookie + [.contentType: "application/x-www-form-urlencoded"],
                                         body: form(["csrf": csrf, "crm": "amocrm"])) { res in
                    #expect(res.status == .seeOther)
                    #expect(res.headers[.location]?.hasPrefix("/cabinet/integrations/int_") == true)
                }
                let created = try await sb.integrations.list(tenantId: tenant.id)
                #expect(created.count == 1 && created[0].crm == .amocrm && !created[0].active)
                try await client.execute(uri: "/cabinet/logout", method: .post,
                                         headers: cookie + [.contentType: "application/x-www-form-urlencoded"], body: form(["csrf": csrf])) {
                    #expect($0.status == .seeOther)
                }
                try await client.execute(uri: "/cabinet/calls", method: .get, headers: cookie) { #expect($0.status == .seeOther) }
            }
        }
    }

    @Test("sign-in attempts are limited, on every instance; the limit's keys are stored hashed", arguments: Backend.available)
    func rateLimited(_ backend: Backend) async throws {
        let storage = try await TestStorage.make(backend)
        let a = try await Switchboard.open(config: storage.config, logger: testLogger())
        let tenant = try await a.tenants.create(name: "Acme")
        _ = try await a.tenants.addUser(tenantId: tenant.id, email: "boss@acme.ru", passwordHash: Passwords.hash("correct horse"))
        let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "sb_login=n"]
        try await a.buildApplication(workers: false).test(.router) { client in
            for _ in 0..<5 {
                try await client.execute(uri: "/cabinet/login", method: .post, headers: headers,
                                         body: form(["csrf": "n", "email": "boss@acme.ru", "password": "guess"])) {
                    #expect($0.status == .unauthorized)
                }
            }
            // Even the right password waits now.
            try await client.execute(uri: "/cabinet/login", method: .post, headers: headers,
                                     body: form(["csrf": "n", "email": "boss@acme.ru", "password": "correct horse"])) {
                #expect($0.status == .tooManyRequests)
            }
        }
        let stored = try await a.db.read { try await $0.query("SELECT key_hash FROM signin_failures", []) }
        #expect(stored.count == 10 && !stored.contains { ($0.string("key_hash") ?? "").contains("acme") })
        if backend == .postgres {
            // Another instance on the same database refuses too.
            let b = try await Switchboard.open(config: storage.config, logger: testLogger())
            try await b.buildApplication(workers: false).test(.router) { client in
                try await client.execute(uri: "/cabinet/login", method: .post, headers: headers,
                                         body: form(["csrf": "n", "email": "BOSS@acme.ru", "password": "correct horse"])) {
                    #expect($0.status == .tooManyRequests)
                }
            }
            await b.shutdown()
        }
        await a.shutdown()
        await storage.cleanUp()
    }
}

extension HTTPFields {
    static func + (a: HTTPFields, b: HTTPFields) -> HTTPFields {
        var out = a
        out.append(contentsOf: b)
        return out
    }
}

/// Signs a cabinet user in through the form, as a browser does; returns the session cookie header.
func cabinetSignIn(_ client: some TestClientProtocol, email: String, password: String) async throws -> HTTPFields {
    let nonce = try await client.execute(uri: "/cabinet/login", method: .get) { try #require(setCookie($0, "sb_login")) }
    let session = try await client.execute(uri: "/cabinet/login", method: .post,
                                           headers: [.contentType: "application/x-www-form-urlencoded", .cookie: "sb_login=\(nonce)"],
                                           body: ByteBuffer(string: FormURLEncoding.encode(["csrf": nonce, "email": email, "password": password]))) {
        try #require(setCookie($0, "sb_session"))
    }
    return [.cookie: "sb_session=\(session)"]
}

@Suite("Cabinet: the PBX page")
struct PBXPageTests {
    @Test("add a PBX connection, change it, add, import and remove employees; bad input is explained", arguments: Backend.available)
    func pbxPage(_ backend: Backend) async throws {
        let pbx = SimulatedPBXServer(key: "pbx-key", accounts: [PBXAccount(login: "olga", name: "Ольга", extension: "104", email: "olga@acme.ru"),
                                                              PBXAccount(login: "ivan", name: "Иван Петров", extension: "101")])
        try await withLiveApplication({ pbx.application(logger: testLogger(), onRunning: $0) }) { pbxBase in
            try await withSwitchboard(backend) { sb in
                let tenant = try await sb.tenants.create(name: "Acme")
                _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "boss@acme.ru", passwordHash: Passwords.hash("correct horse"))
                try await sb.buildApplication(workers: false).test(.router) { client in
                    let cookie = try await cabinetSignIn(client, email: "boss@acme.ru", password: "correct horse")
                    let csrf = try await client.execute(uri: "/cabinet/pbx", method: .get, headers: cookie) { res in
                        #expect(res.body.text.contains("Новое подключение АТС"))
                        return try #require(hiddenCSRF(res.body.text))
                    }
                    let post: HTTPFields = cookie + [.contentType: "application/x-www-form-urlencoded"]
                    func send(_ uri: String, _ fields: [String: String]) async throws -> TestResponse {
                        try await client.execute(uri: uri, method: .post, headers: post,
                                                 body: ByteBuffer(string: FormURLEncoding.encode(fields.merging(["csrf": csrf]) { a, _ in a })))
                    }
                    // Bad input: a message, nothing stored.
                    var res = try await send("/cabinet/pbx", ["name": "", "protocol": "itoolabs"])
                    #expect(res.status == .unprocessableContent && res.body.text.contains("Укажите название"))
                    res = try await send("/cabinet/pbx", ["name": "Офис", "protocol": "itoolabs", "routingDeadlineMs": "50"])
                    #expect(res.status == .unprocessableContent && res.body.text.contains("от 100 до 10000"))
                    res = try await send("/cabinet/pbx", ["name": "Офис", "apiURL": "pbx without scheme"])
                    #expect(res.status == .unprocessableContent)
                    #expect(try await sb.pbx.list(tenantId: tenant.id).isEmpty)
                    // A forged form is refused.
                    res = try await client.execute(uri: "/cabinet/pbx", method: .post, headers: post,
                                                   body: ByteBuffer(string: FormURLEncoding.encode(["csrf": "forged", "name": "X"])))
                    #expect(res.status == .forbidden)

                    res = try await send("/cabinet/pbx", ["name": "Офис", "protocol": "itoolabs", "routingDeadlineMs": "1200"])
                    #expect(res.status == .seeOther)
                    let created = try #require(try await sb.pbx.list(tenantId: tenant.id).first)
                    #expect(created.name == "Офис" && created.routingDeadlineMs == 1200 && !created.hasAPIKey)
                    // Import needs the API address and key first.
                    res = try await send("/cabinet/pbx/\(created.id)", ["action": "import"])
                    #expect(res.status == .conflict && res.body.text.contains("адрес API АТС"))
                    res = try await send("/cabinet/pbx/\(created.id)", ["action": "save", "name": "Офис на Тверской", "apiURL": pbxBase,
                                                                      "apiKey": "pbx-key", "apiFlavor": "legacy", "routingDeadlineMs": "1500"])
                    #expect(res.status == .seeOther)
                    let saved = try #require(try await sb.pbx.get(tenantId: tenant.id, id: created.id))
                    #expect(saved.name == "Офис на Тверской" && saved.apiURL == pbxBase && saved.hasAPIKey)
                    #expect(try await sb.pbx.apiKey(connectionId: created.id) == "pbx-key")
                    res = try await send("/cabinet/pbx/\(created.id)", ["action": "import"])
                    #expect(res.status == .ok && res.body.text.contains("Загружено сотрудников: 2"))
                    res = try await send("/cabinet/pbx/\(created.id)", ["action": "employee", "login": "anna", "employeeName": "Анна",
                                                                      "extension": "102"])
                    #expect(res.status == .seeOther)
                    res = try await send("/cabinet/pbx/\(created.id)", ["action": "employee", "login": " "])
                    #expect(res.status == .unprocessableContent)
                    var employees = try await sb.pbx.employees(tenantId: tenant.id, connectionId: created.id)
                    #expect(Set(employees.map(\.login)) == ["olga", "ivan", "anna"])
                    #expect(employees.first { $0.login == "olga" }?.email == "olga@acme.ru")
                    // The page shows them, with the address and token to paste into the PBX; the API key never.
                    try await client.execute(uri: "/cabinet/pbx", method: .get, headers: cookie) { res in
                        #expect(res.body.text.contains("Иван Петров") && res.body.text.contains("/pbx/itoolabs/\(created.id)"))
                        #expect(!res.body.text.contains("pbx-key"))
                    }
                    let ivan = try #require(employees.first { $0.login == "ivan" })
                    res = try await send("/cabinet/employees/\(ivan.id)/delete", [:])
                    #expect(res.status == .seeOther)
                    employees = try await sb.pbx.employees(tenantId: tenant.id, connectionId: created.id)
                    #expect(Set(employees.map(\.login)) == ["olga", "anna"])
                    // Another tenant's connection cannot be touched.
                    let other = try await sb.tenants.create(name: "Other")
                    let (theirs, _) = try await sb.pbx.create(tenantId: other.id, name: "Чужая", protocol: .itoolabs, apiURL: nil, apiKey: nil)
                    res = try await send("/cabinet/pbx/\(theirs.id)", ["action": "delete"])
                    #expect(res.status == .notFound)
                    #expect(try await sb.pbx.get(tenantId: other.id, id: theirs.id) != nil)
                    res = try await send("/cabinet/pbx/\(created.id)", ["action": "delete"])
                    #expect(res.status == .seeOther)
                    #expect(try await sb.pbx.list(tenantId: tenant.id).isEmpty)
                }
            }
        }
    }
}
