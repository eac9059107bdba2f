import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

@Suite("Texts: the cabinet's settings pages keep the text rules")
struct TextsCabinetTests {
    @Test("saving a CRM's settings page keeps the texts block it does not edit", arguments: Backend.available)
    func saveKeepsTexts(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let tenant = try await sb.tenants.create(name: "Acme")
            _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "boss@acme.ru", passwordHash: Passwords.hash("correct horse"))
            let c = try await sb.credentials.create(tenantId: tenant.id, crm: .bitrix24, name: "Портал", baseURL: "https://comagic.bitrix24.ru",
                                                    authKind: .oauth, secret: CRMSecret(login: "local.1", password: "key"))
            let texts = try JSON.decode(JSONValue.self, from: #"{"requests":{"enabled":true,"defaultResponsible":"7","types":["callback"]}}"#)
            let integration = try await sb.integrations.create(tenantId: tenant.id, crm: .bitrix24, name: "Bitrix24", credentialId: c.id,
                                                               pbxConnectionId: nil, settings: .object(["texts": texts]))
            try await sb.buildApplication(workers: false).test(.router) { client in
                let cookie = try await cabinetSignIn(client, email: "boss@acme.ru", password: "correct horse")
                let csrf = try await client.execute(uri: "/cabinet", method: .get, headers: cookie) { try #require(hiddenCSRF($0.body.text)) }
                let fields = ["csrf": csrf, "credentialId": c.id, "active": "1", "telephonyMode": "ip", "incoming.createEntity": "1",
                              "incoming.defaultResponsible": "7", "incoming.responsibleTalker": "first", "outgoing.defaultResponsible": "9"]
                try await client.execute(uri: "/cabinet/integrations/\(integration.id)", method: .post,
                                         headers: cookie + [.contentType: "application/x-www-form-urlencoded"],
                                         body: ByteBuffer(string: FormURLEncoding.encode(fields))) { #expect($0.status == .ok) }
            }
            let saved = try #require(try await sb.integrations.get(tenantId: tenant.id, id: integration.id))
            #expect(saved.active && saved.settings["texts"] == texts)
            #expect(try JSON.decode(B24Settings.self, from: JSON.string(saved.settings)).outgoing.defaultResponsible == 9)
        }
    }
}
