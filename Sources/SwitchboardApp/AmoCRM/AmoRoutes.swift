import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardCRM
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// amoCRM-specific endpoints: connection test, OAuth, live pipelines and users, the webhook that keeps routing
/// fresh, and the widget's click-to-call.
struct AmoRoutes {
    let sb: Switchboard

    func register(on router: Router<AppRequestContext>) {
        let v1 = router.managementAPI(sb.tenants)
        v1.get("credentials/:id/amocrm/users") { req, ctx in
            let (_, amo) = try await amoAPI(req, ctx)
            return jsonResponse(try await crm { try await amo.users() })
        }
        v1.get("credentials/:id/amocrm/pipelines") { req, ctx in
            let (_, amo) = try await amoAPI(req, ctx)
            return jsonResponse(try await crm { try await amo.pipelines() })
        }
        v1.post("credentials/:id/oauth") { req, ctx in
            let t = try ctx.tenant()
            guard let c = try await sb.credentials.get(tenantId: t, id: try ctx.param("id")), c.crm == .amocrm else {
                throw APIError(.notFound, "amoCRM credentials not found")
            }
            guard let oauth = sb.amoOAuth else {
                throw APIError(.conflict, "this installation has no amoCRM OAuth application (SWITCHBOARD_AMOCRM_CLIENT_ID and _SECRET)")
            }
            if let refusal = AmoOAuthApp.refusal(accountURL: c.baseURL, policy: sb.config.outboundPolicy) {
                throw APIError(.unprocessableContent, refusal.en, field: "baseURL")
            }
            return jsonResponse(["authorizeURL": Self.authorizeURL(sb, oauth, c)])
        }
        router.get("oauth/amocrm/callback") { req, ctx in try await oauthCallback(req) }
        router.post("webhooks/amocrm/:integration/:key") { req, ctx in try await webhook(req, ctx) }
        router.post("integrations/amocrm/:integration/click-to-call") { req, ctx in try await clickToCall(req, ctx) }
        v1.get("integrations/:id/amocrm/widget") { req, ctx in
            let t = try ctx.tenant()
            guard let i = try await sb.integrations.get(tenantId: t, id: try ctx.param("id")), i.crm == .amocrm else {
                throw APIError(.notFound, "amoCRM integration not found")
            }
            return jsonResponse(["clickToCallURL": "\(sb.baseURL)/integrations/amocrm/\(i.id)/click-to-call",
                                 "widgetKey": widgetKey(i.id),
                                 "webhookURL": sb.amoWebhookURL(i.id)])
        }
    }

    static func authorizeURL(_ sb: Switchboard, _ oauth: AmoOAuthApp, _ c: CRMCredential) -> String {
        let state = "\(c.tenantId).\(c.id).\(sb.vault.mac("\(c.tenantId).\(c.id)", purpose: "oauth-state"))"
        return oauth.authorizeURL(accountURL: c.baseURL, state: state)
    }

    func widgetKey(_ integrationId: String) -> String { sb.vault.mac(integrationId, purpose: "amocrm-widget") }


    func crm<T: Sendable>(_ body: () async throws -> T) async throws -> T { try await ConnectorRoutes.crmCall(body) }

    func amoAPI(_ req: Request, _ ctx: AppRequestContext) async throws -> (CRMCredential, AmoAPI) {
        let t = try ctx.tenant()
        guard let c = try await sb.credentials.get(tenantId: t, id: try ctx.param("id")) else {
            throw APIError(.notFound, "credentials not found")
        }
        guard c.crm == .amocrm else { throw APIError(.unprocessableContent, "these are \(c.crm.rawValue) credentials") }
        return (c, AmoAPI(client: sb.amo.client(tenantId: t, credential: c, log: nil)))
    }

    /// CORE-1 "test" through the registry's entry.
    static func check(_ sb: Switchboard, _ c: CRMCredential) async -> (ok: Bool, message: String) {
        guard let check = sb.connectors[.amocrm]?.check else { return (false, "amoCRM is not served") }
        let result = await check(c)
        return (result.ok, result.message.en)
    }

    func oauthCallback(_ req: Request) async throws -> Response {
        let q = req.uri.queryParameters
        guard let code = q["code"].map(String.init), let state = q["state"].map(String.init) else {
            throw APIError(.badRequest, "code and state are required")
        }
        let parts = state.split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3, Hashing.constantTimeEquals(sb.vault.mac("\(parts[0]).\(parts[1])", purpose: "oauth-state"), parts[2]) else {
            throw APIError(.badRequest, "the state does not match: start the connection again")
        }
        guard let credential = try await sb.credentials.get(tenantId: parts[0], id: parts[1]),
              let oauth = sb.amoOAuth else {
            throw APIError(.notFound, "credentials not found")
        }
        if let refusal = AmoOAuthApp.refusal(accountURL: credential.baseURL, policy: sb.config.outboundPolicy) {
            throw APIError(.unprocessableContent, refusal.en)
        }
        let secret: CRMSecret
        do {
            secret = try await AmoClient.exchangeCode(code, accountURL: credential.baseURL, oauth: oauth, http: sb.outbound)
        } catch {
            try await sb.credentials.setStatus(tenantId: credential.tenantId, id: credential.id, status: .failed,
                                               detail: CRMFailure.phrase(of: error))
            // amoCRM refusing the code (expired, used, made up) is the request's fault, not a failing gateway.
            if case .permanent(let why)? = error as? DeliveryError {
                throw APIError(.badRequest, "amoCRM did not accept the authorization: \(why); start the connection again")
            }
            throw APIError(.badGateway, "amoCRM did not accept the authorization: \(error)")
        }
        _ = try await sb.credentials.update(tenantId: credential.tenantId, id: credential.id, name: nil, baseURL: nil, secret: secret)
        try await sb.credentials.storeRefreshed(tenantId: credential.tenantId, id: credential.id, secret: nil, status: "ok", detail: nil)
        let html = "<!doctype html><meta charset=utf-8><title>Switchboard</title><p>amoCRM подключена. Можно закрыть это окно.</p>" +
            "<p>amoCRM is connected. You may close this window.</p>"
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// amoCRM's webhooks (contact responsible changed): every instance's routing cache forgets what it knew.
    /// They are unsigned, so the URL carries a key only Switchboard can make.
    func webhook(_ req: Request, _ ctx: AppRequestContext) async throws -> Response {
        let id = try ctx.param("integration")
        guard Hashing.constantTimeEquals(try ctx.param("key"), sb.amoWebhookKey(id)) else {
            throw APIError(.unauthorized, "unknown webhook key")
        }
        let body = String(decoding: try await req.bodyBytes(), as: UTF8.self)
        let fields = FormURLEncoding.decode(body)
        ctx.logger.info("amoCRM webhook", metadata: ["integration": "\(id)", "keys": "\(fields.keys.sorted().prefix(5).map { UntrustedText.loggable($0, limit: 60) })"])
        await sb.forgetRouting(integrationId: id)
        // CORE-16: added or changed leads are read and kept in Raw data → Deals.
        let leads = AmoConnector.leadIds(inWebhook: fields)
        if !leads.isEmpty, let integration = try await sb.integrations.find(id: id), integration.active {
            try await sb.dealsChanged(integration, dealIds: leads)
        }
        return jsonResponse(["ok": "true"])
    }

    /// The amoCRM widget's click on a number: the PBX calls the employee mapped to the amoCRM user, then the client.
    func clickToCall(_ req: Request, _ ctx: AppRequestContext) async throws -> Response {
        let id = try ctx.param("integration")
        struct Click: Decodable { var phone: String; var amo_user_id: Int; var key: String }
        let click = try await req.decodeJSON(Click.self)
        guard Hashing.constantTimeEquals(click.key, widgetKey(id)) else { throw APIError(.unauthorized, "unknown widget key") }
        guard let integration = try await sb.integrations.find(id: id), integration.active else {
            throw APIError(.conflict, "the integration is switched off")
        }
        let unmapped = APIError(.unprocessableContent, "amoCRM user \(click.amo_user_id) is not mapped to an employee")
        guard let mapping = try await sb.integrations.mappings(tenantId: integration.tenantId, integrationId: id)
                .first(where: { $0.crmUserId == String(click.amo_user_id) }) else { throw unmapped }
        let pbxCallId: String?
        do {
            pbxCallId = try await ClickToCallService(sb: sb).originate(for: integration, employeeId: mapping.employeeId, phone: click.phone)
        } catch ClickToCallService.Refusal.noEmployee {
            throw unmapped
        } catch ClickToCallService.Refusal.notAPhone {
            throw APIError(.unprocessableContent, "not a phone number", field: "phone")
        }
        return jsonResponse(["status": "calling", "pbxCallId": pbxCallId ?? ""], status: .accepted)
    }
}

struct CheckResult: Encodable {
    var ok: Bool
    var message: String
}
