import Foundation
import SwitchboardCore
import SwitchboardStorage

/// A tenant's sites (CORE-15), for the management API and the cabinet alike (issue 10's application layer): the checks
/// of a site's name, origins and request types, and the changes that pass them. A refusal is a `SettingsProblem` with
/// its field (`name`, `origins`, `requestTypes`) and an English message the cabinet translates.
struct SiteService: Sendable {
    let texts: TextStore
    let baseURL: String

    init(sb: Switchboard) {
        texts = TextStore(db: sb.db, queue: sb.queue)
        baseURL = sb.baseURL
    }

    func list(tenantId: String) async throws -> [Site] { try await texts.sites(tenantId: tenantId) }

    func get(tenantId: String, id: String) async throws -> Site? { try await texts.site(tenantId: tenantId, id: id) }

    func create(tenantId: String, name: String, origins: [String], requestTypes: [String]) async throws -> Site {
        let (name, origins, types) = try Self.checked(name: name, origins: origins, types: requestTypes)
        return try await texts.createSite(tenantId: tenantId, name: name, origins: origins, requestTypes: types)
    }

    /// Changes what is given (nil keeps it); nil when the tenant has no such site.
    func update(tenantId: String, id: String, name: String?, origins: [String]?, requestTypes: [String]?) async throws -> Site? {
        guard var s = try await texts.site(tenantId: tenantId, id: id) else { return nil }
        (s.name, s.origins, s.requestTypes) = try Self.checked(name: name ?? s.name, origins: origins ?? s.origins,
                                                               types: requestTypes ?? s.requestTypes)
        return try await texts.updateSite(s)
    }

    /// A new key for the site: the old one stops working at once (pages must be given the new script tags).
    func rotateKey(tenantId: String, id: String) async throws -> Site? {
        try await texts.rotateSiteKey(tenantId: tenantId, id: id)
    }

    func delete(tenantId: String, id: String) async throws -> Bool { try await texts.deleteSite(tenantId: tenantId, id: id) }

    // MARK: what a site's pages carry

    /// The request form's script tag.
    func formScript(_ s: Site) -> String { "<script src=\"\(baseURL)/public/v1/sites/\(s.key)/form.js\" async></script>" }
    /// The chat widget's script tag.
    func chatScript(_ s: Site) -> String { "<script src=\"\(baseURL)/public/v1/sites/\(s.key)/chat.js\" async></script>" }
    /// Where a site's own forms post requests, and its own chat its events.
    func requestURL(_ s: Site) -> String { "\(baseURL)/public/v1/sites/\(s.key)/requests" }
    func chatURL(_ s: Site) -> String { "\(baseURL)/public/v1/sites/\(s.key)/chats" }
    /// The sample page with the form and the chat on it.
    func previewURL(_ s: Site) -> String { "\(baseURL)/public/v1/sites/\(s.key)/preview" }

    // MARK: checks

    /// A site's name, origins (scheme and host, no path) and request types, checked and cleaned.
    static func checked(name: String, origins: [String], types: [String]) throws(SettingsProblem) -> (String, [String], [String]) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 200 else { throw SettingsProblem(field: "name", InputProblem.siteName) }
        guard origins.count <= 50 else { throw SettingsProblem(field: "origins", InputProblem.tooManyOrigins) }
        var cleaned: [String] = []
        for raw in origins {
            let o = raw.trimmingCharacters(in: .whitespaces).lowercased()
            guard let c = URLComponents(string: o), let scheme = c.scheme, ["http", "https"].contains(scheme), let host = c.host,
                  !host.isEmpty, c.path.isEmpty || c.path == "/", c.query == nil, c.fragment == nil else {
                throw SettingsProblem(field: "origins", InputProblem.notAnOrigin(raw))
            }
            cleaned.append("\(scheme)://\(host)" + (c.port.map { ":\($0)" } ?? ""))
        }
        guard types.count <= 50, types.allSatisfy({ !$0.isEmpty && $0.count <= 100 }) else {
            throw SettingsProblem(field: "requestTypes", InputProblem.requestTypes)
        }
        return (name, cleaned, types)
    }
}
