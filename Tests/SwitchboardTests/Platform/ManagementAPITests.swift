import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

@Suite("Management API")
struct ManagementAPITests {
    @Test("health, readiness, metrics and the OpenAPI document", arguments: Backend.available)
    func operations(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            try await sb.queue.enqueue(JobSpec(tenantId: "t", partitionKey: "p", kind: "k", payload: "{}"))
            try await sb.buildApplication(workers: false).test(.router) { client in
                try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
                try await client.execute(uri: "/readyz", method: .get) { res in
                    #expect(res.status == .ok)
                    #expect(res.body.j["storage"]?.stringValue == backend.rawValue)
                }
                try await client.execute(uri: "/metrics", method: .get) { res in
                    #expect(res.status == .ok)
                    #expect(res.body.text.contains(#"switchboard_jobs{state="queued"} 1"#))
                    #expect(res.body.text.contains("switchboard_http_requests_total"))
                }
                try await client.execute(uri: "/api/v1/openapi.json", method: .get) { res in
                    #expect(res.status == .ok)
                    let doc = try res.body.json()
                    #expect(doc["openapi"]?.stringValue?.hasPrefix("3.") == true)
                    #expect(doc["paths"]?["/api/v1/credentials"] != nil)
                }
            }
        }
    }

    @Test("requests without a valid token are refused", arguments: Backend.available)
    func authRequired(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            try await sb.buildApplication(workers: false).test(.router) { client in
                try await client.execute(uri: "/api/v1/credentials", method: .get) { res in
                    #expect(res.status == .unauthorized)
                    #expect(res.body.j["error"]?["message"]?.stringValue?.contains("API token") == true)
                }
                try await client.execute(uri: "/api/v1/credentials", method: .get,
                                         headers: [.authorization: "Bearer sb_nonsense"]) { #expect($0.status == .unauthorized) }
            }
        }
    }

    @Test("credentials: create, list, edit, delete; secrets are write-only; bad input gets field errors",
          arguments: Backend.available)
    func credentialsLifecycle(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb)
            try await sb.buildApplication(workers: false).test(.router) { client in
                let id = try await client.execute(uri: "/api/v1/credentials", method: .post, headers: a.auth, body: body("""
                    {"crm":"amocrm","name":"Main","baseURL":"acme.amocrm.ru","authKind":"token","token":"long-lived-secret-token"}
                    """)) { res in
                    #expect(res.status == .created)
                    #expect(!res.body.text.contains("long-lived-secret-token"))
                    let json = try res.body.json()
                    #expect(json["baseURL"]?.stringValue == "https://acme.amocrm.ru")
                    #expect(json["hasSecret"] == .bool(true))
                    return try #require(json["id"]?.stringValue)
                }
                try await client.execute(uri: "/api/v1/credentials", method: .post, headers: a.auth, body: body("""
                    {"crm":"amocrm","baseURL":"http://acme.amocrm.ru","authKind":"token","token":"x"}
                    """)) { res in
                    #expect(res.status == .unprocessableContent)
                    #expect(res.body.j["error"]?["field"]?.stringValue == "baseURL")
                }
                try await client.execute(uri: "/api/v1/credentials", method: .post, headers: a.auth, body: body("""
                    {"crm":"megaplan","baseURL":"acme.megaplan.ru","authKind":"password","login":"admin"}
                    """)) { res in
                    #expect(res.status == .unprocessableContent)
                }
                try await client.execute(uri: "/api/v1/credentials", method: .post, headers: a.auth, body: body("""
                    {"crm":"amocrm","authKind":"token"}
                    """)) { res in
                    #expect(res.status == .badRequest)
                    #expect(res.body.j["error"]?["field"]?.stringValue == "baseURL")
                }
                try await client.execute(uri: "/api/v1/credentials/\(id)", method: .patch, headers: a.auth,
                                         body: body(#"{"name":"Renamed","token":"rotated-token"}"#)) { res in
                    #expect(res.status == .ok)
                    #expect(res.body.j["name"]?.stringValue == "Renamed")
                    #expect(!res.body.text.contains("rotated-token"))
                }
                #expect(try await sb.credentials.secret(tenantId: a.id, id: id)?.token == "rotated-token")
                try await client.execute(uri: "/api/v1/credentials?crm=amocrm", method: .get, headers: a.auth) { res in
                    #expect(!res.body.text.contains("rotated-token"))
                    guard case .array(let items) = try res.body.json() else { throw TestFailure("not an array") }
                    #expect(items.count == 1)
                }
                try await client.execute(uri: "/api/v1/credentials/\(id)", method: .delete, headers: a.auth) {
                    #expect($0.status == .noContent)
                }
                try await client.execute(uri: "/api/v1/credentials/\(id)", method: .get, headers: a.auth) {
                    #expect($0.status == .notFound)
                }
            }
        }
    }

    @Test("a token of tenant A never reads or changes tenant B's data", arguments: Backend.available)
    func tenantIsolation(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb, name: "A")
            let b = try await TestTenant.make(sb, name: "B")
            let credB = try await sb.credentials.create(tenantId: b.id, crm: .amocrm, name: "B's", baseURL: "https://b.amocrm.ru",
                                                        authKind: .token, secret: CRMSecret(token: "b-secret"))
            let (pbxB, _) = try await sb.pbx.create(tenantId: b.id, name: "B PBX", protocol: .itoolabs, apiURL: nil, apiKey: nil)
            let empB = try await sb.pbx.upsertEmployee(tenantId: b.id, connectionId: pbxB.id, login: "ivan", extension_: "101",
                                                       name: "Ivan", email: nil, directNumber: nil)
            let intB = try await sb.integrations.create(tenantId: b.id, crm: .amocrm, name: "B amo", credentialId: credB.id,
                                                        pbxConnectionId: pbxB.id)
            let jobB = try #require(try await sb.queue.enqueue(JobSpec(tenantId: b.id, partitionKey: "p", kind: "k", payload: "{}")))

            try await sb.buildApplication(workers: false).test(.router) { client in
                for uri in ["/api/v1/credentials/\(credB.id)", "/api/v1/pbx-connections/\(pbxB.id)",
                            "/api/v1/pbx-connections/\(pbxB.id)/setup", "/api/v1/pbx-connections/\(pbxB.id)/employees",
                            "/api/v1/integrations/\(intB.id)", "/api/v1/integrations/\(intB.id)/mappings",
                            "/api/v1/jobs/\(jobB)"] {
                    try await client.execute(uri: uri, method: .get, headers: a.auth) { res in
                        #expect(res.status == .notFound, "GET \(uri)")
                    }
                }
                for uri in ["/api/v1/credentials", "/api/v1/pbx-connections", "/api/v1/integrations", "/api/v1/jobs"] {
                    try await client.execute(uri: uri, method: .get, headers: a.auth) { res in
                        #expect(res.body.text == "[]", "GET \(uri)")
                    }
                }
                try await client.execute(uri: "/api/v1/credentials/\(credB.id)", method: .patch, headers: a.auth,
                                         body: body(#"{"name":"stolen"}"#)) { #expect($0.status == .notFound) }
                try await client.execute(uri: "/api/v1/credentials/\(credB.id)", method: .delete, headers: a.auth) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/v1/integrations/\(intB.id)", method: .patch, headers: a.auth,
                                         body: body(#"{"active":true}"#)) { #expect($0.status == .notFound) }
                try await client.execute(uri: "/api/v1/pbx-connections/\(pbxB.id)/employees", method: .post, headers: a.auth,
                                         body: body(#"{"login":"intruder"}"#)) { #expect($0.status == .notFound) }
                try await client.execute(uri: "/api/v1/employees/\(empB.id)", method: .delete, headers: a.auth) {
                    #expect($0.status == .notFound)
                }
                try await client.execute(uri: "/api/v1/jobs/\(jobB)/replay", method: .post, headers: a.auth) {
                    #expect($0.status == .notFound)
                }
                // A's own integration cannot point at B's credentials or PBX, nor map B's employees.
                try await client.execute(uri: "/api/v1/integrations", method: .post, headers: a.auth, body: body("""
                    {"crm":"amocrm","credentialId":"\(credB.id)"}
                    """)) { #expect($0.status == .unprocessableContent) }
                let intA = try await client.execute(uri: "/api/v1/integrations", method: .post, headers: a.auth,
                                                    body: body(#"{"crm":"amocrm"}"#)) { res in
                    #expect(res.status == .created)
                    return try #require(try res.body.json()["id"]?.stringValue)
                }
                try await client.execute(uri: "/api/v1/integrations/\(intA)/mappings", method: .put, headers: a.auth, body: body("""
                    [{"crmUserId":"1","crmUserName":"x","employeeId":"\(empB.id)","useForRouting":true}]
                    """)) { #expect($0.status == .unprocessableContent) }
            }
            #expect(try await sb.credentials.get(tenantId: b.id, id: credB.id)?.name == "B's")
            #expect(try await sb.integrations.get(tenantId: b.id, id: intB.id)?.active == false)
            #expect(try await sb.pbx.employees(tenantId: b.id).map(\.login) == ["ivan"])
        }
    }

    @Test("PBX connections, employees, integrations and mappings through the API", arguments: Backend.available)
    func configurationFlow(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb)
            try await sb.buildApplication(workers: false).test(.router) { client in
                let (pbxId, secret) = try await client.execute(uri: "/api/v1/pbx-connections", method: .post, headers: a.auth,
                                                               body: body(#"{"name":"MegaFon","protocol":"itoolabs","apiKey":"pbx-key"}"#)) { res in
                    #expect(res.status == .created)
                    let json = try res.body.json()
                    #expect(json["webhookURL"]?.stringValue?.contains("/pbx/itoolabs/") == true)
                    #expect(!res.body.text.contains("pbx-key"))
                    return (try #require(json["connection"]?["id"]?.stringValue), try #require(json["secret"]?.stringValue))
                }
                try await client.execute(uri: "/api/v1/pbx-connections/\(pbxId)/setup", method: .get, headers: a.auth) { res in
                    #expect(res.body.j["secret"]?.stringValue == secret)
                }
                try await client.execute(uri: "/api/v1/pbx-connections/\(pbxId)", method: .patch, headers: a.auth,
                                         body: body(#"{"routingDeadlineMs":50}"#)) { res in
                    #expect(res.status == .unprocessableContent)
                    #expect(res.body.j["error"]?["field"]?.stringValue == "routingDeadlineMs")
                }
                let empId = try await client.execute(uri: "/api/v1/pbx-connections/\(pbxId)/employees", method: .post, headers: a.auth,
                                                     body: body(#"{"login":"ivan","extension":"101","name":"Иван"}"#)) { res in
                    #expect(res.status == .created)
                    return try #require(try res.body.json()["id"]?.stringValue)
                }
                let intId = try await client.execute(uri: "/api/v1/integrations", method: .post, headers: a.auth, body: body("""
                    {"crm":"amocrm","pbxConnectionId":"\(pbxId)","settings":{"defaultResponsibleUserId":5,"incoming":{"tags":true}}}
                    """)) { res in
                    #expect(res.status == .created)
                    let json = try res.body.json()
                    #expect(json["active"] == .bool(false))  // CORE-2: off by default
                    return try #require(json["id"]?.stringValue)
                }
                try await client.execute(uri: "/api/v1/integrations/\(intId)/mappings", method: .put, headers: a.auth, body: body("""
                    [{"crmUserId":"555","crmUserName":"Ivan P.","employeeId":"\(empId)","useForRouting":true}]
                    """)) { res in
                    #expect(res.status == .ok)
                    guard case .array(let items) = try res.body.json() else { throw TestFailure("not an array") }
                    #expect(items.first?["crmUserId"]?.stringValue == "555")
                }
                try await client.execute(uri: "/api/v1/integrations/\(intId)", method: .patch, headers: a.auth,
                                         body: body(#"{"active":true}"#)) { res in
                    #expect(res.body.j["active"] == .bool(true))
                    #expect(res.body.j["settings"]?["incoming"]?["tags"] == .bool(true))
                }
                let newToken = try await client.execute(uri: "/api/v1/tokens", method: .post, headers: a.auth,
                                                        body: body(#"{"name":"cabinet"}"#)) { res in
                    #expect(res.status == .created)
                    return try #require(try res.body.json()["secret"]?.stringValue)
                }
                try await client.execute(uri: "/api/v1/tokens", method: .get, headers: a.auth) { res in
                    #expect(!res.body.text.contains(newToken))
                }
                try await client.execute(uri: "/api/v1/users", method: .post, headers: a.auth,
                                         body: body(#"{"email":"ops@acme.ru","password":"short"}"#)) { res in
                    #expect(res.status == .unprocessableContent)
                }
                try await client.execute(uri: "/api/v1/users", method: .post, headers: a.auth,
                                         body: body(#"{"email":"ops@acme.ru","password":"long enough"}"#)) { res in
                    #expect(res.status == .created)
                    #expect(!res.body.text.contains("long enough"))
                }
            }
        }
    }
}
