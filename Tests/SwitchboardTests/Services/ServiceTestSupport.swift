import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

/// One tenant reached both ways a change can come: the management API with its token, and the cabinet signed in as
/// the tenant's user. Services' tests make the same change each way and check the side effect happened each time.
struct BothWays {
    let client: any TestClientProtocol
    let tenant: TestTenant
    let cabinet: CabinetSession

    /// A management API request with the tenant's token.
    @discardableResult
    func api(_ method: HTTPRequest.Method, _ uri: String, _ json: String? = nil) async throws -> TestResponse {
        try await client.executeRequest(uri: "/api/v1/" + uri, method: method, headers: tenant.auth, body: json.map { ByteBuffer(string: $0) })
    }

    /// A cabinet form post (the CSRF token added).
    @discardableResult
    func form(_ uri: String, _ fields: [String: String]) async throws -> TestResponse {
        try await cabinet.post(uri, fields) { $0 }
    }
}

/// Signs a user of `tenant` in to the cabinet of a test server on `sb` and runs `body` with both ways in.
func withBothWays(_ sb: Switchboard, _ tenant: TestTenant, _ body: @escaping @Sendable (BothWays) async throws -> Void) async throws {
    let email = "user-\(UUID().uuidString.prefix(8).lowercased())@acme.ru"
    _ = try await sb.tenants.addUser(tenantId: tenant.id, email: email, passwordHash: Passwords.hash("correct horse"))
    try await sb.buildApplication(workers: false).test(.router) { client in
        let cookie = try await cabinetSignIn(client, email: email, password: "correct horse")
        let csrf = try await client.execute(uri: "/cabinet", method: .get, headers: cookie) { try #require(hiddenCSRF($0.body.text)) }
        try await body(BothWays(client: client, tenant: tenant, cabinet: CabinetSession(client: client, cookie: cookie, csrf: csrf)))
    }
}

/// The two ways in, for tests that run once per way.
enum Way: String, CaseIterable, Sendable, CustomStringConvertible {
    case api, cabinet
    var description: String { rawValue }
}
