import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardStorage

/// «Чаты» in the cabinet's menu (CORE-18): opens the operator workspace for the signed-in user. The cabinet mints the
/// workspace's short-lived token here, on the server (the token the API's `POST /api/v1/workspace/tokens` gives), and
/// hands it over in the address's fragment, which never reaches a server or a log. The operator's name is their PBX
/// employee's when one has their e-mail.
extension Cabinet {
    /// How long the workspace opened from the cabinet works: a working day, as long as a cabinet session.
    static let workspaceLifetime: TimeInterval = 12 * 3600

    func registerWorkspaceLink(on router: Router<AppRequestContext>) {
        router.get("cabinet/workspace") { req, _ in
            try await authed(req) { s in
                let expires = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + Self.workspaceLifetime).rounded(.down))
                let token = ChatsAPI(sb: sb).workspaceToken(tenantId: s.tenantId, expires: expires)
                let employee = try await sb.pbx.employees(tenantId: s.tenantId).first { $0.email?.lowercased() == s.email.lowercased() }
                var fragment = "token=" + token
                if let name = employee?.name, !name.isEmpty,
                   let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) {
                    fragment += "&name=" + encoded
                }
                var r = redirect("/workspace#" + fragment)
                r.headers[.cacheControl] = "no-store"
                return r
            }
        }
    }
}
