import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import SwitchboardCore

/// A method's failure, answered as Bitrix24 does: `{"error": code, "error_description": text}` with an HTTP status.
struct B24Error: Error {
    var status: Int
    var code: String
    var description: String

    /// Telephony's method errors.
    static func core(_ text: String) -> B24Error { B24Error(status: 400, code: "ERROR_CORE", description: text) }
    /// The CRM's method errors carry an empty code.
    static func crm(_ text: String) -> B24Error { B24Error(status: 400, code: "", description: text) }
    static let wrongAuthType = B24Error(status: 403, code: "WRONG_AUTH_TYPE",
                                        description: "Current authorization type is denied for this method")
}

/// A method's success: `result`, and for list methods `total` and `next`.
struct B24Answer {
    var result: Any
    var total: Int?
    var next: Int?
    init(_ result: Any, total: Int? = nil, next: Int? = nil) {
        self.result = result
        self.total = total
        self.next = next
    }
}

/// Who a REST call acts for: the user behind an OAuth access token or an incoming webhook.
struct B24Caller {
    var userId: Int
    var viaWebhook: Bool
}

/// An event on its way to a handler: the form fields Bitrix24 posts.
struct B24Delivery {
    var event: String
    var handler: String
    var body: String
}

/// A Bitrix24 portal for tests, the demo and tenants trying the integration, with Switchboard installed as a local
/// application: REST calls at `/rest/<method>[.json]` (JSON or PHP-style form bodies, `auth=<access token>`), the
/// answer envelope with `time`, `total`/`next` and 50-item pages, `batch`, the documented error bodies and statuses,
/// the leaky-bucket request limit (QUERY_LIMIT_EXCEEDED), and the OAuth server (`/oauth/token/`) with expiring access
/// tokens and single-use refresh tokens. Events (ONAPPINSTALL, ONEXTERNALCALLSTART, ONCRM…) are posted to bound
/// handlers as Bitrix24 posts them. `/sandbox/*` inspects and steers it.
public final class B24Sandbox: @unchecked Sendable {
    public struct Options: Sendable {
        public var accessTokenLifetime: TimeInterval = 3600
        /// The leaky bucket: requests beyond `burst` are refused; it drains `drainPerSecond` a second.
        /// Bitrix24's standard plans: 50 and 2; Enterprise: 250 and 5.
        public var burst: Double = 50
        public var drainPerSecond: Double = 2
        /// The address clients reach the sandbox at (`client_endpoint` is built from it); the bound address when nil.
        public var publicURL: String?
        public init() {}
    }

    let lock = NSLock()
    public let seed: B24SandboxSeed
    public var options: Options
    var baseURL = "http://127.0.0.1"
    var crmMode: Int
    /// CRM records by type (CONTACT, COMPANY, LEAD, DEAL, ACTIVITY), each with Bitrix24's field names.
    var records: [String: [[String: Any]]] = [:]
    var nextIds: [String: Int] = [:]
    var nextMultifieldId = 1_000
    var lines: [[String: Any]] = []
    var calls: [B24Call] = []
    var nextStatisticId = 1
    var tasks: [[String: Any]] = []
    var notifications: [[String: Any]] = []
    var chat: [[String: Any]] = []
    var handlers: [(id: Int, event: String, handler: String, authType: Int)] = []
    var nextHandlerId = 1
    var deliveries: [[String: Any]] = []
    var outbox: [B24Delivery] = []
    var requests: [String: Int] = [:]
    var rejectedQueryLimit = 0
    /// Requests refused whatever the bucket says (other applications keeping the portal's bucket full).
    var refuseNext = 0
    var accessTokens: [String: (expiry: Date, userId: Int)] = [:]
    var refreshTokens: [String: Int] = [:]
    var codes: [String: (expiry: Date, userId: Int)] = [:]
    var bucket = 0.0
    var bucketAt = Date()
    var outage: SandboxOutage?

    public init(seed: B24SandboxSeed = .demo, options: Options = Options()) {
        self.seed = seed
        self.options = options
        self.crmMode = seed.crm_mode
        let created = Self.date(Date(timeIntervalSince1970: 1_704_067_200), offset: seed.utc_offset)
        for (type, list) in [("CONTACT", seed.contacts), ("COMPANY", seed.companies), ("LEAD", seed.leads), ("DEAL", seed.deals)] {
            for e in list {
                var r = defaults(type, id: e.id, userId: e.assigned_by_id, now: created)
                if let t = e.title { r["TITLE"] = t }
                if let n = e.name { r["NAME"] = n }
                if let n = e.last_name { r["LAST_NAME"] = n }
                if let c = e.contact_id { r["CONTACT_ID"] = String(c) }
                if let s = e.stage_id { r["STAGE_ID"] = s }
                if type != "DEAL" {
                    r["PHONE"] = e.phones.map { multifield("PHONE", value: $0, valueType: "WORK") }
                    r["HAS_PHONE"] = e.phones.isEmpty ? "N" : "Y"
                }
                records[type, default: []].append(r)
                nextIds[type] = max(nextIds[type] ?? 0, e.id)
            }
        }
    }

    /// Reads a seed file (JSON in `B24SandboxSeed`'s shape).
    public convenience init(seedFile: String, options: Options = Options()) throws {
        let seed = try JSONDecoder().decode(B24SandboxSeed.self, from: Data(contentsOf: URL(fileURLWithPath: seedFile)))
        self.init(seed: seed, options: options)
    }

    /// The portal's address as the application sees it (`domain` in answers and events).
    var domain: String { URLComponents(string: baseURL).map { c in c.host.map { h in c.port.map { "\(h):\($0)" } ?? h } ?? "" } ?? "" }
    var clientEndpoint: String { baseURL + "/rest/" }
    var serverEndpoint: String { baseURL + "/oauth/rest/" }

    // MARK: steering

    public func snapshot() -> B24SandboxSnapshot {
        lock.withLock {
            B24SandboxSnapshot(crm_mode: crmMode, contacts: Self.values(records["CONTACT"]), companies: Self.values(records["COMPANY"]),
                               leads: Self.values(records["LEAD"]), deals: Self.values(records["DEAL"]),
                               activities: Self.values(records["ACTIVITY"]), tasks: Self.values(tasks), lines: Self.values(lines),
                               calls: Self.values(calls.map(\.json)), notifications: Self.values(notifications),
                               chat: Self.values(chat),
                               handlers: Self.values(handlers.map { ["ID": $0.id, "event": $0.event, "handler": $0.handler,
                                                                     "auth_type": String($0.authType)] }),
                               deliveries: Self.values(deliveries), requests: requests, rejected_query_limit: rejectedQueryLimit,
                               timeline_comments: Self.values(records["TIMELINE_COMMENT"]))
        }
    }

    static func values(_ list: [[String: Any]]?) -> [[String: JSONValue]] {
        (list ?? []).map { r in
            guard let data = try? JSONSerialization.data(withJSONObject: r),
                  let v = try? JSONDecoder().decode([String: JSONValue].self, from: data) else { return [:] }
            return v
        }
    }

    /// Fails the next REST requests with `status` (503 by default), for `seconds` or for `requests` requests.
    public func startOutage(status: Int = 503, seconds: TimeInterval? = nil, requests count: Int? = nil) {
        lock.withLock { outage = (status, seconds.map { Date().addingTimeInterval($0) }, count) }
    }

    public func endOutage() { lock.withLock { outage = nil } }

    /// Makes every issued access token expire now (refresh tokens stay valid).
    public func expireAccessTokens() { lock.withLock { for k in accessTokens.keys { accessTokens[k]?.expiry = .distantPast } } }

    /// Forgets every token, as when the application is removed or access is revoked: calls get `invalid_token`,
    /// refreshes `invalid_grant`.
    public func revokeTokens() {
        lock.withLock {
            accessTokens = [:]
            refreshTokens = [:]
        }
    }

    public func setCRMMode(_ mode: Int) { lock.withLock { crmMode = mode } }

    /// Fills the bucket, so the next request is refused with QUERY_LIMIT_EXCEEDED; with `requests`, that many further
    /// requests are refused however fast the bucket drains (other applications keep it full).
    public func exhaustQueryLimit(requests: Int = 0) {
        lock.withLock {
            bucket = options.burst
            bucketAt = Date()
            refuseNext = requests
        }
    }

    /// Issues a token pair for `userId` (the installing administrator by default), as the OAuth server does.
    public func issueTokens(userId: Int? = nil) -> (access: String, refresh: String) {
        lock.withLock { issue(userId: userId ?? seed.install_user_id) }
    }

    /// An authorization code for `/oauth/token/?grant_type=authorization_code`, valid 30 seconds.
    public func authorizationCode(userId: Int? = nil) -> String {
        let code = Self.token()
        lock.withLock { codes[code] = (Date().addingTimeInterval(30), userId ?? seed.install_user_id) }
        return code
    }

    func issue(userId: Int) -> (access: String, refresh: String) {
        let access = Self.token(), refresh = Self.token()
        accessTokens[access] = (Date().addingTimeInterval(options.accessTokenLifetime), userId)
        refreshTokens[refresh] = userId
        return (access, refresh)
    }

    static func token() -> String {
        (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "").lowercased().prefix(64).description
    }

    // MARK: HTTP

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("rest/**") { req, _ in try await self.rest(req) }
        router.post("rest/**") { req, _ in try await self.rest(req) }
        router.get("oauth/token") { req, _ in try await self.tokenEndpoint(req) }
        router.post("oauth/token") { req, _ in try await self.tokenEndpoint(req) }
        router.get("oauth/rest/app.info") { req, _ in try await self.serverAppInfo(req) }
        router.get("oauth/authorize") { req, _ in self.authorize(req) }
        let steer = router.group("sandbox")
        steer.get("state") { _, _ in Self.encoded(self.snapshot()) }
        steer.post("outage") { req, _ in
            let b = await Self.jsonBody(req)
            self.startOutage(status: b["status"] as? Int ?? 503, seconds: b["seconds"] as? Double, requests: b["requests"] as? Int)
            return Self.raw(["ok": true])
        }
        let switches: [(RouterPath, @Sendable () -> Void)] = [("expire-tokens", { self.expireAccessTokens() }),
                                                              ("revoke-tokens", { self.revokeTokens() }),
                                                              ("exhaust-limit", { self.exhaustQueryLimit() })]
        for (path, action) in switches {
            steer.post(path) { _, _ in
                action()
                return Self.raw(["ok": true])
            }
        }
        steer.post("crm-mode") { req, _ in
            let b = await Self.jsonBody(req)
            guard let mode = b["mode"] as? Int, [1, 2].contains(mode) else { return Self.raw(["error": "mode must be 1 or 2"], status: .badRequest) }
            self.setCRMMode(mode)
            return Self.raw(["ok": true])
        }
        steer.post("code") { req, _ in
            let b = await Self.jsonBody(req)
            return Self.raw(["code": self.authorizationCode(userId: b["user_id"] as? Int)])
        }
        steer.post("install") { req, _ in
            let b = await Self.jsonBody(req)
            guard let handler = b["handler"] as? String else { return Self.raw(["error": "handler is required"], status: .badRequest) }
            return Self.raw(await self.install(handler: handler, userId: b["user_id"] as? Int))
        }
        steer.post("click-to-call") { req, _ in
            let b = await Self.jsonBody(req)
            do {
                return Self.raw(try await self.clickToCall(userId: b["user_id"] as? Int ?? self.seed.install_user_id,
                                                           phone: b["phone"] as? String ?? "", line: b["line_number"] as? String,
                                                           entityType: b["crm_entity_type"] as? String,
                                                           entityId: b["crm_entity_id"] as? Int))
            } catch let e as B24Error {
                return Self.failure(e)
            }
        }
        steer.post("callback-start") { req, _ in
            let b = await Self.jsonBody(req)
            return Self.raw(await self.callbackStart(phone: b["phone"] as? String ?? "", line: b["line_number"] as? String,
                                                     text: b["text"] as? String))
        }
        steer.post("deal-update") { req, _ in
            let b = await Self.jsonBody(req)
            guard let id = b["id"] as? Int else { return Self.raw(["error": "id is required"], status: .badRequest) }
            return Self.raw(await self.updateDealFromPortal(id: id, fields: b["fields"] as? [String: Any] ?? [:]))
        }
        steer.post("deal-add") { req, _ in Self.raw(await self.addDealFromPortal(await Self.jsonBody(req))) }
        return router
    }

    static func jsonBody(_ req: Request) async -> [String: Any] {
        guard var buffer = try? await req.body.collect(upTo: 1 << 20) else { return [:] }
        let data = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    static func encoded(_ value: some Encodable) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func raw(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func failure(_ e: B24Error) -> Response {
        raw(["error": e.code, "error_description": e.description], status: .init(code: e.status))
    }

    // MARK: time

    static func date(_ d: Date, offset: Int) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(secondsFromGMT: offset)
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    func date(_ d: Date) -> String { Self.date(d, offset: seed.utc_offset) }

    /// The `time` block every answer carries.
    func time(_ start: Date, _ finish: Date = Date()) -> [String: Any] {
        let s = start.timeIntervalSince1970, f = max(finish.timeIntervalSince1970, s)
        return ["start": s, "finish": f, "duration": f - s, "processing": f - s, "date_start": date(start), "date_finish": date(finish),
                "operating_reset_at": Int(s) + 600, "operating": 0]
    }

    // MARK: REST

    func rest(_ req: Request) async throws -> Response {
        let start = Date()
        var parts = req.uri.path.split(separator: "/").map(String.init)
        guard parts.first == "rest" else { return Self.failure(B24Error(status: 404, code: "ERROR_METHOD_NOT_FOUND", description: "Method not found!")) }
        parts.removeFirst()
        var webhook: (userId: String, secret: String)?
        if parts.count == 3 {
            webhook = (parts[0], parts[1])
            parts.removeFirst(2)
        }
        guard parts.count == 1 else { return Self.failure(B24Error(status: 404, code: "ERROR_METHOD_NOT_FOUND", description: "Method not found!")) }
        var method = parts[0].lowercased()
        if method.hasSuffix(".json") { method.removeLast(5) }

        var params = B24Params.parseQuery(req.uri.query ?? "")
        if req.method == .post {
            var buffer = try await req.body.collect(upTo: 32 << 20)
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            let contentType = req.headers[.contentType] ?? ""
            if contentType.contains("json") || bytes.first == UInt8(ascii: "{") {
                guard let body = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
                    return Self.failure(B24Error(status: 400, code: "INVALID_REQUEST", description: "Invalid JSON body"))
                }
                params.merge(body) { _, new in new }
            } else {
                params.merge(B24Params.parseQuery(String(decoding: bytes, as: UTF8.self))) { _, new in new }
            }
        }
        let p = B24Params(params)
        let response: Response = lock.withLock {
            requests[method, default: 0] += 1
            if let e = outageError() { return Self.failure(e) }
            if refuseNext > 0 || !admit() {
                refuseNext = max(0, refuseNext - 1)
                rejectedQueryLimit += 1
                return Self.failure(B24Error(status: 503, code: "QUERY_LIMIT_EXCEEDED", description: "Too many requests"))
            }
            let caller: B24Caller
            switch authenticate(p, webhook: webhook) {
            case .success(let c): caller = c
            case .failure(let e): return Self.failure(e)
            }
            do {
                let answer = try call(method, p, caller, inBatch: false)
                var body: [String: Any] = ["result": answer.result, "time": time(start)]
                if let t = answer.total { body["total"] = t }
                if let n = answer.next { body["next"] = n }
                return Self.raw(body)
            } catch let e as B24Error {
                return Self.failure(e)
            } catch {
                return Self.failure(B24Error(status: 500, code: "INTERNAL_SERVER_ERROR", description: "Internal server error"))
            }
        }
        // Bitrix24 delivers events through a queue, after the call that caused them has answered.
        Task { await self.flush() }
        return response
    }

    func outageError() -> B24Error? {
        guard let status = sandboxOutageBites(&outage) else { return nil }
        return status == 503 ? B24Error(status: 503, code: "INTERNAL_SERVER_ERROR", description: "Service unavailable")
            : B24Error(status: status, code: "INTERNAL_SERVER_ERROR", description: "Internal server error")
    }

    /// The leaky bucket: every request adds one; it drains at a steady rate; a full bucket refuses requests.
    func admit() -> Bool {
        let now = Date()
        bucket = max(0, bucket - now.timeIntervalSince(bucketAt) * options.drainPerSecond)
        bucketAt = now
        guard bucket + 1 <= options.burst else { return false }
        bucket += 1
        return true
    }

    func authenticate(_ p: B24Params, webhook: (userId: String, secret: String)?) -> Result<B24Caller, B24Error> {
        if let webhook {
            guard let user = seed.webhooks[webhook.secret], String(user) == webhook.userId else {
                return .failure(B24Error(status: 401, code: "INVALID_CREDENTIALS", description: "Invalid request credentials"))
            }
            return .success(B24Caller(userId: user, viaWebhook: true))
        }
        guard let token = p.string("auth"), !token.isEmpty else {
            return .failure(B24Error(status: 401, code: "NO_AUTH_FOUND", description: "Wrong authorization data"))
        }
        guard let entry = accessTokens[token] else {
            return .failure(B24Error(status: 401, code: "invalid_token", description: "The access token provided is invalid."))
        }
        guard entry.expiry > Date() else {
            return .failure(B24Error(status: 401, code: "expired_token", description: "The access token provided has expired."))
        }
        return .success(B24Caller(userId: entry.userId, viaWebhook: false))
    }

    // MARK: OAuth server

    func tokenEndpoint(_ req: Request) async throws -> Response {
        var params = B24Params.parseQuery(req.uri.query ?? "")
        if req.method == .post {
            var buffer = try await req.body.collect(upTo: 1 << 20)
            params.merge(B24Params.parseQuery(String(decoding: buffer.readBytes(length: buffer.readableBytes) ?? [], as: UTF8.self))) { $1 }
        }
        let p = B24Params(params)
        let invalidGrant = B24Error(status: 400, code: "invalid_grant", description: "Invalid authorization code or refresh token")
        let answer: Result<[String: Any], B24Error> = lock.withLock {
            requests["oauth/token", default: 0] += 1
            guard p.string("client_id") == seed.client_id, p.string("client_secret") == seed.client_secret else {
                return .failure(B24Error(status: 400, code: "invalid_client", description: "Invalid client data"))
            }
            let userId: Int
            switch p.string("grant_type") {
            case "authorization_code":
                guard let code = p.string("code"), let entry = codes.removeValue(forKey: code), entry.expiry > Date() else {
                    return .failure(invalidGrant)
                }
                userId = entry.userId
            case "refresh_token":
                // Single-use: the refresh token dies with this exchange; the answer carries its successor.
                guard let refresh = p.string("refresh_token"), let user = refreshTokens.removeValue(forKey: refresh) else {
                    return .failure(invalidGrant)
                }
                userId = user
            default:
                return .failure(B24Error(status: 400, code: "invalid_request", description: "Invalid grant_type"))
            }
            let (access, refresh) = issue(userId: userId)
            return .success(tokenBody(access: access, refresh: refresh, userId: userId))
        }
        switch answer {
        case .success(let body): return Self.raw(body)
        case .failure(let e): return Self.failure(e)
        }
    }

    func tokenBody(access: String, refresh: String, userId: Int) -> [String: Any] {
        ["access_token": access, "expires": Int(Date().timeIntervalSince1970 + options.accessTokenLifetime),
         "expires_in": Int(options.accessTokenLifetime), "scope": seed.scope, "domain": "oauth.bitrix.info",
         "server_endpoint": serverEndpoint, "status": "L", "client_endpoint": clientEndpoint, "member_id": seed.member_id,
         "user_id": userId, "refresh_token": refresh]
    }

    /// The OAuth server's `app.info`: the installation behind an access token.
    func serverAppInfo(_ req: Request) async throws -> Response {
        let start = Date()
        let token = req.uri.queryParameters["auth"].map(String.init) ?? ""
        return lock.withLock {
            guard let entry = accessTokens[token] else {
                return Self.failure(B24Error(status: 401, code: "invalid_token", description: "The access token provided is invalid."))
            }
            guard entry.expiry > Date() else {
                return Self.failure(B24Error(status: 401, code: "expired_token", description: "The access token provided has expired."))
            }
            return Self.raw(["result": ["client_id": seed.client_id, "scope": seed.scope, "expires": date(entry.expiry),
                                        "install": ["installed": true, "version": 1, "status": "L", "scope": seed.scope,
                                                    "domain": domain, "uri": baseURL, "client_endpoint": clientEndpoint,
                                                    "member_id": seed.member_id, "member_type": "PORTAL"],
                                        "user_id": entry.userId],
                             "time": time(start)])
        }
    }

    /// `/oauth/authorize/`: sends the browser back to the application with a 30-second code, as the portal does.
    func authorize(_ req: Request) -> Response {
        let q = req.uri.queryParameters
        guard q["client_id"].map(String.init) == seed.client_id,
              let redirect = seed.redirect_uri ?? q["redirect_uri"].map(String.init), var c = URLComponents(string: redirect) else {
            return Self.failure(B24Error(status: 400, code: "invalid_client", description: "Invalid client data"))
        }
        let code = authorizationCode()
        c.queryItems = (c.queryItems ?? []) + [URLQueryItem(name: "code", value: code),
                                                URLQueryItem(name: "state", value: q["state"].map(String.init)),
                                                URLQueryItem(name: "domain", value: domain),
                                                URLQueryItem(name: "member_id", value: seed.member_id),
                                                URLQueryItem(name: "scope", value: seed.scope),
                                                URLQueryItem(name: "server_domain", value: "oauth.bitrix.info")]
        return Response(status: .found, headers: [.location: c.string ?? redirect])
    }

    // MARK: events

    static let knownEvents: Set<String> = [
        "ONAPPINSTALL", "ONAPPUNINSTALL", "ONAPPUPDATE", "ONEXTERNALCALLSTART", "ONEXTERNALCALLBACKSTART",
        "ONCRMLEADADD", "ONCRMLEADUPDATE", "ONCRMLEADDELETE", "ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE",
        "ONCRMCONTACTADD", "ONCRMCONTACTUPDATE", "ONCRMCONTACTDELETE", "ONCRMCOMPANYADD", "ONCRMCOMPANYUPDATE",
        "ONCRMCOMPANYDELETE", "ONCRMACTIVITYADD", "ONVOXIMPLANTCALLINIT", "ONVOXIMPLANTCALLSTART", "ONVOXIMPLANTCALLEND",
        "ONUSERADD",
    ]

    /// The `auth` block of an event: fresh tokens for the handler's user and the portal's identity.
    func eventAuth(userId: Int) -> [(String, Any)] {
        let (access, refresh) = issue(userId: userId)
        return [("access_token", access), ("expires", Int(Date().timeIntervalSince1970 + options.accessTokenLifetime)),
                ("expires_in", Int(options.accessTokenLifetime)), ("scope", seed.scope), ("domain", domain),
                ("server_endpoint", serverEndpoint), ("status", "L"), ("client_endpoint", clientEndpoint),
                ("member_id", seed.member_id), ("user_id", userId), ("refresh_token", refresh),
                ("application_token", seed.application_token)]
    }

    /// Queues `event` for every handler bound to it (sent by `flush`).
    func queue(_ event: String, data: [(String, Any)]) {
        for h in handlers where h.event == event {
            let body = B24Params.formBody([("event", event), ("event_handler_id", h.id), ("data", data),
                                           ("ts", Int(Date().timeIntervalSince1970)),
                                           ("auth", eventAuth(userId: h.authType > 0 ? h.authType : seed.install_user_id))])
            outbox.append(B24Delivery(event: event, handler: h.handler, body: body))
        }
    }

    /// Posts the queued events; a failed delivery is recorded and dropped (Bitrix24 does not retry).
    @discardableResult
    func flush() async -> [Int] {
        let batch: [B24Delivery] = lock.withLock {
            defer { outbox = [] }
            return outbox
        }
        var statuses: [Int] = []
        for d in batch {
            let status = await Self.post(d.body, to: d.handler)
            statuses.append(status)
            lock.withLock { deliveries.append(["event": d.event, "handler": d.handler, "status": status, "body": d.body]) }
        }
        return statuses
    }

    static func post(_ body: String, to url: String) async -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "User-Agent", value: "Bitrix24 Webhook Engine")
        request.body = .bytes(ByteBuffer(string: body))
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10)) else { return 0 }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }

    /// Installs the application: posts ONAPPINSTALL with a fresh token pair and the application token to `handler`.
    func install(handler: String, userId: Int?) async -> [String: Any] {
        let body: String = lock.withLock {
            B24Params.formBody([("event", "ONAPPINSTALL"),
                                ("data", [("VERSION", "1"), ("ACTIVE", "Y"), ("INSTALLED", "Y"), ("LANGUAGE_ID", "ru")] as [(String, Any)]),
                                ("ts", Int(Date().timeIntervalSince1970)),
                                ("auth", eventAuth(userId: userId ?? seed.install_user_id))])
        }
        let status = await Self.post(body, to: handler)
        lock.withLock { deliveries.append(["event": "ONAPPINSTALL", "handler": handler, "status": status, "body": body]) }
        return ["event": "ONAPPINSTALL", "handler_status": status]
    }

    /// Installs the application from outside the HTTP API (the demo): whether the handler accepted it.
    public func installApplication(handler: String, userId: Int? = nil) async -> Bool {
        (await install(handler: handler, userId: userId))["handler_status"] as? Int == 200
    }

    /// A user clicks a number in the CRM: Bitrix24 registers the call itself and posts ONEXTERNALCALLSTART.
    func clickToCall(userId: Int, phone: String, line: String?, entityType: String?, entityId: Int?) async throws -> [String: Any] {
        let callId: String = try lock.withLock {
            guard let user = seed.users.first(where: { $0.id == userId && $0.active }) else {
                throw B24Error.core("User is not found or is not active")
            }
            var p: [String: Any] = ["USER_ID": user.id, "PHONE_NUMBER": phone, "TYPE": 1, "SHOW": 1]
            if let line { p["LINE_NUMBER"] = line }
            if let entityType, let entityId { p["CRM_ENTITY_TYPE"] = entityType; p["CRM_ENTITY_ID"] = entityId }
            let registered = try register(B24Params(p), byPortal: true)
            let id = (registered.result as? [String: Any])?["CALL_ID"] as? String ?? ""
            let call = calls.first { $0.id == id }
            queue("ONEXTERNALCALLSTART", data: [
                ("PHONE_NUMBER", phone), ("PHONE_NUMBER_INTERNATIONAL", phone), ("EXTENSION", ""), ("USER_ID", String(user.id)),
                ("CALL_LIST_ID", "0"), ("LINE_NUMBER", line ?? ""), ("IS_MOBILE", "0"), ("CALL_ID", id),
                ("CRM_ENTITY_TYPE", call?.crmType ?? ""), ("CRM_ENTITY_ID", call?.crmId.map(String.init) ?? ""),
            ])
            return id
        }
        let statuses = await flush()
        return ["CALL_ID": callId, "handler_statuses": statuses]
    }

    /// A visitor orders a callback through a CRM form: Bitrix24 posts ONEXTERNALCALLBACKSTART.
    func callbackStart(phone: String, line: String?, text: String?) async -> [String: Any] {
        lock.withLock {
            let found = crmMatches(phone: phone).first
            queue("ONEXTERNALCALLBACKSTART", data: [
                ("PHONE_NUMBER", phone),
                ("TEXT", text ?? "Заказан обратный звонок с сайта, соединяю с клиентом"), ("VOICE", "ruinternalfemale"),
                ("CRM_ENTITY_TYPE", found?.type ?? ""), ("CRM_ENTITY_ID", found.map { String($0.id) } ?? ""), ("LINE_NUMBER", line ?? ""),
            ])
        }
        return ["handler_statuses": await flush()]
    }

    /// Someone edits a deal in the portal: the fields change and ONCRMDEALUPDATE goes to the handlers.
    func updateDealFromPortal(id: Int, fields: [String: Any]) async -> [String: Any] {
        let ok: Bool = lock.withLock {
            guard let i = records["DEAL"]?.firstIndex(where: { $0["ID"] as? String == String(id) }) else { return false }
            apply(fields, to: &records["DEAL"]![i], type: "DEAL", update: true)
            records["DEAL"]![i]["DATE_MODIFY"] = date(Date())
            queue("ONCRMDEALUPDATE", data: [("FIELDS", [("ID", String(id))] as [(String, Any)])])
            return true
        }
        guard ok else { return ["error": "deal not found"] }
        return ["handler_statuses": await flush()]
    }

    /// Serves the sandbox on `host:port` (0 picks a free port).
    public func application(host: String = "127.0.0.1", port: Int = 0, logger: Logger,
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "Bitrix24 sandbox"),
                    onServerRunning: { channel in
                        let bound = channel.localAddress?.port ?? 0
                        self.lock.withLock { self.baseURL = self.options.publicURL ?? "http://\(host):\(bound)" }
                        await onRunning(bound)
                    }, logger: logger)
    }
}
