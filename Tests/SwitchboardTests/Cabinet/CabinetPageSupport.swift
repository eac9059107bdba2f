import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// A signed-in cabinet for a CRM page's tests: the client, the session's cookie (with and without the form's content
/// type) and its CSRF token.
struct CabinetSession {
    let client: any TestClientProtocol
    let cookie: HTTPFields
    let csrf: String

    var headers: HTTPFields { cookie + [.contentType: "application/x-www-form-urlencoded"] }

    static func form(_ fields: [String: String]) -> ByteBuffer { ByteBuffer(string: FormURLEncoding.encode(fields)) }

    /// Posts a form (the CSRF token added) and hands the response to `check`.
    @discardableResult
    func post<T>(_ uri: String, _ fields: [String: String], _ check: (TestResponse) async throws -> T) async throws -> T {
        var fields = fields
        fields["csrf"] = fields["csrf"] ?? csrf
        return try await check(try await client.executeRequest(uri: uri, method: .post, headers: headers, body: Self.form(fields)))
    }

    func get<T>(_ uri: String, _ check: (TestResponse) async throws -> T) async throws -> T {
        try await check(try await client.executeRequest(uri: uri, method: .get, headers: cookie, body: nil))
    }

    /// Deletes credentials from their card and checks the way back to the CRM's tab.
    func deleteCredential(_ sb: Switchboard, _ c: CRMCredential) async throws {
        try await post("/cabinet/credentials/\(c.id)", ["action": "delete"]) { res in
            #expect(res.headers[.location] == "/cabinet/credentials?crm=\(c.crm.rawValue)")
        }
        #expect(try await sb.credentials.list(tenantId: c.tenantId, crm: c.crm).isEmpty)
    }

    /// Connects the CRM from its integration card: the settings page's path and the integration, off, on the tenant's
    /// first credentials.
    func connect(_ sb: Switchboard, tenantId: String, _ crm: CRMKind) async throws -> (path: String, integration: Integration) {
        let path = try await post("/cabinet/integrations", ["crm": crm.rawValue]) { try #require($0.headers[.location]) }
        let integration = try #require(try await sb.integrations.list(tenantId: tenantId).first { $0.crm == crm })
        let first = try await sb.credentials.list(tenantId: tenantId, crm: crm).first
        #expect(!integration.active && integration.credentialId == first?.id)
        return (path, integration)
    }
}

/// A tenant (Acme, boss@acme.ru) with an ITooLabs PBX and these employees (login, extension, name), signed in to the
/// cabinet for `body`.
func withCabinetTenant(_ sb: Switchboard, employees list: [(String, String?, String)],
                       _ body: @escaping @Sendable (String, [String: Employee], CabinetSession) async throws -> Void) async throws {
    let tenant = try await sb.tenants.create(name: "Acme")
    _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "boss@acme.ru", passwordHash: Passwords.hash("correct horse"))
    let (pbx, _) = try await sb.pbx.create(tenantId: tenant.id, name: "АТС", protocol: .itoolabs, apiURL: nil, apiKey: nil)
    var employees: [String: Employee] = [:]
    for (login, ext, name) in list {
        employees[login] = try await sb.pbx.upsertEmployee(tenantId: tenant.id, connectionId: pbx.id, login: login, extension_: ext,
                                                           name: name, email: nil, directNumber: nil)
    }
    let staff = employees
    try await sb.buildApplication(workers: false).test(.router) { client in
        let cookie = try await cabinetSignIn(client, email: "boss@acme.ru", password: "correct horse")
        let csrf = try await client.execute(uri: "/cabinet", method: .get, headers: cookie) { try #require(hiddenCSRF($0.body.text)) }
        try await body(tenant.id, staff, CabinetSession(client: client, cookie: cookie, csrf: csrf))
    }
}

/// Every text found in `html`, in this order.
func expectInOrder(_ html: String, _ texts: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    let at = texts.map { html.range(of: $0)?.lowerBound }
    #expect(at.allSatisfy { $0 != nil }, "missing: \(zip(texts, at).filter { $0.1 == nil }.map(\.0))", sourceLocation: sourceLocation)
    let found = zip(texts, at).compactMap { t, a in a.map { (t, $0) } }
    let outOfOrder = zip(found, found.dropFirst()).filter { $0.1 >= $1.1 }.map { "\($0.0) before \($1.0)" }
    #expect(outOfOrder.isEmpty, "out of order: \(outOfOrder)", sourceLocation: sourceLocation)
}
