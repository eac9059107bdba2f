import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardStorage

/// `/api/v1/integrations`: a tenant's CRM integrations and their employee mappings, through `IntegrationService` and
/// `MappingService`.
struct IntegrationsController {
    let integrations: IntegrationService
    let mappings: MappingService

    struct NewIntegration: Decodable {
        var crm: CRMKind
        var name: String?
        var credentialId: String?
        var pbxConnectionId: String?
        var active: Bool?
        var settings: JSONValue?
    }

    struct IntegrationPatch: Decodable {
        var name: String?
        var credentialId: String?
        var pbxConnectionId: String?
        var active: Bool?
        var settings: JSONValue?
    }

    func register(_ api: RouterGroup<AppRequestContext>) {
        api.get("integrations") { _, ctx in jsonResponse(try await integrations.list(tenantId: try ctx.tenant())) }
        api.post("integrations") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(NewIntegration.self)
            let settings = body.settings ?? .object([:])
            guard settings.isObject else { throw APIError(.unprocessableContent, "settings must be an object", field: "settings") }
            try integrations.connectors.known(body.crm)
            let i = try await mapStoreError {
                try await integrations.create(tenantId: t, crm: body.crm, name: body.name ?? body.crm.rawValue,
                                              credentialId: body.credentialId, pbxConnectionId: body.pbxConnectionId,
                                              active: body.active ?? false, settings: settings, settingsGiven: body.settings != nil)
            }
            return jsonResponse(i, status: .created)
        }
        api.get("integrations/:id") { _, ctx in
            guard let i = try await integrations.get(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "integration not found")
            }
            return jsonResponse(i)
        }
        api.patch("integrations/:id") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(IntegrationPatch.self)
            guard var i = try await integrations.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "integration not found")
            }
            if let v = body.name { i.name = v }
            if let v = body.credentialId { i.credentialId = v.isEmpty ? nil : v }
            if let v = body.pbxConnectionId { i.pbxConnectionId = v.isEmpty ? nil : v }
            if let v = body.active { i.active = v }
            if let v = body.settings {
                guard v.isObject else { throw APIError(.unprocessableContent, "settings must be an object", field: "settings") }
                i.settings = v
            }
            let changed = i
            guard let updated = try await mapStoreError({
                try await integrations.update(changed, settingsChanged: body.settings != nil)
            }) else { throw APIError(.notFound, "integration not found") }
            return jsonResponse(updated)
        }
        api.delete("integrations/:id") { _, ctx in
            guard try await integrations.delete(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "integration not found")
            }
            return Response(status: .noContent)
        }
        api.get("integrations/:id/mappings") { _, ctx in
            guard let list = try await mappings.mappings(tenantId: try ctx.tenant(), integrationId: try ctx.param("id")) else {
                throw APIError(.notFound, "integration not found")
            }
            return jsonResponse(list)
        }
        api.put("integrations/:id/mappings") { req, ctx in
            let t = try ctx.tenant()
            let id = try ctx.param("id")
            let body = try await req.decodeJSON([EmployeeMapping].self)
            return jsonResponse(try await mapStoreError { try await mappings.replace(tenantId: t, integrationId: id, body) })
        }
    }
}
