import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardStorage

/// `/api/v1/sites`: a tenant's sites (the key each site's script tag and form posts carry, the origins browsers may
/// post from, the request types its forms offer) and the requests and chats they sent (CORE-15).
struct SitesAPI {
    let sites: SiteService
    let texts: TextStore

    struct NewSite: Decodable { var name: String; var origins: [String]?; var requestTypes: [String]? }
    struct SitePatch: Decodable { var name: String?; var origins: [String]?; var requestTypes: [String]? }

    /// A site as the API shows it: with the script tag and the request address to paste into the site.
    struct SiteView: Encodable {
        var id, name, key: String
        var origins, requestTypes: [String]
        var createdAt: Date
        var formScript: String
        var requestURL: String
        var chatURL: String

        init(_ s: Site, _ service: SiteService) {
            id = s.id; name = s.name; key = s.key; origins = s.origins; requestTypes = s.requestTypes; createdAt = s.createdAt
            formScript = service.formScript(s)
            requestURL = service.requestURL(s)
            chatURL = service.chatURL(s)
        }
    }

    func register(_ api: RouterGroup<AppRequestContext>) {
        api.get("sites") { req, ctx in
            let t = try ctx.tenant()
            return jsonResponse(try await sites.list(tenantId: t).map { SiteView($0, sites) })
        }
        api.post("sites") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(NewSite.self)
            let site = try await Self.refusing {
                try await sites.create(tenantId: t, name: body.name, origins: body.origins ?? [], requestTypes: body.requestTypes ?? [])
            }
            return jsonResponse(SiteView(site, sites), status: .created)
        }
        api.get("sites/:id") { req, ctx in
            guard let s = try await sites.get(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "site not found")
            }
            return jsonResponse(SiteView(s, sites))
        }
        api.patch("sites/:id") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(SitePatch.self)
            let id = try ctx.param("id")
            guard let updated = try await Self.refusing({
                try await sites.update(tenantId: t, id: id, name: body.name, origins: body.origins, requestTypes: body.requestTypes)
            }) else { throw APIError(.notFound, "site not found") }
            return jsonResponse(SiteView(updated, sites))
        }
        api.post("sites/:id/key") { req, ctx in
            guard let s = try await sites.rotateKey(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "site not found")
            }
            return jsonResponse(SiteView(s, sites))
        }
        api.delete("sites/:id") { req, ctx in
            guard try await sites.delete(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "site not found")
            }
            return Response(status: .noContent)
        }
        api.get("texts") { req, ctx in
            let t = try ctx.tenant()
            var kind: TextKind?
            if let k = try req.query("kind") {
                guard let parsed = TextKind(rawValue: k) else { throw APIError(.badRequest, "kind is request or chat", field: "kind") }
                kind = parsed
            }
            return jsonResponse(try await texts.list(tenantId: t, kind: kind, limit: try req.limit()))
        }
        api.get("texts/:id") { req, ctx in
            guard let text = try await texts.get(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "text communication not found")
            }
            return jsonResponse(text)
        }
    }

    /// The service's answer, its refusal as the API's 422 with the field.
    static func refusing<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let p as SettingsProblem {
            throw APIError(.unprocessableContent, p.message, field: p.field)
        }
    }
}
