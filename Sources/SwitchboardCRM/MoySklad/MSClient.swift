import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardOutbound
import SwitchboardStorage

/// MoySklad's limits (api-notes B2): the JSON API counts 45 units per 3 s per user, and a login/password or user-token
/// request weighs up to 4 during 2026 (11 requests per 3 s), so requests are spaced for the heaviest weight; the Phone API
/// allows 100 requests per 5 s. Both allow 5 requests at once per user; a breach is a 429 with code 1073.
public enum MSRateLimit {
    public static let json = RatePolicy(limit: 11, per: .seconds(3))
    public static let phone = RatePolicy(limit: 100, per: .seconds(5))

    /// One JSON API user (or token) of one account host, whichever credential or instance sends.
    static func key(_ credential: CRMCredential, user: String, api: String) -> String {
        let c = URLComponents(string: credential.baseURL)
        let host = (c?.host?.lowercased()).map { h in h + (c?.port.map { ":\($0)" } ?? "") } ?? credential.baseURL
        return "moysklad:\(api):\(host):\(Hashing.sha256Hex(user).prefix(16))"
    }
}

/// MoySklad's error codes with what they mean for the tenant, in Russian (MoySklad's own texts come along).
public enum MSErrors {
    public static func explain(_ code: Int) -> String? {
        switch code {
        case 1056: return "МойСклад не принял учётные данные: проверьте ключ доступа, логин и пароль"
        case 1049: return "превышен лимит запросов к МойСклад; запросы повторятся позже"
        case 1073: return "превышен лимит одновременных запросов к МойСклад; запросы повторятся позже"
        case 1074: return "МойСклад временно недоступен (технические работы); запросы повторятся позже"
        case 55008: return "в МойСклад не установлено приложение телефонии: установите его и скопируйте ключ доступа"
        case 3000: return "МойСклад не сохранил объект: не заполнено обязательное поле"
        case 1021: return "объект не найден в МойСклад"
        case 30004: return "нужны права администратора МойСклад"
        default: return nil
        }
    }
}

/// JSON API 1.2 and Phone API 1.0 for one credential set: the access key ("Ключ доступа") in `Lognex-Phone-Auth-Token`;
/// the JSON API with an access token Switchboard issues from the login and password (`POST security/token`, renewed on
/// a refusal under the credential's lease, since issuing revokes the user's earlier tokens) or a token the tenant pasted.
/// gzip is mandatory both ways; every exchange goes to the journal without secrets.
public struct MoySkladClient: Sendable {
    public let tenantId: String
    public let credential: CRMCredential
    let credentials: CredentialStore
    let http: OutboundHTTP
    let log: AttemptLog?
    let observe: @Sendable (String) -> Void
    let limiter: any RateLimiter
    /// Switchboard's own webhook addresses: MoySklad delivers no webhook for a change Switchboard made itself
    /// (`X-Lognex-WebHook-DisableByPrefix` on every JSON API write).
    let ownWebhooks: String?

    public init(tenantId: String, credential: CRMCredential, credentials: CredentialStore, http: OutboundHTTP, log: AttemptLog?,
                observe: @escaping @Sendable (String) -> Void, limiter: any RateLimiter, ownWebhooks: String? = nil) {
        self.ownWebhooks = ownWebhooks
        self.tenantId = tenantId
        self.credential = credential
        self.credentials = credentials
        self.http = http
        self.log = log
        self.observe = observe
        self.limiter = limiter
    }

    /// A MoySklad error: the HTTP status, the first `errors[]` entry's code and text.
    public struct Failure: Error, Sendable, CustomStringConvertible, RemoteRefusal {
        public var remoteMadeNothing: Bool { true }
        public var status: Int
        public var code: Int?
        public var text: String
        public var description: String {
            let known = code.flatMap(MSErrors.explain).map { " (\($0))" } ?? ""
            return code.map { "\(status) \($0): \(text)\(known)" } ?? "\(status): \(text)"
        }
    }

    public struct Answer: Sendable {
        public var status: Int
        public var json: JSONBox
        public var text: String
        /// A 429's `X-Lognex-Retry-After` (ms).
        public var retryAfterMs: Int? = nil
    }

    /// A parsed JSON answer (Foundation objects are not Sendable).
    public struct JSONBox: @unchecked Sendable {
        public let value: Any?
        public var object: [String: Any] { value as? [String: Any] ?? [:] }
        public var rows: [[String: Any]] { object["rows"] as? [[String: Any]] ?? [] }
    }

    public enum API: Sendable { case json, phone }

    var root: String { credential.baseURL }

    // MARK: access

    func secret() async throws -> CRMSecret {
        guard let s = try await credentials.secret(tenantId: tenantId, id: credential.id) else {
            throw DeliveryError.permanent(MSSays.noAccessKey.phrase)
        }
        return s
    }

    /// Whether the credentials carry JSON API access (login and password, or a token).
    public func hasJSONAccess() async throws -> Bool {
        let s = try await secret()
        return !(s.password ?? "").isEmpty
    }

    /// The JSON API's bearer token: a pasted one (password without a login), else one issued from the login and password.
    func bearer(force: Bool) async throws -> String {
        let s = try await secret()
        guard let password = s.password, !password.isEmpty else {
            throw DeliveryError.permanent(MSSays.noJSONAccess.phrase)
        }
        guard let login = s.login, !login.isEmpty else { return password }
        let client = self
        return try await TokenKeeper(credentials: credentials, tenantId: tenantId, credentialId: credential.id)
            .accessToken(force: force, what: MoySklad.title) { current in try await client.issue(current) }
    }

    /// `POST security/token` with Basic authentication (under the credential's lease); the token is kept sealed.
    func issue(_ current: CRMSecret) async throws -> String {
        let store = credentials, t = tenantId, id = credential.id
        func giveUp(_ status: String, _ detail: Phrase?) async { try? await store.storeRefreshed(tenantId: t, id: id, secret: nil, status: status, detail: detail) }
        let basic = Data("\(current.login ?? ""):\(current.password ?? "")".utf8).base64EncodedString()
        let answer: Answer
        do {
            answer = try await send(.json, .POST, "/security/token", body: nil, auth: ("Authorization", "Basic " + basic),
                                    shown: "POST /api/remap/1.2/security/token", record: false)
        } catch {
            await giveUp(credential.status, credential.statusPhrase)
            throw error
        }
        guard answer.status == 200, let token = answer.json.object["access_token"] as? String, !token.isEmpty else {
            let failure = Self.failure(answer)
            if answer.status == 401 || answer.status == 403 {
                await giveUp("reconnect", MSSays.loginRefusedState("\(failure)").phrase)
                throw DeliveryError.permanent(MSSays.loginRefused("\(failure)").phrase)
            }
            await giveUp(credential.status, credential.statusPhrase)
            throw Self.mapped(answer, failure, what: .issueToken)
        }
        var secret = current
        secret.accessToken = token
        // The token's lifetime is not documented: it is used until MoySklad refuses it, then issued again.
        secret.accessTokenExpiresAt = Date().addingTimeInterval(30 * 86_400)
        try await store.storeRefreshed(tenantId: t, id: id, secret: secret, status: "ok", detail: nil)
        return token
    }

    // MARK: requests

    /// A JSON API request (`path` after `/api/remap/1.2`); a refused issued token is issued again once.
    public func json(_ method: HTTPMethod, _ path: String, _ body: Any? = nil, what: MSRequest) async throws -> JSONBox {
        var token = try await bearer(force: false)
        var answer = try await send(.json, method, path, body: body, auth: ("Authorization", "Bearer " + token))
        if answer.status == 401, let s = try? await secret(), !(s.login ?? "").isEmpty {
            token = try await bearer(force: true)
            answer = try await send(.json, method, path, body: body, auth: ("Authorization", "Bearer " + token))
        }
        return try await result(answer, api: .json, what: what)
    }

    /// A Phone API request (`path` after `/api/phone/1.0`), with the access key.
    public func phone(_ method: HTTPMethod, _ path: String, _ body: Any? = nil, what: MSRequest) async throws -> JSONBox {
        guard let key = try await secret().token, !key.isEmpty else {
            throw DeliveryError.permanent(MSSays.noAccessKeyNamed.phrase)
        }
        let answer = try await send(.phone, method, path, body: body, auth: ("Lognex-Phone-Auth-Token", key))
        return try await result(answer, api: .phone, what: what)
    }

    static func failure(_ answer: Answer) -> Failure {
        let first = (answer.json.object["errors"] as? [[String: Any]])?.first
        return Failure(status: answer.status, code: first?["code"] as? Int,
                       text: (first?["error"] as? String) ?? (answer.text.isEmpty ? "no body" : String(answer.text.prefix(200))))
    }

    /// 429 (codes 1049 and 1073) waits for `X-Lognex-Retry-After` (ms); 5xx and 408 are retried; the rest is permanent.
    static func mapped(_ answer: Answer, _ failure: Failure, what: MSRequest) -> DeliveryError {
        let reason = MSSays.answered("\(failure)", what).phrase
        return DeliveryError.forHTTPStatus(answer.status, reason: reason,
                                           retryAfter: answer.retryAfterMs.map { .milliseconds(Int64(max($0, 100))) })
    }

    func result(_ answer: Answer, api: API, what: MSRequest) async throws -> JSONBox {
        if (200..<300).contains(answer.status) { return answer.json }
        let failure = Self.failure(answer)
        if answer.status == 401 || failure.code == 55008 {
            let detail = api == .phone ? MSSays.keyRefused("\(failure)").phrase : MSSays.jsonRefused("\(failure)").phrase
            try await credentials.setStatus(tenantId: tenantId, id: credential.id, status: .reconnect, detail: detail)
            throw DeliveryError.permanent(detail)
        }
        // Not found is the caller's to judge (a call not created yet); other refusals of the request are final.
        if answer.status == 404 { throw failure }
        if (400..<500).contains(answer.status) && answer.status != 408 && answer.status != 429 {
            throw DeliveryError.permanent(MSSays.refusedTo(what, "\(failure)").phrase)
        }
        throw Self.mapped(answer, failure, what: what)
    }

    func send(_ api: API, _ method: HTTPMethod, _ path: String, body: Any?, auth: (String, String),
              shown: String? = nil, record: Bool = true) async throws -> Answer {
        let s = try await secret()
        let user = api == .phone ? (s.token ?? "") : (s.login.flatMap { $0.isEmpty ? nil : $0 } ?? s.password ?? "")
        try await limiter.acquire(MSRateLimit.key(credential, user: user, api: api == .phone ? "phone" : "json"),
                                  policy: api == .phone ? MSRateLimit.phone : MSRateLimit.json)
        let prefix = api == .phone ? "/api/phone/1.0" : "/api/remap/1.2"
        var request = HTTPClientRequest(url: root + prefix + path)
        request.method = method
        request.headers.add(name: "Accept-Encoding", value: "gzip")
        request.headers.add(name: auth.0, value: auth.1)
        if api == .json, method != .GET, let ownWebhooks { request.headers.add(name: "X-Lognex-WebHook-DisableByPrefix", value: ownWebhooks) }
        var bodyText = ""
        if let body {
            let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
            bodyText = String(decoding: data, as: UTF8.self)
            request.headers.add(name: "Content-Type", value: "application/json;charset=utf-8")
            request.body = .bytes(ByteBuffer(bytes: data))
        }
        let line = shown ?? "\(method.rawValue) \(prefix)\(path) \(bodyText.prefix(2000))".trimmingCharacters(in: .whitespaces)
        let reply = try await ConnectorHTTP.exchange(request, line: line, crm: MoySklad.title, http: http, observe: observe, log: log,
                                                     record: record, gzip: true)
        let (status, bytes, text) = (reply.status, reply.body, reply.text)
        if !record { log?.record(Exchange(request: line, status: status, response: "(token response not recorded)")) }
        let retryAfter = status == 429 ? (reply.headers.first(name: "X-Lognex-Retry-After").flatMap { Int($0) } ?? 1000) : nil
        let json = bytes.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        return Answer(status: status, json: JSONBox(value: json), text: text, retryAfterMs: retryAfter)
    }

    // MARK: references

    /// `{"meta":{href, type, mediaType}}` for a JSON API entity of this account.
    public func ref(_ type: String, _ id: String) -> [String: Any] {
        ["meta": ["href": "\(root)/api/remap/1.2/entity/\(type)/\(id)", "type": type, "mediaType": "application/json"]]
    }

    /// The id at the end of a reference's href.
    public static func id(of value: Any?) -> String? {
        let meta = (value as? [String: Any])?["meta"] as? [String: Any] ?? (value as? [String: Any])
        guard let href = meta?["href"] as? String else { return nil }
        return href.split(separator: "/").last.map(String.init)
    }
}

/// MoySklad's date-time: `yyyy-MM-dd HH:mm:ss.SSS`, Moscow time (JSON API docs; for the Phone API the time zone is
/// UNCONFIRMED, bridges send Moscow time too).
public enum MSTime {
    public static let moscow = TimeZone(secondsFromGMT: 3 * 3600)!

    public static func format(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = moscow
        f.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        return f.string(from: date)
    }

    /// A MoySklad date-time, with or without milliseconds.
    public static func parse(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = moscow
        for format in ["yyyy-MM-dd HH:mm:ss.SSS", "yyyy-MM-dd HH:mm:ss"] {
            f.dateFormat = format
            if let date = f.date(from: text) { return date }
        }
        return nil
    }
}
