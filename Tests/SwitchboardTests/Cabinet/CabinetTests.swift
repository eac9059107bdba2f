import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
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
                                                  exchanges: [Exchange(request: "POST /api/v4/leads", status: 400, response: "{}")])
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
                let csrf = try await client.execute(uri: "/cabinet/calls/\(callId)", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("amoCRM refused: pipeline 42"))
                    #expect(res.body.text.contains("POST /api/v4/leads"))
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

    @Test("sign-in attempts are limited")
    func rateLimited() async throws {
        try await withSwitchboard(.sqlite) { sb in
            let tenant = try await sb.tenants.create(name: "Acme")
            _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "boss@acme.ru", passwordHash: Passwords.hash("correct horse"))
            try await sb.buildApplication(workers: false).test(.router) { client in
                let headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: "sb_login=n"]
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
        }
    }
}

extension HTTPFields {
    static func + (a: HTTPFields, b: HTTPFields) -> HTTPFields {
        var out = a
        out.append(contentsOf: b)
        return out
    }
}
