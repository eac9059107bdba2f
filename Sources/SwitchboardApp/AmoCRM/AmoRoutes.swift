import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardCRM
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// amoCRM-specific endpoints: live pipelines and users, the webhook that keeps routing fresh, and the widget's
/// click-to-call (OAuth goes through the generic flow, `OAuthService`).
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
