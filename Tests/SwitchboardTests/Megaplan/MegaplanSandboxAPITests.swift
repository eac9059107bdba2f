import Foundation
import NIOHTTP1
import SwitchboardSandbox
import Testing

/// Megaplan API v3's conventions in the sandbox, over HTTP: the password and refresh grants, Bearer tokens and their
/// expiry, the `{meta, data}` envelope, error bodies and statuses, JSON query parameters, paging, outages, the limit.
@Suite("MegaplanSandbox API")
struct MegaplanSandboxAPITests {
    @Test func passwordGrantAnswersTheDocumentedTokenAndTheEnvelopeWrapsData() async throws {
        try await withMegaplanSandbox { _, base in
            let grant = try await MegaplanWire(base: base).passwordGrant("admin@demo.example", "demo-password")
            #expect(grant.status == 200)
            #expect(grant.json["token_type"] == "bearer")
            #expect(grant.json["expires_in"]?.int == 172_800)
            #expect(grant.json["scope"] == .null)
            #expect(grant.json["refresh_token"]?.string?.isEmpty == false)
            let mp = MegaplanWire(base: base, token: grant.json["access_token"]?.string)
            let employees = try await mp.get("employee")
            #expect(employees.status == 200)
            #expect(employees.meta?["status"]?.int == 200)
            #expect(employees.meta?["errors"] == [])
            #expect(employees.meta?["pagination"]?["count"]?.int == 3)
            let anna = try #require(employees.data?.array?.first)
            #expect(anna["contentType"] == "Employee")
            #expect(anna["id"] == "1000001")
            #expect(anna["contactInfo"]?.array?.contains { $0["type"] == "email" && $0["value"] == "anna@demo.example" } == true)
            // The same grant as a form and as JSON (the vendor's PHP SDK posts JSON).
            #expect(try await MegaplanWire(base: base).form([("username", "admin@demo.example"), ("password", "demo-password"),
                                                             ("grant_type", "password")]).status == 200)
            let json: MegaplanJSON = ["username": "admin@demo.example", "password": "demo-password", "grant_type": "password"]
            #expect(try await MegaplanWire(base: base).raw(.POST, "/api/v3/auth/access_token", body: json.data).status == 200)
            let me = try await mp.get("currentUser")
            #expect(me.data?["id"] == "1000001")
        }
    }

    @Test func tokenEndpointErrorsAreOAuthShaped() async throws {
        try await withMegaplanSandbox { _, base in
            let wire = MegaplanWire(base: base)
            let wrong = try await wire.passwordGrant("admin@demo.example", "nope")
            #expect(wrong.status == 400)
            #expect(wrong.json["error"] == "invalid_grant")
            #expect(wrong.json["access_token"] == nil)
            let missing = try await wire.form([("username", "admin@demo.example"), ("password", "demo-password")])
            #expect(missing.status == 400)
            #expect(missing.json["error"] == "invalid_request")
            let odd = try await wire.form([("grant_type", "client_credentials")])
            #expect(odd.json["error"] == "unsupported_grant_type")
            let badRefresh = try await wire.form([("grant_type", "refresh_token"), ("refresh_token", "made-up")])
            #expect(badRefresh.status == 400)
            #expect(badRefresh.json["error"] == "invalid_grant")
        }
    }

    @Test func missingUnknownAndExpiredTokensAre401InTheEnvelope() async throws {
        try await withMegaplanSandbox { _, base in
            let anonymous = try await MegaplanWire(base: base).get("employee")
            #expect(anonymous.status == 401)
            #expect(anonymous.meta?["status"]?.int == 401)
            #expect(anonymous.firstError?["message"]?.string?.isEmpty == false)
            #expect(try await MegaplanWire(base: base, token: "forged").get("employee").status == 401)
            let mp = try await MegaplanWire.signedIn(base)
            // The token may also ride inside the JSON query, as the docs show.
            var inQuery = MegaplanWire(base: base)
            inQuery.token = nil
            #expect(try await inQuery.get("employee", ["access_token": .string(mp.token!)]).status == 200)
            #expect(try await mp.get("employee").status == 200)
            _ = try await mp.steer("expire-tokens")
            let expired = try await mp.get("employee")
            #expect(expired.status == 401)
            #expect(expired.meta?["status"]?.int == 401)
        }
    }

    @Test func refreshGrantIssuesAWorkingTokenAndSpendsTheOldRefreshToken() async throws {
        try await withMegaplanSandbox { _, base in
            let wire = MegaplanWire(base: base)
            let first = try await wire.passwordGrant("admin@demo.example", "demo-password")
            let refresh = try #require(first.json["refresh_token"]?.string)
            _ = try await wire.steer("expire-tokens")
            let renewed = try await wire.form([("grant_type", "refresh_token"), ("refresh_token", refresh)])
            #expect(renewed.status == 200)
            #expect(renewed.json["access_token"] != first.json["access_token"])
            #expect(try await MegaplanWire(base: base, token: first.json["access_token"]?.string).get("employee").status == 401)
            #expect(try await MegaplanWire(base: base, token: renewed.json["access_token"]?.string).get("employee").status == 200)
            let again = try await wire.form([("grant_type", "refresh_token"), ("refresh_token", refresh)])
            #expect(again.status == 400)
        }
    }

    @Test func configuredAccessTokenLifetimeIsAnnounced() async throws {
        try await withMegaplanSandbox({ $0.accessTokenLifetime = 60 }) { _, base in
            let grant = try await MegaplanWire(base: base).passwordGrant("admin@demo.example", "demo-password")
            #expect(grant.json["expires_in"]?.int == 60)
        }
    }

    @Test func queryParametersAreJSONAndPagesFollowLinkEntities() async throws {
        try await withMegaplanSandbox { _, base in
            let mp = try await MegaplanWire.signedIn(base)
            let first = try await mp.get("employee", ["limit": 2])
            #expect(first.data?.array?.count == 2)
            #expect(first.meta?["pagination"]?["count"]?.int == 3)
            #expect(first.meta?["pagination"]?["limit"]?.int == 2)
            #expect(first.meta?["pagination"]?["hasMoreNext"] == true)
            let last = try #require(first.data?.array?.last?["id"])
            let second = try await mp.get("employee", ["limit": 2, "pageAfter": ["contentType": "Employee", "id": last]])
            #expect(second.data?.array?.map { $0["id"] } == ["1000003"])
            #expect(second.meta?["pagination"]?["hasMoreNext"] == false)
            let before = try await mp.get("employee", ["limit": 1, "pageBefore": ["contentType": "Employee", "id": "1000003"]])
            #expect(before.data?.array?.map { $0["id"] } == ["1000002"])
            // `?limit=2` is not Megaplan's syntax: a 422 in the envelope.
            let classic = try await mp.raw(.GET, "/api/v3/employee?limit=2")
            #expect(classic.status == 422)
            #expect(classic.meta?["status"]?.int == 422)
            #expect(try await mp.get("employee", ["limit": 0]).status == 422)
            let missing = try await mp.get("employee/42")
            #expect(missing.status == 404)
            #expect(missing.meta?["status"]?.int == 404)
        }
    }

    @Test func outageFailsTheNextRequestsThenRecovers() async throws {
        try await withMegaplanSandbox { _, base in
            let mp = try await MegaplanWire.signedIn(base)
            _ = try await mp.steer("outage", ["status": 503, "requests": 2])
            #expect(try await mp.get("employee").status == 503)
            #expect(try await mp.get("employee").status == 503)
            #expect(try await mp.get("employee").status == 200)
            _ = try await mp.steer("outage", ["status": 502, "requests": 1])
            let grant = try await MegaplanWire(base: base).passwordGrant("admin@demo.example", "demo-password")
            #expect(grant.status == 502)
            #expect(try await MegaplanWire(base: base).passwordGrant("admin@demo.example", "demo-password").status == 200)
        }
    }

    @Test func overTheLimitAnswers429AndCountsIt() async throws {
        try await withMegaplanSandbox({ $0.requestsPerHour = 2 }) { sandbox, base in
            let mp = try await MegaplanWire.signedIn(base)
            #expect(try await mp.get("employee").status == 200)
            #expect(try await mp.get("employee").status == 200)
            let limited = try await mp.get("employee")
            #expect(limited.status == 429)
            #expect(limited.meta?["status"]?.int == 429)
            #expect(sandbox.snapshot().rejected429 == 1)
        }
    }

    @Test func seedFileDefinesTheAccount() throws {
        var seed = MegaplanSandboxSeed.demo
        seed.users = [.init(username: "ops@firm.example", password: "s3cret", employeeId: "1000003")]
        seed.employees[2].internalNumber = "103"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("megaplan-seed-\(UUID().uuidString).json")
        try JSONEncoder().encode(seed).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let sandbox = try MegaplanSandbox(seedFile: file.path)
        #expect(sandbox.seed.users.map(\.username) == ["ops@firm.example"])
        #expect(sandbox.snapshot().list("CallUserConfig").compactMap { $0["internalNumber"]?.string }.sorted() == ["101", "102", "103"])
    }

    @Test func stateShowsRequestsByPath() async throws {
        try await withMegaplanSandbox { _, base in
            let mp = try await MegaplanWire.signedIn(base)
            _ = try await mp.get("employee")
            var plain = mp
            plain.token = nil
            let state = try await plain.raw(.GET, "/sandbox/state")
            #expect(state.json["requests"]?["GET /api/v3/employee"]?.int == 1)
            #expect(state.json["entities"]?["Employee"]?.array?.count == 3)
        }
    }
}
