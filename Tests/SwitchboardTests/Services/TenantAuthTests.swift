import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

@Suite("TenantAuthMiddleware: the /api/v1 groups' tenant, resolved once per request")
struct TenantAuthTests {
    @Test("every /api/v1 group answers a missing or unknown token with the same 401s; the OpenAPI document needs none; a route's own checks that come before the tenant still answer first")
    func answers() async throws {
        try await withSwitchboard(.sqlite) { sb in
            let tenant = try await TestTenant.make(sb)
            try await sb.buildApplication(workers: false).test(.router) { client in
                // One route of each group behind the middleware: management, credentials' connector routes, deals.
                for uri in ["/api/v1/pbx-connections", "/api/v1/credentials/x/links", "/api/v1/deals", "/api/v1/sites"] {
                    try await client.execute(uri: uri, method: .get) { res in
                        #expect(res.status == .unauthorized, "\(uri)")
                        #expect(res.body.j["error"]?["message"]?.stringValue == "an API token is required: Authorization: Bearer <token>")
                    }
                    try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer sb_nonsense"]) { res in
                        #expect(res.status == .unauthorized, "\(uri)")
                        #expect(res.body.j["error"]?["message"]?.stringValue == "the API token is not valid")
                    }
                }
                try await client.execute(uri: "/api/v1/openapi.json", method: .get, headers: [.authorization: "Bearer sb_nonsense"]) {
                    #expect($0.status == .ok)
                }
                // The query is read before the tenant: an unknown CRM is a 400 even without a token.
                try await client.execute(uri: "/api/v1/credentials?crm=nope", method: .get) { #expect($0.status == .badRequest) }
                try await client.execute(uri: "/api/v1/pbx-connections", method: .get, headers: tenant.auth) { #expect($0.status == .ok) }
            }
        }
    }
}
