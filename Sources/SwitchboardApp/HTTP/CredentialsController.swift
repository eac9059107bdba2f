import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// `/api/v1/credentials`: a tenant's CRM credentials (CORE-1), through `CredentialService`. Secrets are write-only.
struct CredentialsController {
    let credentials: CredentialService

    struct NewCredential: Decodable {
        var crm: CRMKind
        var name: String?
        var baseURL: String
        var authKind: CRMAuthKind
        var login: String?
        var password: String?
        var token: String?
        /// An OAuth application of the tenant's own (a local application's code and key); kept as login and password.
        var clientId: String?
        var clientSecret: String?
    }

    struct CredentialPatch: Decodable {
        var name: String?
        var baseURL: String?
        var login: String?
        var password: String?
        var token: String?
        var clientId: String?
        var clientSecret: String?
    }

    func register(_ api: RouterGroup<AppRequestContext>) {
        api.get("credentials") { req, ctx in
            var crm: CRMKind?
            if let v = try req.query("crm") {
                crm = CRMKind(v)
                try credentials.connectors.known(CRMKind(v))
            }
            return jsonResponse(try await credentials.list(tenantId: try ctx.tenant(), crm: crm))
        }
        api.post("credentials") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(NewCredential.self)
            let url = try credentials.normalized(body.baseURL)
            let secret = CRMSecret(login: body.clientId ?? body.login, password: body.clientSecret ?? body.password, token: body.token)
            switch body.authKind {
            case .password where (body.login ?? "").isEmpty || (body.password ?? "").isEmpty:
                throw APIError(.unprocessableContent, "login and password are required", field: "login")
            case .token where (body.token ?? "").isEmpty:
                throw APIError(.unprocessableContent, "the token is required", field: "token")
            default: break
            }
            try credentials.connectors.known(body.crm)
            let c = try await credentials.create(tenantId: t, crm: body.crm, name: body.name ?? "", baseURL: url,
                                                 authKind: body.authKind, secret: secret)
            return jsonResponse(c, status: .created)
        }
        api.get("credentials/:id") { _, ctx in
            guard let c = try await credentials.get(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "credentials not found")
            }
            return jsonResponse(c)
        }
        api.patch("credentials/:id") { req, ctx in
            let t = try ctx.tenant()
            let id = try ctx.param("id")
            let body = try await req.decodeJSON(CredentialPatch.self)
            let login = body.clientId ?? body.login, password = body.clientSecret ?? body.password
            guard let c = try await credentials.update(tenantId: t, id: id, name: body.name, baseURL: body.baseURL, secret: { stored in
                guard login != nil || password != nil || body.token != nil else { return nil }
                var s = stored ?? CRMSecret()
                if let v = login { s.login = v }
                if let v = password { s.password = v }
                if let v = body.token { s.token = v }
                return s
            }) else { throw APIError(.notFound, "credentials not found") }
            return jsonResponse(c)
        }
        api.delete("credentials/:id") { _, ctx in
            guard try await credentials.delete(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "credentials not found")
            }
            return Response(status: .noContent)
        }
    }
}

extension ConnectorRegistry {
    /// A CRM the registry serves or announces; anything else is refused (400).
    func known(_ crm: CRMKind) throws {
        let kinds = self.kinds + planned.map(\.kind)
        guard kinds.contains(crm) else {
            throw APIError(.badRequest, "crm is one of \(kinds.map(\.rawValue).joined(separator: ", "))", field: "crm")
        }
    }
}
