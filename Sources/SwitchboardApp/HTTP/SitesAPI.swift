import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardStorage

/// `/api/v1/sites`: a tenant's sites (the key each site's script tag and form posts carry, the origins browsers may
/// post from, the request types its forms offer) and the requests and chats they sent (CORE-15).
struct SitesAPI {
    let sb: Switchboard

    var texts: TextStore { TextStore(db: sb.db, queue: sb.queue) }

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

        init(_ s: Site, base: String) {
            id = s.id; name = s.name; key = s.key; origins = s.origins; requestTypes = s.requestTypes; createdAt = s.createdAt
            formScript = "<script src=\"\(base)/public/v1/sites/\(s.key)/form.js\" async></script>"
            requestURL = "\(base)/public/v1/sites/\(s.key)/requests"
            chatURL = "\(base)/public/v1/sites/\(s.key)/chats"
        }
    }

    func register(_ api: RouterGroup<AppRequestContext>) {
        let m = ManagementAPI(sb: sb)
        api.get("sites") { req, _ in
            let t = try await m.tenantId(req)
            return jsonResponse(try await texts.sites(tenantId: t).map { SiteView($0, base: sb.baseURL) })
        }
        api.post("sites") { req, _ in
            let t = try await m.tenantId(req)
            let body = try await req.decodeJSON(NewSite.self)
            let (name, origins, types) = try Self.checked(name: body.name, origins: body.origins ?? [], types: body.requestTypes ?? [])
            let site = try await texts.createSite(tenantId: t, name: name, origins: origins, requestTypes: types)
            return jsonResponse(SiteView(site, base: sb.baseURL), status: .created)
        }
        api.get("sites/:id") { req, ctx in
            guard let s = try await texts.site(tenantId: try await m.tenantId(req), id: try ctx.param("id")) else {
                throw APIError(.notFound, "site not found")
            }
            return jsonResponse(SiteView(s, base: sb.baseURL))
        }
        api.patch("sites/:id") { req, ctx in
            let t = try await m.tenantId(req)
            let body = try await req.decodeJSON(SitePatch.self)
            guard var s = try await texts.site(tenantId: t, id: try ctx.param("id")) else { throw APIError(.notFound, "site not found") }
            (s.name, s.origins, s.requestTypes) = try Self.checked(name: body.name ?? s.name, origins: body.origins ?? s.origins,
                                                                   types: body.requestTypes ?? s.requestTypes)
            guard let updated = try await texts.updateSite(s) else { throw APIError(.notFound, "site not found") }
            return jsonResponse(SiteView(updated, base: sb.baseURL))
        }
        api.delete("sites/:id") { req, ctx in
            guard try await texts.deleteSite(tenantId: try await m.tenantId(req), id: try ctx.param("id")) else {
                throw APIError(.notFound, "site not found")
            }
            return Response(status: .noContent)
        }
        ChatsAPI(sb: sb).register(api)
        api.get("texts") { req, _ in
            let t = try await m.tenantId(req)
            var kind: TextKind?
            if let k = try req.query("kind") {
                guard let parsed = TextKind(rawValue: k) else { throw APIError(.badRequest, "kind is request or chat", field: "kind") }
                kind = parsed
            }
            return jsonResponse(try await texts.list(tenantId: t, kind: kind, limit: try req.limit()))
        }
        api.get("texts/:id") { req, ctx in
            guard let text = try await texts.get(tenantId: try await m.tenantId(req), id: try ctx.param("id")) else {
                throw APIError(.notFound, "text communication not found")
            }
            return jsonResponse(text)
        }
    }

    /// A site's name, origins (scheme and host, no path) and request types, checked.
    static func checked(name: String, origins: [String], types: [String]) throws -> (String, [String], [String]) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 200 else { throw APIError(.unprocessableContent, "name is 1 to 200 characters", field: "name") }
        guard origins.count <= 50 else { throw APIError(.unprocessableContent, "at most 50 origins", field: "origins") }
        let cleaned = try origins.map { raw -> String in
            let o = raw.trimmingCharacters(in: .whitespaces).lowercased()
            guard let c = URLComponents(string: o), ["http", "https"].contains(c.scheme ?? ""), let host = c.host, !host.isEmpty,
                  c.path.isEmpty || c.path == "/", c.query == nil, c.fragment == nil else {
                throw APIError(.unprocessableContent, "\"\(raw)\" is not an origin such as https://shop.example", field: "origins")
            }
            return "\(c.scheme!)://\(host)" + (c.port.map { ":\($0)" } ?? "")
        }
        guard types.count <= 50, types.allSatisfy({ !$0.isEmpty && $0.count <= 100 }) else {
            throw APIError(.unprocessableContent, "at most 50 request types of 1 to 100 characters", field: "requestTypes")
        }
        return (name, cleaned, types)
    }
}
