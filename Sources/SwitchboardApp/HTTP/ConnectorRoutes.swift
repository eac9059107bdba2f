import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardCRM
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// What every connector brings to the web: the addresses its CRM calls (registered from the registry, decision 0006
/// step 9), and the credential operations every CRM shares (test, users, addresses to paste into the CRM).
struct ConnectorRoutes {
    let sb: Switchboard

    func register(on router: Router<AppRequestContext>) {
        let host = hostServices
        for connector in sb.connectors.all {
            for endpoint in connector.inbound {
                let names = endpoint.path.split(separator: "/").filter { $0.hasPrefix(":") }.map { String($0.dropFirst()) }
                router.on(RouterPath(endpoint.path), method: HTTPRequest.Method(endpoint.method) ?? .post) { req, ctx in
                    var params: [String: String] = [:]
                    for n in names { params[n] = ctx.parameters.get(n) }
                    var headers: [String: String] = [:]
                    for f in req.headers { headers[f.name.canonicalName] = f.value }
                    var query: [String: String] = [:]
                    for (k, v) in req.uri.queryParameters { query[String(k)] = String(v) }
                    let inbound = InboundRequest(method: req.method.rawValue, params: params, query: query, headers: headers,
                                                 body: try await req.bodyBytes())
                    let answer = try await endpoint.handle(inbound, host)
                    if answer.status >= 400 {
                        ctx.logger.warning("CRM request refused", metadata: ["crm": "\(connector.kind)", "status": "\(answer.status)",
                                                                            "reason": "\(UntrustedText.loggable(answer.body, limit: 200))"])
                    }
                    return Response(status: .init(code: answer.status), headers: [.contentType: answer.contentType],
                                    body: .init(byteBuffer: ByteBuffer(string: answer.body)))
                }
            }
        }
        let v1 = router.managementAPI(sb.tenants)
        let credentials = CredentialService(sb: sb)
        let mappings = MappingService(sb: sb)
        // CORE-1 "connect" for every CRM that connects through an OAuth application (`CRMConnector.oauth`).
        let oauth = OAuthService(sb: sb)
        v1.post("credentials/:id/oauth") { req, ctx in
            guard let c = try await sb.credentials.get(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "credentials not found")
            }
            return jsonResponse(["authorizeURL": try oauth.start(c)])
        }
        router.get("oauth/:crm/callback") { req, ctx in
            let q = req.uri.queryParameters
            let connected = try await oauth.callback(crm: CRMKind(try ctx.param("crm")), code: q["code"].map(String.init),
                                                     state: q["state"].map(String.init))
            let html = "<!doctype html><meta charset=utf-8><title>Switchboard</title><p>\(esc(connected.ru))</p>" +
                "<p>\(esc(connected.en))</p>"
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        v1.post("credentials/:id/test") { req, ctx in
            let (c, connector) = try await credential(req, ctx)
            let result = try await credentials.test(c, connector)
            return jsonResponse(CheckResult(ok: result.ok, message: result.message.en), status: result.ok ? .ok : .unprocessableContent)
        }
        v1.get("credentials/:id/users") { req, ctx in
            let (c, connector) = try await credential(req, ctx)
            guard let users = connector.users else { throw APIError(.conflict, "\(connector.title) users cannot be listed yet") }
            return jsonResponse(try await Self.crmCall { try await users(c) })
        }
        v1.post("integrations/:id/employee-sync") { req, ctx in
            let t = try ctx.tenant()
            guard let integration = try await mappings.saving.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "integration not found")
            }
            return jsonResponse(try await Self.crmCall { try await mappings.sync(integration) })
        }
        v1.get("credentials/:id/links") { req, ctx in
            let (c, connector) = try await credential(req, ctx)
            return jsonResponse(connector.credentialLinks(c))
        }
    }

    func credential(_ req: Request, _ ctx: AppRequestContext) async throws -> (CRMCredential, CRMConnector) {
        try await CredentialService(sb: sb).withConnector(tenantId: try ctx.tenant(), id: try ctx.param("id"))
    }

    /// Runs CRM reads for the cabinet and the API, turning CRM failures into answers a tenant understands.
    static func crmCall<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as DeliveryError {
            switch e {
            case .retryable(let m, _): throw APIError(.badGateway, m.en)
            case .rateLimited(let m, _): throw APIError(.tooManyRequests, m.en)
            case .permanent(let m): throw APIError(.unprocessableContent, m.en)
            }
        } catch let e as APIError {
            throw e
        } catch let e as EmployeeSync.Failure {
            throw APIError(.conflict, e.description)
        } catch {
            throw APIError(.badGateway, "the CRM refused: \(error)")
        }
    }

    /// The application's side effects a connector's endpoints may ask for.
    var hostServices: HostServices { .live(sb) }
}
