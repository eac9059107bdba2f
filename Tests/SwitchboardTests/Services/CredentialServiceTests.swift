import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

@Suite("CredentialService: CRM credentials, the same through the API and the cabinet")
struct CredentialServiceTests {
    @Test("moving credentials to a new address without the whole secret is refused alike through the API and the cabinet; a move with it stores only what was sent", arguments: Backend.available)
    func pinning(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let tenant = try await TestTenant.make(sb)
            let service = CredentialService(sb: sb)
            let c = try await service.create(tenantId: tenant.id, crm: .megaplan, name: "MP", baseURL: "acme.megaplan.ru/",
                                             authKind: .password, secret: CRMSecret(login: "boss", password: "p-1"))
            #expect(c.baseURL == "https://acme.megaplan.ru")
            try await withBothWays(sb, tenant) { both in
                let res = try await both.api(.patch, "credentials/\(c.id)", #"{"baseURL": "other.megaplan.ru", "password": "p-2"}"#)
                #expect(res.status == .unprocessableContent)
                #expect(res.body.j["error"]?["field"]?.stringValue == "login")
                let page = try await both.form("/cabinet/credentials/\(c.id)", ["action": "save", "name": "MP", "baseURL": "other.megaplan.ru",
                                                                               "password": "p-2"])
                #expect(page.status == .unprocessableContent)
                #expect(page.body.text.contains("логин"), "the refusal is shown in Russian")
                #expect(try await sb.credentials.get(tenantId: tenant.id, id: c.id)?.baseURL == "https://acme.megaplan.ru")
                #expect(try await sb.credentials.secret(tenantId: tenant.id, id: c.id) == CRMSecret(login: "boss", password: "p-1"))

                // Staying at the address, a new password goes with the stored login; moving with both, only they are kept.
                #expect(try await both.form("/cabinet/credentials/\(c.id)", ["action": "save", "name": "MP", "baseURL": c.baseURL,
                                                                            "password": "p-3"]).status == .seeOther)
                #expect(try await sb.credentials.secret(tenantId: tenant.id, id: c.id)?.login == "boss")
                #expect(try await sb.credentials.secret(tenantId: tenant.id, id: c.id)?.password == "p-3")
                let moved = try await both.api(.patch, "credentials/\(c.id)",
                                               #"{"baseURL": "other.megaplan.ru", "login": "chief", "password": "p-4"}"#)
                #expect(moved.status == .ok && moved.body.j["baseURL"]?.stringValue == "https://other.megaplan.ru")
                #expect(try await sb.credentials.secret(tenantId: tenant.id, id: c.id) == CRMSecret(login: "chief", password: "p-4"))
            }
        }
    }

    @Test("the service hands the stored secret to the caller only while the address stays")
    func storedSecretStaysHome() async throws {
        try await withSwitchboard(.sqlite) { sb in
            let tenant = try await TestTenant.make(sb)
            let service = CredentialService(sb: sb)
            let c = try await service.create(tenantId: tenant.id, crm: .megaplan, name: "", baseURL: "acme.megaplan.ru",
                                             authKind: .password, secret: CRMSecret(login: "boss", password: "p-1"))
            var seen: [CRMSecret?] = []
            _ = try await service.update(tenantId: tenant.id, id: c.id, name: "A", baseURL: "acme.megaplan.ru") { seen.append($0); return nil }
            do {
                _ = try await service.update(tenantId: tenant.id, id: c.id, name: nil, baseURL: "other.megaplan.ru") { seen.append($0); return nil }
                Issue.record("a move without the secret was accepted")
            } catch let e as ServiceError {
                #expect(e == .invalid(field: "login", SecretMoved(field: "login").phrase))
            }
            #expect(seen == [CRMSecret(login: "boss", password: "p-1"), nil])
            do {
                _ = try await service.update(tenantId: tenant.id, id: c.id, name: nil, baseURL: "ftp://x") { _ in nil }
                Issue.record("an address the policy refuses was accepted")
            } catch let e as ServiceError {
                #expect(e.field == "baseURL")
            }
        }
    }
}
