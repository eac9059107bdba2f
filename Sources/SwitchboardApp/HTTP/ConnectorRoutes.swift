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
    var api: ManagementAPI { ManagementAPI(sb: sb) }

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
        let v1 = router.group("api/v1")
        v1.post("credentials/:id/test") { req, ctx in
            let (c, connector) = try await credential(req, ctx)
            guard let check = connector.check else { throw APIError(.conflict, "\(connector.title) credentials cannot be tested yet") }
            let result = await check(c)
            return jsonResponse(CheckResult(ok: result.ok, message: result.message), status: result.ok ? .ok : .unprocessableContent)
        }
        v1.get("credentials/:id/users") { req, ctx in
            let (c, connector) = try await credential(req, ctx)
            guard let users = connector.users else { throw APIError(.conflict, "\(connector.title) users cannot be listed yet") }
            return jsonResponse(try await Self.crmCall { try await users(c) })
        }
        v1.post("integrations/:id/employee-sync") { req, ctx in
            let t = try await api.tenantId(req)
            guard let integration = try await sb.integrations.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "integration not found")
            }
            return jsonResponse(try await Self.crmCall {
                try await EmployeeSync.run(integration, registry: sb.connectors, db: sb.db, vault: sb.vault)
            })
        }
        v1.get("credentials/:id/links") { req, ctx in
            let (c, connector) = try await credential(req, ctx)
            return jsonResponse(connector.credentialLinks(c))
        }
    }

    func credential(_ req: Request, _ ctx: AppRequestContext) async throws -> (CRMCredential, CRMConnector) {
        let t = try await api.tenantId(req)
        guard let c = try await sb.credentials.get(tenantId: t, id: try ctx.param("id")) else {
            throw APIError(.notFound, "credentials not found")
        }
        guard let connector = sb.connectors[c.crm] else { throw APIError(.conflict, "\(c.crm.rawValue) is not served by this installation") }
        return (c, connector)
    }

    /// Runs CRM reads for the cabinet and the API, turning CRM failures into answers a tenant understands.
    static func crmCall<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as DeliveryError {
            switch e {
            case .retryable(let m, _): throw APIError(.badGateway, m)
            case .rateLimited(let m, _): throw APIError(.tooManyRequests, m)
            case .permanent(let m): throw APIError(.unprocessableContent, m)
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
    var hostServices: HostServices {
        let sb = self.sb
        var services = HostServices(
            clickToCall: { integration, employeeId, phone in
                guard integration.active else { throw ClickToCallRefusal("the integration is switched off") }
                guard let employee = try await sb.pbx.employees(tenantId: integration.tenantId).first(where: { $0.id == employeeId }) else {
                    throw ClickToCallRefusal("the employee is not found")
                }
                let api = ManagementAPI(sb: sb)
                let connection = try await api.connectionOf(employee)
                let client = PhoneNumber.parse(phone, region: connection.region)
                guard client.e164 != nil else { throw ClickToCallRefusal("\(phone) is not a phone number") }
                let callerId = integration.clickToCall.callerId(for: employee)
                return try await api.runCommand(connection) {
                    try await $0.originate(employeeLogin: employee.login, clientNumber: client, callerId: callerId)
                }
            },
            forgetRouting: { await sb.forgetRouting(integrationId: $0) },
            integrationSaved: { await sb.integrationSaved($0) })
        services.setDND = { integration, employeeId, on in
            guard let employee = try await sb.pbx.employees(tenantId: integration.tenantId).first(where: { $0.id == employeeId }) else {
                throw ClickToCallRefusal("the employee is not found")
            }
            let api = ManagementAPI(sb: sb)
            try await api.runCommand(try await api.connectionOf(employee)) { try await $0.setDND(employeeLogin: employee.login, on: on) }
        }
        services.hangUp = { integration, callId in
            guard let call = try await sb.calls.get(tenantId: integration.tenantId, id: callId),
                  let connection = try await sb.pbx.get(tenantId: integration.tenantId, id: call.pbxConnectionId) else {
                throw ClickToCallRefusal("the call is not found")
            }
            // The PBX knows the call by its own id (the first it gave).
            try await ManagementAPI(sb: sb).runCommand(connection) { try await $0.hangup(callId: call.externalIds.first ?? call.id) }
        }
        services.dealsChanged = { try await sb.dealsChanged($0, dealIds: $1) }
        return services
    }
}
