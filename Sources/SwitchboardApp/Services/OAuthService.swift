import Foundation
import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardCRM
import SwitchboardDelivery
import SwitchboardStorage

/// CORE-1 "connect" through a CRM's OAuth application, for the management API and the cabinet alike: the address a
/// tenant's browser goes to, and the callback that stores the tokens. Every connector with an `OAuthSpec` gets it.
struct OAuthService {
    let sb: Switchboard

    /// Why the flow cannot start or finish: the status the API answers and the sentence in both languages.
    struct Refusal: HTTPResponseError {
        let status: HTTPResponse.Status
        let phrase: Phrase
        var field: String? = nil

        func response(from request: Request, context: some RequestContext) throws -> Response {
            try APIError(status, phrase.en, field: field).response(from: request, context: context)
        }
    }

    static func notServed(_ title: String) -> Phrase {
        Phrase(code: "oauth.notServed", en: "\(title) credentials not found", ru: "учётные данные \(title) не найдены")
    }

    /// Where the tenant grants access for these credentials.
    func start(_ c: CRMCredential) throws(Refusal) -> String {
        let title = sb.connectors[c.crm]?.title ?? c.crm.rawValue
        guard let oauth = sb.connectors[c.crm]?.oauth else { throw Refusal(status: .notFound, phrase: Self.notServed(title)) }
        let variable = "SWITCHBOARD_\(c.crm.rawValue.uppercased())_CLIENT_ID and _SECRET"
        let missing = Phrase(code: "oauth.notConfigured", en: "this installation has no \(title) OAuth application (\(variable))",
                             ru: "OAuth-приложение \(title) не настроено в этой установке (\(variable))")
        guard oauth.configured() else { throw Refusal(status: .conflict, phrase: missing) }
        if let refusal = oauth.refusal(c.baseURL) { throw Refusal(status: .unprocessableContent, phrase: refusal, field: "baseURL") }
        guard let url = oauth.authorizeURL(c.baseURL, OAuthFlow.state(for: c, vault: sb.vault)) else {
            throw Refusal(status: .conflict, phrase: missing)
        }
        return url
    }

    /// The CRM's redirect back with a code: the state names the credential, the code becomes its tokens, and its
    /// status is `ok`. Returns the sentence the browser shows.
    func callback(crm: CRMKind, code: String?, state: String?) async throws -> Phrase {
        guard let code, let state else {
            throw APIError(.badRequest, "code and state are required")
        }
        guard let (tenantId, id) = OAuthFlow.credential(ofState: state, vault: sb.vault) else {
            throw APIError(.badRequest, "the state does not match: start the connection again")
        }
        guard let credential = try await sb.credentials.get(tenantId: tenantId, id: id), credential.crm == crm,
              let connector = sb.connectors[crm], let oauth = connector.oauth, oauth.configured() else {
            throw APIError(.notFound, "credentials not found")
        }
        if let refusal = oauth.refusal(credential.baseURL) { throw APIError(.unprocessableContent, refusal.en) }
        let secret: CRMSecret
        do {
            secret = try await oauth.exchange(code, credential.baseURL)
        } catch {
            try await sb.credentials.setStatus(tenantId: tenantId, id: id, status: .failed, detail: CRMFailure.phrase(of: error))
            // The CRM refusing the code (expired, used, made up) is the request's fault, not a failing gateway.
            if case .permanent(let why)? = error as? DeliveryError {
                throw APIError(.badRequest, "\(connector.title) did not accept the authorization: \(why); start the connection again")
            }
            throw APIError(.badGateway, "\(connector.title) did not accept the authorization: \(error)")
        }
        _ = try await sb.credentials.update(tenantId: tenantId, id: id, name: nil, baseURL: nil, secret: secret)
        try await sb.credentials.storeRefreshed(tenantId: tenantId, id: id, secret: nil, status: "ok", detail: nil)
        return oauth.connected
    }
}
