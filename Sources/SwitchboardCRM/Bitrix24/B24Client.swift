import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardOutbound
import SwitchboardStorage

/// Bitrix24's limit (api-notes B2, docs limits.md): a leaky bucket per portal that drains 2 requests a second and
/// refuses past 50 with QUERY_LIMIT_EXCEEDED. Requests are spaced at the drain rate (with the policy's margin), so the
/// bucket never fills; a `batch` counts as one request.
public enum B24RateLimit {
    public static let policy = RatePolicy(limit: 2, per: .seconds(1))

    /// The portal's key: its host and port, whichever credential or instance sends.
    public static func key(portal: String) -> String {
        guard let c = URLComponents(string: portal), let host = c.host?.lowercased() else { return "bitrix24:" + portal }
        return "bitrix24:" + host + (c.port.map { ":\($0)" } ?? "")
    }
}

/// Where Bitrix24's OAuth server is: `https://oauth.bitrix.info` unless the installation names another
/// (`SWITCHBOARD_BITRIX24_OAUTH_URL`, e.g. the sandbox in development). The refresh carries the application's client
/// secret, so it goes only to this installation-chosen address, never to one an event or a tenant names.
public enum B24OAuthServer {
    public static let production = "https://oauth.bitrix.info"
    public static let settingName = "BITRIX24_OAUTH_URL"
}

/// One request of a `batch`: its key, method and parameters.
public struct B24Command: Sendable {
    public var key: String
    public var method: String
    public var params: [String: B24Value]

    public init(_ key: String, _ method: String, _ params: [String: B24Value]) {
        self.key = key
        self.method = method
        self.params = params
    }
}

/// A parameter value as Bitrix24's PHP side reads it: a scalar, a list or a nested array.
public indirect enum B24Value: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case list([B24Value])
    case map([String: B24Value])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .string(String(value)) }
    public static func int(_ v: Int) -> B24Value { .string(String(v)) }
    public static func flag(_ v: Bool) -> B24Value { .string(v ? "1" : "0") }

    var json: Any {
        switch self {
        case .string(let s): return s
        case .list(let l): return l.map(\.json)
        case .map(let m): return m.mapValues(\.json)
        }
    }

    /// PHP-style query pairs: `FIELDS[TITLE]=…`, `USER_ID[0]=…`.
    static func pairs(_ params: [String: B24Value]) -> [(String, String)] {
        var out: [(String, String)] = []
        func walk(_ name: String, _ v: B24Value) {
            switch v {
            case .string(let s): out.append((name, s))
            case .list(let l): for (i, x) in l.enumerated() { walk("\(name)[\(i)]", x) }
            case .map(let m): for k in m.keys.sorted() { walk("\(name)[\(k)]", m[k]!) }
            }
        }
        for k in params.keys.sorted() { walk(k, params[k]!) }
        return out
    }

    static func query(_ params: [String: B24Value]) -> String {
        pairs(params).map { "\(FormURLEncoding.escape($0.0))=\(FormURLEncoding.escape($0.1))" }.joined(separator: "&")
    }
}

/// Bitrix24's REST API for one portal's credentials: the application's OAuth tokens (renewed through `TokenKeeper`),
/// the portal's rate limit, `batch`, errors mapped to retryable, rate-limited or permanent, every exchange in the
/// journal without tokens.
public struct B24Client: Sendable {
    public let tenantId: String
    public let credential: CRMCredential
    let credentials: CredentialStore
    let http: OutboundHTTP
    let log: AttemptLog?
    let observe: @Sendable (String) -> Void
    let limiter: any RateLimiter
    /// The OAuth server's address (see `B24OAuthServer`).
    let oauthServer: String
    /// The installation's application, used when the credentials carry no local application of their own.
    let installationApp: (clientId: String, clientSecret: String)?

    public init(tenantId: String, credential: CRMCredential, credentials: CredentialStore, http: OutboundHTTP, log: AttemptLog?,
                observe: @escaping @Sendable (String) -> Void, limiter: any RateLimiter, oauthServer: String,
                installationApp: (clientId: String, clientSecret: String)?) {
        self.tenantId = tenantId
        self.credential = credential
        self.credentials = credentials
        self.http = http
        self.log = log
        self.observe = observe
        self.limiter = limiter
        self.oauthServer = oauthServer
        self.installationApp = installationApp
    }

    /// A Bitrix24 error body: `{"error": "...", "error_description": "..."}`.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var status: Int
        public var code: String
        public var text: String
        public var description: String { code.isEmpty ? text : "\(code): \(text)" }
    }

    // MARK: tokens

    func application(_ secret: CRMSecret) -> (clientId: String, clientSecret: String)? {
        if let id = secret.login, !id.isEmpty, let s = secret.password, !s.isEmpty { return (id, s) }
        return installationApp
    }

    func accessToken(force: Bool = false) async throws -> String {
        guard let secret = try await credentials.secret(tenantId: tenantId, id: credential.id), secret.refreshToken != nil else {
            throw DeliveryError.permanent(B24Says.notInstalled.phrase)
        }
        let client = self
        return try await TokenKeeper(credentials: credentials, tenantId: tenantId, credentialId: credential.id)
            .accessToken(force: force, what: Bitrix24.title) { current in try await client.renew(current) }
    }

    /// Exchanges the single-use refresh token at the OAuth server (under the credential's lease) and stores the pair.
    func renew(_ current: CRMSecret) async throws -> String {
        let store = credentials, t = tenantId, id = credential.id
        func giveUp(_ status: String, _ detail: Phrase?) async { try? await store.storeRefreshed(tenantId: t, id: id, secret: nil, status: status, detail: detail) }
        guard let app = application(current), let refresh = current.refreshToken else {
            await giveUp("reconnect", B24Says.noApplicationKey.phrase)
            throw DeliveryError.permanent(B24Says.cannotRenew.phrase)
        }
        let query = B24Value.query(["grant_type": "refresh_token", "client_id": .string(app.clientId),
                                    "client_secret": .string(app.clientSecret), "refresh_token": .string(refresh)])
        var request = HTTPClientRequest(url: oauthServer + "/oauth/token/?" + query)
        request.method = .GET
        let status: Int, bytes: [UInt8]
        do {
            let response = try await http.execute(request, timeout: .seconds(20))
            var buffer = try await response.body.collect(upTo: 1 << 20)
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            status = Int(response.status.code)
        } catch {
            await giveUp(credential.status, credential.statusPhrase)
            log?.record(Exchange(request: "GET /oauth/token/ (refresh)", note: "no answer: \(error)"))
            throw DeliveryError.retryable(B24Says.oauthSilent("\(error)").phrase)
        }
        observe(String(status))
        log?.record(Exchange(request: "GET /oauth/token/ (refresh)", status: status, response: "(token response not recorded)"))
        let json = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
        guard status == 200, let access = json?["access_token"] as? String, let next = json?["refresh_token"] as? String else {
            if status >= 500 || status == 429 || status == 0 {
                await giveUp(credential.status, credential.statusPhrase)
                throw DeliveryError.retryable(B24Says.oauthAnswered(status).phrase)
            }
            let why = (json?["error_description"] as? String) ?? (json?["error"] as? String) ?? "HTTP \(status)"
            await giveUp("reconnect", B24Says.renewRefusedState(why).phrase)
            throw DeliveryError.permanent(B24Says.renewRefused(why).phrase)
        }
        var secret = current
        secret.accessToken = access
        secret.refreshToken = next
        secret.accessTokenExpiresAt = Date().addingTimeInterval(Double(json?["expires_in"] as? Int ?? 3600))
        try await store.storeRefreshed(tenantId: t, id: id, secret: secret, status: "ok", detail: nil)
        return access
    }

    // MARK: requests

    /// Calls one method; its `result`. Renews the token on `expired_token` once.
    public func call(_ method: String, _ params: [String: B24Value] = [:], what: B24Request) async throws -> Any {
        try await envelope(method, params, what: what)["result"] ?? NSNull()
    }

    /// Calls one method; the whole answer (`result`, `total`, `next`, `time`).
    public func envelope(_ method: String, _ params: [String: B24Value] = [:], what: B24Request) async throws -> [String: Any] {
        var token = try await accessToken()
        var answer = try await send(method, params, token: token, what: what)
        if answer.status == 401, Self.code(answer) == "expired_token" || Self.code(answer) == "invalid_token" {
            token = try await accessToken(force: true)
            answer = try await send(method, params, token: token, what: what)
        }
        return try await result(answer, what: what)
    }

    /// Up to 50 commands in one request (one step of the portal's limit); results and errors by key. `halt` false:
    /// every command runs whatever the others did.
    public func batch(_ commands: [B24Command], what: B24Request) async throws -> (results: [String: Any], errors: [String: Failure]) {
        precondition(commands.count <= 50, "Bitrix24 runs at most 50 commands in a batch")
        var cmd: [String: B24Value] = [:]
        for c in commands { cmd[c.key] = .string(c.method + "?" + B24Value.query(c.params)) }
        let body = try await call("batch", ["halt": "0", "cmd": .map(cmd)], what: what)
        let root = body as? [String: Any] ?? [:]
        var results: [String: Any] = [:]
        if let r = root["result"] as? [String: Any] { results = r }
        var errors: [String: Failure] = [:]
        if let e = root["result_error"] as? [String: Any] {
            for (k, v) in e {
                let o = v as? [String: Any] ?? [:]
                errors[k] = Failure(status: 400, code: o["error"] as? String ?? "", text: o["error_description"] as? String ?? "\(v)")
            }
        }
        return (results, errors)
    }

    struct Answer {
        var status: Int
        var json: [String: Any]?
        var text: String
    }

    static func code(_ a: Answer) -> String { a.json?["error"] as? String ?? "" }

    func result(_ answer: Answer, what: B24Request) async throws -> [String: Any] {
        if (200..<300).contains(answer.status), let json = answer.json, json["error"] == nil {
            return json
        }
        let code = Self.code(answer)
        let text = answer.json?["error_description"] as? String ?? String(answer.text.prefix(200))
        let failure = Failure(status: answer.status, code: code, text: text)
        switch (answer.status, code) {
        case (_, "QUERY_LIMIT_EXCEEDED"):
            throw DeliveryError.rateLimited(B24Says.rateLimited(what).phrase, retryAfter: .seconds(2))
        case (_, "OPERATION_TIME_LIMIT"):
            throw DeliveryError.rateLimited(B24Says.timeLimited(what).phrase, retryAfter: .seconds(60))
        case (401, "expired_token"), (401, "invalid_token"), (401, "NO_AUTH_FOUND"), (_, "PORTAL_DELETED"):
            try await credentials.setStatus(tenantId: tenantId, id: credential.id, status: .reconnect,
                                            detail: B24Says.accessRefused("\(failure)").phrase)
            throw DeliveryError.permanent(B24Says.accessRefused("\(failure)").phrase)
        case (401, _), (403, _):
            throw DeliveryError.permanent(B24Says.refusedTo(what, "\(failure)").phrase)
        case (500..<600, _):
            throw DeliveryError.retryable(B24Says.answered(answer.status, what, "\(failure)").phrase)
        default:
            throw failure
        }
    }

    func send(_ method: String, _ params: [String: B24Value], token: String, what: B24Request) async throws -> Answer {
        try await limiter.acquire(B24RateLimit.key(portal: credential.baseURL), policy: B24RateLimit.policy)
        var request = HTTPClientRequest(url: credential.baseURL + "/rest/" + method + ".json")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        var body = params.mapValues(\.json) as [String: Any]
        let shown = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? ""
        body["auth"] = token
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])))
        let line = "POST /rest/\(method) \(shown.prefix(2000))"
        let reply = try await ConnectorHTTP.exchange(request, line: line, crm: Bitrix24.title, http: http, observe: observe, log: log,
                                                     what: what.phrase)
        let status = reply.status, bytes = reply.body, text = reply.text
        return Answer(status: status, json: (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any], text: text)
    }
}
