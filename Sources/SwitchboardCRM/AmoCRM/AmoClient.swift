import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardOutbound
import SwitchboardStorage

/// The installation's amoCRM OAuth application and where amoCRM sends tenants back.
public struct AmoOAuthApp: Sendable {
    public var clientId: String
    public var clientSecret: String
    public var redirectURI: String

    public init(clientId: String, clientSecret: String, redirectURI: String) {
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.redirectURI = redirectURI
    }

    /// Where a tenant grants access. amoCRM's own page is on www.amocrm.ru; an account on a loopback address
    /// (the sandbox or a test double) serves its own. One place to correct if amoCRM moves it.
    public func authorizeURL(accountURL: String, state: String) -> String {
        let host = URLComponents(string: accountURL)?.host ?? ""
        let base = AccountURL.isLoopback(host) ? accountURL + "/oauth" : "https://www.amocrm.ru/oauth"
        var c = URLComponents(string: base)!
        c.queryItems = [URLQueryItem(name: "client_id", value: clientId), URLQueryItem(name: "state", value: state),
                        URLQueryItem(name: "mode", value: "post_message"), URLQueryItem(name: "redirect_uri", value: redirectURI)]
        return c.string!
    }
}

/// amoCRM's limit: 7 requests per second per account (api-notes A2), counted by the account, whichever integration
/// or instance sends. Requests are spaced with the policy's margin.
public enum AmoRateLimit {
    public static let policy = RatePolicy(limit: 7, per: .seconds(1))

    /// The account's key: its host (and port, if any), so two credential sets or integrations on one account share
    /// the limit.
    public static func key(baseURL: String) -> String {
        guard let c = URLComponents(string: baseURL), let host = c.host?.lowercased() else { return "amocrm:" + baseURL }
        return "amocrm:" + host + (c.port.map { ":\($0)" } ?? "")
    }
}

/// amoCRM's HTTP API for one credential set: authentication (OAuth with refresh, or a long-lived token),
/// the per-account rate limit, errors mapped to retryable or permanent, and every exchange logged for the journal.
public struct AmoClient: Sendable {
    public let tenantId: String
    public let credential: CRMCredential
    let credentials: CredentialStore
    let oauth: AmoOAuthApp?
    /// Every request goes through the installation's outbound policy.
    let http: OutboundHTTP
    let log: AttemptLog?
    /// Counts each answer (or "error") for the metrics.
    let observe: @Sendable (String) -> Void
    let limiter: any RateLimiter

    public init(tenantId: String, credential: CRMCredential, credentials: CredentialStore, oauth: AmoOAuthApp?,
                http: OutboundHTTP, log: AttemptLog?, observe: @escaping @Sendable (String) -> Void = { _ in },
                limiter: any RateLimiter = LocalRateLimiter.shared) {
        self.limiter = limiter
        self.tenantId = tenantId
        self.credential = credential
        self.credentials = credentials
        self.oauth = oauth
        self.http = http
        self.log = log
        self.observe = observe
    }

    public struct Answer: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var json: Any? { body.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(body)) }
    }

    var base: String { credential.baseURL }

    // MARK: tokens

    /// A usable access token; an OAuth token that expires within a minute is renewed through `TokenKeeper`
    /// (amoCRM's refresh tokens are single-use: one worker at a time).
    func accessToken(forceRefresh: Bool = false) async throws -> String {
        switch credential.authKind {
        case .token:
            guard let secret = try await credentials.secret(tenantId: tenantId, id: credential.id) else {
                throw DeliveryError.permanent(AmoSays.noToken(credential: credential.name).phrase)
            }
            guard let token = secret.token else { throw DeliveryError.permanent(AmoSays.noLongLivedToken.phrase) }
            return token
        case .oauth:
            guard try await credentials.secret(tenantId: tenantId, id: credential.id) != nil else {
                throw DeliveryError.permanent(AmoSays.noToken(credential: credential.name).phrase)
            }
            let client = self
            return try await TokenKeeper(credentials: credentials, tenantId: tenantId, credentialId: credential.id)
                .accessToken(force: forceRefresh, what: AmoCRM.title) { current in
                    try await client.exchange(refreshToken: current.refreshToken, current: current)
                }
        default:
            throw DeliveryError.permanent(AmoSays.wrongAuthKind(credential.authKind.rawValue).phrase)
        }
    }

    func exchange(refreshToken: String?, current: CRMSecret) async throws -> String {
        guard let oauth, let refreshToken else {
            try await credentials.storeRefreshed(tenantId: tenantId, id: credential.id, secret: nil, status: "reconnect",
                                                 detail: AmoSays.noRefreshToken.phrase)
            throw DeliveryError.permanent(AmoSays.cannotRefresh.phrase)
        }
        // The refresh carries the installation's client secret: amoCRM's own domains only.
        if let refusal = AmoOAuthApp.refusal(accountURL: base, policy: http.policy) {
            try await credentials.storeRefreshed(tenantId: tenantId, id: credential.id, secret: nil, status: "failed", detail: refusal)
            throw DeliveryError.permanent(refusal)
        }
        let answer: Answer
        do {
            answer = try await send(.POST, "/oauth2/access_token", json: [
                "client_id": oauth.clientId, "client_secret": oauth.clientSecret, "grant_type": "refresh_token",
                "refresh_token": refreshToken, "redirect_uri": oauth.redirectURI,
            ], token: nil, what: .refreshToken)
        } catch {
            try? await credentials.storeRefreshed(tenantId: tenantId, id: credential.id, secret: nil, status: credential.status, detail: nil)
            throw error
        }
        guard answer.status == 200, let json = answer.json as? [String: Any], let access = json["access_token"] as? String,
              let refresh = json["refresh_token"] as? String else {
            if answer.status >= 500 || answer.status == 429 {
                try? await credentials.storeRefreshed(tenantId: tenantId, id: credential.id, secret: nil, status: credential.status, detail: nil)
                throw DeliveryError.retryable(AmoSays.tokenEndpointAnswered(answer.status).phrase)
            }
            try await credentials.storeRefreshed(tenantId: tenantId, id: credential.id, secret: nil, status: "reconnect",
                                                 detail: AmoSays.revokedStatus(answer.status).phrase)
            throw DeliveryError.permanent(AmoSays.revoked.phrase)
        }
        var secret = current
        secret.accessToken = access
        secret.refreshToken = refresh
        secret.accessTokenExpiresAt = Date().addingTimeInterval(Double(json["expires_in"] as? Int ?? 86_400))
        try await credentials.storeRefreshed(tenantId: tenantId, id: credential.id, secret: secret, status: "ok", detail: nil)
        return access
    }

    /// Exchanges an authorization code (the OAuth callback) for the first token pair.
    public static func exchangeCode(_ code: String, accountURL: String, oauth: AmoOAuthApp, http: OutboundHTTP) async throws -> CRMSecret {
        if let refusal = AmoOAuthApp.refusal(accountURL: accountURL, policy: http.policy) { throw DeliveryError.permanent(refusal) }
        var request = HTTPClientRequest(url: accountURL + "/oauth2/access_token")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: [
            "client_id": oauth.clientId, "client_secret": oauth.clientSecret, "grant_type": "authorization_code",
            "code": code, "redirect_uri": oauth.redirectURI,
        ])))
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(20))
        } catch let refused as OutboundPolicy.Problem {
            throw DeliveryError.permanent(AmoSays.addressRefused(refused).phrase)
        }
        var buffer = try await response.body.collect(upTo: 1 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer.readBytes(length: buffer.readableBytes) ?? []))) as? [String: Any]
        guard response.status == .ok, let access = json?["access_token"] as? String, let refresh = json?["refresh_token"] as? String else {
            throw DeliveryError.permanent(AmoSays.codeRefused(Int(response.status.code)).phrase)
        }
        return CRMSecret(accessToken: access, refreshToken: refresh,
                         accessTokenExpiresAt: Date().addingTimeInterval(Double(json?["expires_in"] as? Int ?? 86_400)))
    }

    // MARK: requests

    /// Calls the API: waits for the rate limit, authenticates, refreshes once on 401, maps errors.
    /// Statuses in `accept` come back as answers instead of errors.
    public func call(_ method: HTTPMethod, _ path: String, json: Any? = nil, what: AmoRequest, accept: Set<Int> = []) async throws -> Answer {
        var token = try await accessToken()
        var answer = try await send(method, path, json: json, token: token, what: what)
        if answer.status == 401 && credential.authKind == .oauth {
            token = try await accessToken(forceRefresh: true)
            answer = try await send(method, path, json: json, token: token, what: what)
        }
        if accept.contains(answer.status) { return answer }
        switch answer.status {
        case 200..<300:
            return answer
        case 401:
            try await credentials.setStatus(tenantId: tenantId, id: credential.id, status: .reconnect,
                                            detail: AmoSays.tokenRefusedState.phrase)
            throw DeliveryError.permanent(AmoSays.tokenRefused.phrase)
        case 403:
            try await credentials.setStatus(tenantId: tenantId, id: credential.id, status: .failed, detail: AmoSays.blocked.phrase)
            throw DeliveryError.permanent(AmoSays.blocked.phrase)
        default:
            throw DeliveryError.forHTTPStatus(answer.status, reason: AmoSays.refusedTo(what, status: answer.status, explanation: Self.explain(answer)).phrase,
                                              retryAfter: nil)
        }
    }

    /// Reads amoCRM's error bodies: validation errors with their paths, or the problem's detail.
    static func explain(_ answer: Answer) -> String {
        guard let json = answer.json as? [String: Any] else { return String(decoding: answer.body.prefix(200), as: UTF8.self) }
        if let v = json["validation-errors"] as? [[String: Any]] {
            return v.flatMap { ($0["errors"] as? [[String: Any]] ?? []).map { "\($0["path"] ?? ""): \($0["detail"] ?? "")" } }
                .joined(separator: "; ")
        }
        if let errors = json["errors"] as? [[String: Any]] { return errors.compactMap { $0["title"] as? String }.joined(separator: "; ") }
        return (json["detail"] as? String) ?? (json["title"] as? String) ?? ""
    }

    func send(_ method: HTTPMethod, _ path: String, json: Any?, token: String?, what: AmoRequest) async throws -> Answer {
        try await limiter.acquire(AmoRateLimit.key(baseURL: base), policy: AmoRateLimit.policy)
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        var bodyText = ""
        if let json {
            let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: data))
            // Token exchanges carry secrets: the journal gets the path only.
            bodyText = path.hasPrefix("/oauth2") ? "" : String(decoding: data, as: UTF8.self)
        }
        let line = "\(method.rawValue) \(path)" + (bodyText.isEmpty ? "" : " \(bodyText.prefix(2000))")
        // Token answers carry secrets: the journal gets a note instead of their body.
        let tokens = path.hasPrefix("/oauth2")
        let reply = try await ConnectorHTTP.exchange(request, line: line, crm: AmoCRM.title, http: http, observe: observe, log: log,
                                                     record: !tokens, what: what.phrase)
        let status = reply.status
        if tokens { log?.record(Exchange(request: line, status: status, response: "(token response not recorded)")) }
        // amoCRM's Retry-After is UNCONFIRMED (api-notes A2): honour it when present.
        let after = DeliveryError.retryAfter(header: reply.headers.first(name: "Retry-After"))
        if status == 429 {
            throw DeliveryError.rateLimited(AmoSays.rateLimited(what).phrase, retryAfter: after)
        }
        if status >= 500 {
            throw DeliveryError.retryable(AmoSays.answered(status, what).phrase, retryAfter: after)
        }
        return Answer(status: status, body: reply.body)
    }
}
