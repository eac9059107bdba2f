import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// `/api/v1/pbx-connections` and `/api/v1/employees`: a tenant's PBX connections and their employees, through
/// `ConnectionService` (which checks and forgets cached copies).
struct PBXController {
    let connections: ConnectionService

    struct NewPBX: Decodable {
        var name: String
        var `protocol`: PBXProtocol
        var apiURL: String?
        var apiKey: String?
        var apiFlavor: String?
        var routingDeadlineMs: Int?
        var region: String?
    }

    struct PBXPatch: Decodable {
        var name: String?
        var apiURL: String?
        var apiKey: String?
        var apiFlavor: String?
        var routingDeadlineMs: Int?
        var region: String?
    }

    struct NewEmployee: Decodable {
        var login: String
        var `extension`: String?
        var name: String?
        var email: String?
        var directNumber: String?
        var hasSIP: Bool?
    }

    func register(_ api: RouterGroup<AppRequestContext>) {
        api.get("pbx-connections") { _, ctx in jsonResponse(try await connections.list(tenantId: try ctx.tenant())) }
        api.post("pbx-connections") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(NewPBX.self)
            guard connections.adapters.adapter(for: body.protocol) != nil else {
                throw APIError(.badRequest, "field protocol is invalid: Cannot initialize PBXProtocol from invalid String value "
                               + body.protocol.rawValue, field: "protocol")
            }
            let setup = try await connections.create(tenantId: t, name: body.name, protocol: body.protocol, apiURL: body.apiURL,
                                                     apiKey: body.apiKey, apiFlavor: body.apiFlavor,
                                                     routingDeadlineMs: body.routingDeadlineMs, region: body.region)
            return jsonResponse(setup, status: .created)
        }
        api.get("pbx-connections/:id") { _, ctx in
            guard let c = try await connections.get(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            return jsonResponse(c)
        }
        api.get("pbx-connections/:id/setup") { _, ctx in
            guard let setup = try await connections.setup(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            return jsonResponse(setup)
        }
        api.patch("pbx-connections/:id") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(PBXPatch.self)
            guard let c = try await connections.update(tenantId: t, id: try ctx.param("id"), name: body.name, apiURL: body.apiURL,
                                                       apiKey: body.apiKey, apiFlavor: body.apiFlavor,
                                                       routingDeadlineMs: body.routingDeadlineMs, region: body.region) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            return jsonResponse(c)
        }
        api.delete("pbx-connections/:id") { _, ctx in
            guard try await connections.delete(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            return Response(status: .noContent)
        }
        api.get("pbx-connections/:id/employees") { _, ctx in
            guard let employees = try await connections.employees(tenantId: try ctx.tenant(), connectionId: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            return jsonResponse(employees)
        }
        api.post("pbx-connections/:id/employees") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(NewEmployee.self)
            let e = try await mapStoreError {
                try await connections.saveEmployee(tenantId: t, connectionId: try ctx.param("id"), login: body.login,
                                                   extension_: body.extension, name: body.name, email: body.email,
                                                   directNumber: body.directNumber, hasSIP: body.hasSIP ?? true)
            }
            return jsonResponse(e, status: .created)
        }
        api.delete("employees/:id") { _, ctx in
            guard try await connections.deleteEmployee(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "employee not found")
            }
            return Response(status: .noContent)
        }
    }
}
