import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardOutbound
import SwitchboardStorage

/// Megaplan's API v3 for one account's credentials: the password grant's access token (kept sealed, renewed before it
/// expires and on a 401, under the credential's lease), JSON parameters in GET query strings and POST bodies, the
/// `{meta, data}` envelope, the account's request pacing, errors mapped to retryable, rate-limited or permanent, and
/// every exchange in the journal without the token or the password.
public struct MegaplanClient: Sendable {
    public let tenantId: String
    public let credential: CRMCredential
    let credentials: CredentialStore
    let http: OutboundHTTP
    let log: AttemptLog?
    let observe: @Sendable (String) -> Void
    let limiter: any RateLimiter

    /// One answer: the HTTP status and the parsed body.
    public struct Answer: @unchecked Sendable {
        public var status: Int
        public var json: [String: Any]?
        public var text: String
        public var retryAfter: Duration?

        public var data: Any? { json?["data"] }
        public var object: [String: Any]? { data as? [String: Any] }
        public var list: [[String: Any]] { data as? [[String: Any]] ?? [] }
        public var pagination: [String: Any]? { (json?["meta"] as? [String: Any])?["pagination"] as? [String: Any] }

        /// The first error's message (and field) from `meta.errors`.
        public var reason: String {
            let errors = (json?["meta"] as? [String: Any])?["errors"] as? [[String: Any]] ?? []
            if let e = errors.first {
                let message = e["message"].map { "\($0)" } ?? "error"
                if let field = e["field"] as? String, !field.isEmpty { return "\(message) (\(field))" }
                return message
            }
            if let e = json?["error_description"] ?? json?["error"] { return "\(e)" }
            return String(text.prefix(200))
        }
    }

    /// The account's key for pacing: its host and port, whichever credential or instance sends.
    static func rateKey(_ baseURL: String) -> String {
        guard let c = URLComponents(string: baseURL), let host = c.host?.lowercased() else { return "megaplan:" + baseURL }
        return "megaplan:" + host + (c.port.map { ":\($0)" } ?? "")
    }

    // MARK: tokens

    /// `password`: renew with the password grant even when a refresh token is kept (the connection test proves the
    /// login and password, not a token).
    func accessToken(force: Bool = false, password: Bool = false) async throws -> String {
        let client = self
        return try await TokenKeeper(credentials: credentials, tenantId: tenantId, credentialId: credential.id)
            .accessToken(force: force, what: Megaplan.title) { current in
                var c = current
                if password { c.refreshToken = nil }
                return try await client.renew(c)
            }
    }

    /// Under the credential's lease: the refresh grant when a refresh token is kept, else (or when it is refused) the
    /// password grant; the new pair is stored sealed and the lease given up.
    func renew(_ current: CRMSecret) async throws -> String {
        let store = credentials, t = tenantId, id = credential.id
        func giveUp(_ status: String, _ detail: Phrase?) async {
            try? await store.storeRefreshed(tenantId: t, id: id, secret: nil, status: status, detail: detail)
        }
        var answer: Answer?
        if let refresh = current.refreshToken {
            do {
                let a = try await grant(["grant_type": "refresh_token", "refresh_token": refresh], what: "refresh")
                if a.status == 200 { answer = a }
            } catch {
                await giveUp(credential.status, credential.statusPhrase)
                throw error
            }
        }
        if answer == nil {
            guard let login = current.login, let password = current.password, !login.isEmpty, !password.isEmpty else {
                await giveUp("failed", MPSays.loginMissingState.phrase)
                throw DeliveryError.permanent(MPSays.noLogin.phrase)
            }
            do {
                answer = try await grant(["grant_type": "password", "username": login, "password": password], what: "password")
            } catch {
                await giveUp(credential.status, credential.statusPhrase)
                throw error
            }
        }
        guard let a = answer, a.status == 200, let access = a.json?["access_token"] as? String else {
            let status = answer?.status ?? 0
            if status >= 500 || status == 429 || status == 0 {
                await giveUp(credential.status, credential.statusPhrase)
                throw DeliveryError.retryable(MPSays.tokenEndpointAnswered(status).phrase)
            }
            let why = answer?.reason ?? "no answer"
            await giveUp("failed", MPSays.loginRefusedState(why).phrase)
            throw DeliveryError.permanent(MPSays.loginRefused(why).phrase)
        }
        var secret = current
        secret.accessToken = access
        secret.refreshToken = a.json?["refresh_token"] as? String ?? current.refreshToken
        let lifetime = (a.json?["expires_in"] as? NSNumber)?.doubleValue ?? MegaplanFacts.defaultTokenLifetime
        secret.accessTokenExpiresAt = Date().addingTimeInterval(lifetime)
        try await store.storeRefreshed(tenantId: t, id: id, secret: secret, status: "ok", detail: nil)
        return access
    }

    /// One token request; the journal names the grant, never its fields or the answer's tokens.
    func grant(_ fields: [String: String], what: String) async throws -> Answer {
        var request = HTTPClientRequest(url: credential.baseURL + MegaplanFacts.tokenPath)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: FormURLEncoding.encode(fields)))
        let line = "POST \(MegaplanFacts.tokenPath) (\(what) grant)"
        let answer = try await execute(request, line: line, record: false)
        log?.record(Exchange(request: line, status: answer.status,
                             response: answer.status == 200 ? "(token response not recorded)" : String(answer.text.prefix(300))))
        return answer
    }

    // MARK: requests

    /// `GET /api/v3/<path>?{json}`: the parameters as percent-encoded JSON in the query, as the vendor's SDK sends them.
    public func get(_ path: String, _ params: [String: Any] = [:], what: MPRequest, accept: Set<Int> = []) async throws -> Answer {
        var query = ""
        if !params.isEmpty {
            let text = String(decoding: try JSONSerialization.data(withJSONObject: params, options: [.sortedKeys]), as: UTF8.self)
            query = "?" + (text.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? text)
        }
        return try await call(.GET, "/api/v3/" + path + query, body: nil, what: what, accept: accept)
    }

    /// `POST /api/v3/<path>` with a JSON body (creation, and updates by id).
    public func post(_ path: String, _ body: Any, what: MPRequest, accept: Set<Int> = []) async throws -> Answer {
        try await call(.POST, "/api/v3/" + path, body: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]),
                       what: what, accept: accept)
    }

    static let unreserved = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))

    /// Sends once, renews the token and sends again on a 401; answers 2xx and the `accept`ed statuses, throws the rest.
    func call(_ method: HTTPMethod, _ pathAndQuery: String, body: Data?, what: MPRequest, accept: Set<Int>) async throws -> Answer {
        var answer = try await send(method, pathAndQuery, body: body, token: try await accessToken(), what: what)
        if answer.status == MegaplanFacts.unauthorizedStatus {
            answer = try await send(method, pathAndQuery, body: body, token: try await accessToken(force: true), what: what)
        }
        if (200..<300).contains(answer.status) || accept.contains(answer.status) { return answer }
        let reason = answer.reason
        switch answer.status {
        case 429:
            throw DeliveryError.rateLimited(MPSays.rateLimited(what).phrase,
                                            retryAfter: answer.retryAfter ?? MegaplanFacts.rateLimitPause)
        case MegaplanFacts.unauthorizedStatus:
            try await credentials.setStatus(tenantId: tenantId, id: credential.id, status: .failed,
                                            detail: MPSays.freshTokenRefusedState(reason).phrase)
            throw DeliveryError.permanent(MPSays.freshTokenRefused(what, reason).phrase)
        case 0, 408, 500..<600:
            throw DeliveryError.retryable(MPSays.answered(answer.status, what, reason).phrase)
        default:
            throw DeliveryError.permanent(MPSays.refusedTo(what, answer.status, reason).phrase)
        }
    }

    func send(_ method: HTTPMethod, _ pathAndQuery: String, body: Data?, token: String, what: MPRequest) async throws -> Answer {
        try await limiter.acquire(Self.rateKey(credential.baseURL), policy: MegaplanFacts.ratePolicy)
        var request = HTTPClientRequest(url: credential.baseURL + pathAndQuery)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let shownPath = pathAndQuery.removingPercentEncoding ?? pathAndQuery
        let shownBody = body.map { " " + String(decoding: $0.prefix(2000), as: UTF8.self) } ?? ""
        return try await execute(request, line: "\(method.rawValue) \(shownPath)\(shownBody)", record: true)
    }

    func execute(_ request: HTTPClientRequest, line: String, record: Bool) async throws -> Answer {
        let r = try await ConnectorHTTP.exchange(request, line: line, crm: Megaplan.title, http: http, observe: observe, log: log, record: record)
        return Answer(status: r.status, json: (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any], text: r.text,
                      retryAfter: r.headers.first(name: "Retry-After").flatMap { Int($0) }.map { Duration.seconds($0) })
    }

    // MARK: paging

    /// Every item of a collection, page by page (`limit` 100, `pageAfter` the last item as a link-entity).
    public func all(_ path: String, _ params: [String: Any] = [:], what: MPRequest) async throws -> [[String: Any]] {
        var out: [[String: Any]] = []
        var p = params
        p["limit"] = 100
        for _ in 0..<1_000 {
            let page = try await get(path, p, what: what)
            out += page.list
            guard page.pagination?["hasMoreNext"] as? Bool == true, let last = page.list.last, let id = last["id"] else { break }
            p["pageAfter"] = ["contentType": last["contentType"] ?? "", "id": id]
        }
        return out
    }
}
