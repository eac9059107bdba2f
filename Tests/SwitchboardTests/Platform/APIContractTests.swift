import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardSimulator

/// The OpenAPI document is the API's contract: every route is in it, and every exchange of the tests keeps it
/// (`ContractCheckMiddleware`). These tests check the router against the document, and the checker itself.
@Suite("API contract")
struct APIContractTests {
    let contract = OpenAPIContract.served

    @Test("every route the router serves is in the OpenAPI document, and every documented operation is served")
    func routesAreDocumented() async throws {
        try await withSwitchboard(.sqlite) { sb in
            let served = Set(sb.makeRouter().routes.map { "\($0.method.rawValue) \(OpenAPIContract.shape($0.path.description))" }
                .filter { ContractCheckMiddleware.isChecked(route: String($0.split(separator: " ")[1])) })
            let documented = contract.operations
            #expect(served.count > 40 && served.contains("PATCH /api/v1/credentials/{}"))
            #expect(served.subtracting(documented).sorted() == [], "served but not in scripts/openapi.py")
            #expect(documented.subtracting(served).sorted() == [], "in scripts/openapi.py but not served")
        }
    }

    @Test("the check sees the exchanges of the in-process client and of a real socket")
    func checkIsInPlace() async throws {
        try await withSwitchboard(.sqlite) { sb in
            let a = try await TestTenant.make(sb)
            let inProcess = "/api/v1/pbx-connections/\(UUID().uuidString)"
            try await sb.buildApplication(workers: false).test(.router) { client in
                try await client.execute(uri: inProcess, method: .get, headers: a.auth) { #expect($0.status == .notFound) }
            }
            let overSocket = "/api/v1/integrations/\(UUID().uuidString)"
            try await withLiveSwitchboard(sb, workers: false) { base in
                let reply = try await ScenarioPlayer(baseURL: base, connectionId: "", secret: "")
                    .get(overSocket, headers: ["Authorization": "Bearer \(a.token)"])
                #expect(reply.status == 404)
            }
            let recent = ContractCheckMiddleware.recent.withLock { $0 }
            #expect(recent.contains(inProcess))
            #expect(recent.contains(overSocket))
        }
    }

    // MARK: the checker

    func exchange(_ method: String, _ route: String, _ status: Int, response: String = "", request: String = "",
                  query: [(String, String)] = [], authorized: Bool = true) -> APIExchange {
        var e = APIExchange(method: method, route: route, status: status)
        e.query = query.map { (name: $0.0, value: $0.1) }
        e.authorized = authorized
        if !request.isEmpty {
            e.requestContentType = "application/json"
            e.requestBody = Array(request.utf8)
        }
        if !response.isEmpty {
            e.responseContentType = "application/json; charset=utf-8"
            e.responseBody = Array(response.utf8)
        }
        return e
    }

    static let credential = #"{"id":"c1","tenantId":"t1","crm":"amocrm","name":"Main","baseURL":"https://acme.amocrm.ru","#
        + #""authKind":"token","status":"ok","hasSecret":true,"createdAt":"2026-01-02T03:04:05Z","updatedAt":"2026-01-02T03:04:05Z"}"#

    @Test("an exchange that keeps the document passes")
    func keepsTheContract() {
        #expect(contract.violations(exchange("GET", "/api/v1/credentials/{id}", 200, response: Self.credential)) == [])
        #expect(contract.violations(exchange("GET", "/api/v1/credentials", 200, response: "[\(Self.credential)]",
                                             query: [("crm", "amocrm")])) == [])
        #expect(contract.violations(exchange("PATCH", "/api/v1/credentials/{id}", 422,
                                             response: #"{"error":{"message":"no","field":"token"}}"#,
                                             request: #"{"nonsense":1}"#)) == [],
                "a refused request may be wrong on purpose")
        #expect(contract.violations(exchange("DELETE", "/api/v1/credentials/{id}", 204)) == [])
    }

    @Test("routes, methods and statuses the document does not list are violations")
    func undocumentedExchanges() {
        #expect(contract.violations(exchange("GET", "/api/v1/nowhere", 200, response: "{}")).count == 1)
        #expect(contract.violations(exchange("PUT", "/api/v1/credentials/{id}", 200, response: Self.credential)).count == 1)
        #expect(contract.violations(exchange("GET", "/api/v1/credentials/{id}", 418, response: "{}"))
            .contains { $0.contains("status 418 is not documented") })
    }

    @Test("response bodies are checked against their schema, read as closed")
    func responseBodies() {
        func problems(_ body: String) -> [String] { contract.violations(exchange("GET", "/api/v1/credentials/{id}", 200, response: body)) }
        #expect(problems(Self.credential.replacingOccurrences(of: #""hasSecret":true"#, with: #""hasSecret":"yes""#))
            .contains { $0.contains("response.hasSecret") })
        #expect(problems(Self.credential.replacingOccurrences(of: #""status":"ok""#, with: #""status":"fine""#))
            .contains { $0.contains("is not one of") })
        #expect(problems(Self.credential.replacingOccurrences(of: #""id":"c1","#, with: #""id":"c1","secret":"s","#))
            .contains { $0.contains("the property secret is not in the document") })
        #expect(problems(Self.credential.replacingOccurrences(of: "2026-01-02T03:04:05Z", with: "yesterday"))
            .contains { $0.contains("date-time") })
        #expect(problems("not json").contains { $0.contains("not JSON") })
        var html = exchange("GET", "/api/v1/credentials/{id}", 200, response: Self.credential)
        html.responseContentType = "text/html"
        #expect(contract.violations(html).contains { $0.contains("media type text/html") })
        #expect(contract.violations(exchange("GET", "/api/v1/credentials/{id}", 404, response: #"{"error":{}}"#))
            .contains { $0.contains("required property message") })
        #expect(contract.violations(exchange("DELETE", "/api/v1/credentials/{id}", 204, response: "{}"))
            .contains { $0.contains("has a body") })
    }

    @Test("accepted requests are checked: body, required query parameters, token")
    func acceptedRequests() {
        let create = #"{"crm":"amocrm","baseURL":"acme.amocrm.ru","authKind":"token","token":"x"}"#
        #expect(contract.violations(exchange("POST", "/api/v1/credentials", 201, response: Self.credential, request: create)) == [])
        #expect(contract.violations(exchange("POST", "/api/v1/credentials", 201, response: Self.credential,
                                             request: #"{"crm":"amocrm","authKind":"token"}"#))
            .contains { $0.contains("required property baseURL") })
        #expect(contract.violations(exchange("POST", "/api/v1/credentials", 201, response: Self.credential,
                                             request: create.replacingOccurrences(of: #""authKind":"token""#, with: #""authKind":"magic""#)))
            .contains { $0.contains("request.authKind") })
        #expect(contract.violations(exchange("POST", "/api/v1/credentials", 201, response: Self.credential,
                                             request: create.replacingOccurrences(of: "}", with: #","color":"red"}"#))) == [],
                "a route may ignore fields it does not know")
        #expect(contract.violations(exchange("POST", "/api/v1/credentials", 201, response: Self.credential))
            .contains { $0.contains("without its required body") })
        #expect(contract.violations(exchange("DELETE", "/api/v1/credentials/{id}", 204, request: "{}"))
            .contains { $0.contains("does not take") })
        #expect(contract.violations(exchange("GET", "/oauth/{crm}/callback", 200, query: [("state", "s")])).contains {
            $0.contains("required query parameter code")
        })
        #expect(contract.violations(exchange("GET", "/api/v1/credentials", 200, response: "[]", authorized: false))
            .contains { $0.contains("bearer token") })
        #expect(contract.violations(exchange("GET", "/healthz", 200, response: #"{"status":"ok"}"#, authorized: false)) == [])
    }
}
