import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A MoySklad account for tests, the demo and tenants trying the integration: JSON API 1.2 (`/api/remap/1.2/…`) and
/// Phone API 1.0 (`/api/phone/1.0/…`) with MoySklad's paths, field names, `meta` objects, `{"errors":[…]}` bodies and
/// codes, mandatory gzip, Basic and Bearer authentication, the per-user 3-second request budget with its headers and the
/// parallel-request limit. `/sandbox/*` inspects and steers it (outages, token revocation, webhooks, click-to-call).
public final class MoySkladSandbox: @unchecked Sendable {
    public struct Options: Sendable {
        /// Units per window for each user or solution (45 per 3 s, MoySklad's restrictions page).
        public var windowUnits = 45
        public var window: TimeInterval = 3
        /// The weight of one request made with a login/password or a user token; solution tokens weigh 1.
        public var userAuthWeight = MoySkladSandbox.documentedUserWeight(on: Date())
        public var parallelPerUser = 5
        public var parallelPerAccount = 20
        /// Phone API: 100 requests per 5 s and 5 at once per key.
        public var phoneWindowRequests = 100
        public var phoneWindow: TimeInterval = 5
        public var phoneParallel = 5
        /// Answer bodies gzip-encoded (MoySklad may skip it "в редких случаях"; clients must handle both).
        public var compressResponses = true
        /// The origin used in `meta.href`s; the request's Host when nil.
        public var baseURL: String?
        /// How long a webhook receiver has to answer (1500 ms, then up to three more attempts).
        public var webhookTimeout: TimeInterval = 1.5
        public init() {}
    }

    /// The documented weight of a login/password or user-token request on `date`: 2 from 12.05.2026, 3 from 01.09.2026,
    /// 4 from 01.12.2026 (22, 15 and 11 requests per 3 s).
    public static func documentedUserWeight(on date: Date) -> Int {
        let day = MoySkladWire.formatter("yyyy-MM-dd").string(from: date)
        if day >= "2026-12-01" { return 4 }
        if day >= "2026-09-01" { return 3 }
        if day >= "2026-05-12" { return 2 }
        return 1
    }

    let lock = NSLock()
    public let seed: MoySkladSandboxSeed
    public var options: Options
    var counterparties: [MoySkladSandboxSnapshot.Counterparty] = []
    var notes: [String: [[String: String]]] = [:]
    var orders: [MoySkladSandboxSnapshot.Order] = []
    var tasks: [MoySkladSandboxSnapshot.Task] = []
    var calls: [MoySkladSandboxSnapshot.Call] = []
    var popups: [String: [String]] = [:]
    var timers: [String: [String]] = [:]
    var webhooks: [MoySkladSandboxSnapshot.Webhook] = []
    var deliveries: [MoySkladSandboxSnapshot.Delivery] = []
    var clickToCalls: [MoySkladSandboxSnapshot.ClickToCall] = []
    var requests: [String: Int] = [:]
    var rejected1049 = 0
    /// JSON API requests still to refuse with 1049 whatever the window says (`spendWindow`).
    var refuseNext = 0
    var rejected1073 = 0
    /// Issued access token → employee id (a new token revokes the user's earlier ones).
    var accessTokens: [String: String] = [:]
    /// Limit key → (time, weight) of the requests in the current window.
    var spent: [String: [(Date, Int)]] = [:]
    var running: [String: Int] = [:]
    var runningTotal = 0
    var outage: SandboxOutage?
    var held = false
    var waiters: [CheckedContinuation<Void, Never>] = []
    var orderNumber = 0

    public init(seed: MoySkladSandboxSeed = .demo, options: Options = Options()) {
        self.seed = seed
        self.options = options
        let now = MoySkladWire.format(Date())
        counterparties = seed.counterparties.map {
            .init(id: $0.id, name: $0.name, phone: $0.phone, email: $0.email, description: nil, ownerId: $0.ownerId,
                  companyType: "individual", tags: [], attributes: [:], createdByAPI: false, created: now)
        }
    }

    /// Reads a seed file (JSON in `MoySkladSandboxSeed`'s shape).
    public convenience init(seedFile: String, options: Options = Options()) throws {
        let seed = try JSONDecoder().decode(MoySkladSandboxSeed.self, from: Data(contentsOf: URL(fileURLWithPath: seedFile)))
        self.init(seed: seed, options: options)
    }

    public func snapshot() -> MoySkladSandboxSnapshot {
        lock.withLock {
            MoySkladSandboxSnapshot(counterparties: counterparties, notes: notes.mapValues { $0.map { $0["description"] ?? "" } },
                                    orders: orders, tasks: tasks, calls: calls, popups: popups,
                                    timers: timers, webhooks: webhooks, deliveries: deliveries, clickToCalls: clickToCalls,
                                    requests: requests, rejected1049: rejected1049, rejected1073: rejected1073,
                                    inFlight: runningTotal)
        }
    }

    /// Fails the next requests with `status` (503 by default), for `seconds` or for `requests` requests.
    public func startOutage(status: Int = 503, seconds: TimeInterval? = nil, requests count: Int? = nil) {
        lock.withLock { outage = (status, seconds.map { Date().addingTimeInterval($0) }, count) }
    }

    public func endOutage() { lock.withLock { outage = nil } }

    /// Refuses the next `requests` JSON API requests with 429 (code 1049), as when other applications of the account have
    /// spent its window, however slowly Switchboard sends.
    public func spendWindow(requests: Int) { lock.withLock { refuseNext = requests } }

    /// Revokes every access token issued by `security/token` (as issuing a new one, or a password change, does).
    public func expireAccessTokens() { lock.withLock { accessTokens.removeAll() } }

    /// Holds every API request after its limits are checked until `release()`, so tests can fill the parallel limit.
    public func hold() { lock.withLock { held = true } }

    public func release() {
        let woken: [CheckedContinuation<Void, Never>] = lock.withLock {
            held = false
            defer { waiters.removeAll() }
            return waiters
        }
        for w in woken { w.resume() }
    }

    func passGate() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let go: Bool = lock.withLock {
                if held { waiters.append(c) }
                return !held
            }
            if go { c.resume() }
        }
    }

    // MARK: replies

    /// A handler's answer before encoding: a JSON value (nil: no body) and extra headers.
    struct Reply: Error, @unchecked Sendable {
        var status: HTTPResponse.Status = .ok
        var body: Any?
        var headers: [(String, String)] = []
        /// Webhook events the change causes (entity type, action, href, changed fields).
        var events: [WebhookEvent] = []
    }

    struct WebhookEvent {
        var entityType: String
        var action: String
        var href: String
        var fields: [String]
    }

    static let remapDoc = "https://dev.moysklad.ru/doc/api/remap/1.2/#error_"

    /// MoySklad's error body: `{"errors":[{"error", "code", "moreInfo", "parameter"?}]}`.
    static func error(_ status: Int, _ code: Int, _ message: String, parameter: String? = nil, phone: Bool = false) -> Reply {
        var e: [String: Any] = ["error": message, "code": code]
        if !phone { e["moreInfo"] = remapDoc + String(code) }
        if let parameter { e["parameter"] = parameter }
        return Reply(status: .init(code: status), body: ["errors": [e]])
    }

    static func required(_ field: String, phone: Bool = false) -> Reply {
        error(412, 3000, "Ошибка сохранения объекта: поле '\(field)' не может быть пустым или отсутствовать", parameter: field,
              phone: phone)
    }

    static func notFound(_ type: String, _ id: String, phone: Bool = false) -> Reply {
        error(404, 1021, "Объект с типом '\(type)' и идентификатором '\(id)' не найден", phone: phone)
    }

    static let authFailed = "Ошибка аутентификации: Неправильный пароль или имя пользователя или ключ авторизации"

    func encode(_ reply: Reply, gzip: Bool) -> Response {
        var headers = HTTPFields()
        for (name, value) in reply.headers {
            if let n = HTTPField.Name(name) { headers.append(HTTPField(name: n, value: value)) }
        }
        guard let body = reply.body else { return Response(status: reply.status, headers: headers) }
        var bytes = [UInt8]((try? JSONSerialization.data(withJSONObject: body, options: [.withoutEscapingSlashes])) ?? Data())
        headers[.contentType] = "application/json;charset=utf-8"
        if gzip && options.compressResponses {
            bytes = MoySkladWire.gzip(bytes)
            headers[.contentEncoding] = "gzip"
        }
        return Response(status: reply.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: the guard

    /// Who a request acts as, and what its requests weigh.
    struct Caller {
        var employeeId: String
        var limitKey: String
        var weight: Int
        var viaBasic: Bool
    }

    enum API { case remap, phone }

    /// gzip, the outage switch, authentication, the parallel limit and the request budget, in that order; then the
    /// handler under the lock, the rate headers, and the webhooks the change fires.
    func serve(_ req: Request, api: API, handler: @escaping (Caller, Any?, String) -> Reply) async -> Response {
        let key = "\(req.method.rawValue) \(req.uri.path)"
        let phone = api == .phone
        let acceptsGzip = (req.headers[.acceptEncoding] ?? "").lowercased().split(separator: ",")
            .contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("gzip") }
        guard acceptsGzip else {
            lock.withLock { requests[key, default: 0] += 1 }
            return Response(status: .unsupportedMediaType)
        }
        let bytes: [UInt8]
        do {
            var buffer = try await req.body.collect(upTo: 20 << 20)
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            return encode(Self.error(413, 1044, "Превышен максимальный размер запроса", phone: phone), gzip: true)
        }
        var body: Any?
        if !bytes.isEmpty {
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
                return encode(Self.error(400, 2001, "Ошибка формата: входящий запрос не соответствует формату JSON", phone: phone),
                              gzip: true)
            }
            body = parsed
        }
        let base = options.baseURL ?? "http://" + (req.head.authority ?? "api.moysklad.ru")
        let admitted: Result<(Caller, [(String, String)]), Reply> = lock.withLock {
            requests[key, default: 0] += 1
            if let stopped = outageReply(phone: phone) { return .failure(stopped) }
            guard let caller = authenticate(req, api: api) else {
                var r = Self.error(401, 1056, Self.authFailed, phone: phone)
                r.headers.append(("X-Lognex-Auth-Message", "Authentication failed"))
                return .failure(r)
            }
            let parallel = phone ? options.phoneParallel : options.parallelPerUser
            if running[caller.limitKey, default: 0] >= parallel || (!phone && runningTotal >= options.parallelPerAccount) {
                rejected1073 += 1
                return .failure(Self.error(429, 1073, "Превышено ограничение на одновременное количество запросов", phone: phone))
            }
            let units = phone ? options.phoneWindowRequests : options.windowUnits
            let window = phone ? options.phoneWindow : options.window
            let now = Date()
            var log = (spent[caller.limitKey] ?? []).filter { now.timeIntervalSince($0.0) < window }
            let used = log.reduce(0) { $0 + $1.1 }
            let limit = units / caller.weight
            let spentElsewhere = !phone && refuseNext > 0
            if spentElsewhere { refuseNext -= 1 }
            if spentElsewhere || used + caller.weight > units {
                rejected1049 += 1
                // Time until enough of the window has passed to afford this request.
                var freed = 0, wait = 0
                for (t, w) in log {
                    freed += w
                    if used - freed + caller.weight <= units {
                        wait = max(0, Int(((window - now.timeIntervalSince(t)) * 1000).rounded(.up)))
                        break
                    }
                }
                spent[caller.limitKey] = log
                var r = Self.error(429, 1049, "Превышено ограничение на количество запросов в единицу времени", phone: phone)
                r.headers += [("X-RateLimit-Limit", String(limit)), ("X-Lognex-Retry-TimeInterval", String(Int(window * 1000))),
                              ("X-RateLimit-Remaining", "0"), ("X-Lognex-Reset", String(wait)), ("X-Lognex-Retry-After", String(wait))]
                return .failure(r)
            }
            log.append((now, caller.weight))
            spent[caller.limitKey] = log
            running[caller.limitKey, default: 0] += 1
            runningTotal += 1
            let reset = Int(((window - now.timeIntervalSince(log[0].0)) * 1000).rounded(.up))
            let headers = [("X-RateLimit-Limit", String(limit)), ("X-Lognex-Retry-TimeInterval", String(Int(window * 1000))),
                           ("X-RateLimit-Remaining", String((units - used - caller.weight) / caller.weight)),
                           ("X-Lognex-Reset", String(reset))]
            return .success((caller, headers))
        }
        let caller: Caller, rateHeaders: [(String, String)]
        switch admitted {
        case .failure(let reply): return encode(reply, gzip: true)
        case .success(let admittedCaller): (caller, rateHeaders) = admittedCaller
        }
        await passGate()
        var reply: Reply = lock.withLock {
            defer {
                running[caller.limitKey, default: 1] -= 1
                runningTotal -= 1
            }
            return handler(caller, body, base)
        }
        if !phone { reply.headers += rateHeaders }
        if !reply.events.isEmpty {
            let disabled = req.headers[values: HTTPField.Name("X-Lognex-WebHook-DisableByPrefix")!]
            let events = reply.events, uid = employee(caller.employeeId)?.uid ?? ""
            Task { await self.fire(events, base: base, uid: uid, disabledPrefixes: disabled) }
        }
        return encode(reply, gzip: true)
    }

    func outageReply(phone: Bool) -> Reply? {
        guard let status = sandboxOutageBites(&outage) else { return nil }
        if status == 503 {
            return Self.error(503, 1074, "Сервис временно недоступен, ведутся технические работы", phone: phone)
        }
        return Reply(status: .init(code: status))
    }

    func employee(_ id: String) -> MoySkladSandboxSeed.Employee? { seed.employees.first { $0.id == id } }

    /// Basic login:password or a Bearer token (issued, or a solution's) for the JSON API; the telephony application's
    /// key in `Lognex-Phone-Auth-Token` for the Phone API.
    func authenticate(_ req: Request, api: API) -> Caller? {
        let admin = seed.employees.first { $0.isAdmin } ?? seed.employees[0]
        if api == .phone {
            guard let key = req.headers[HTTPField.Name("Lognex-Phone-Auth-Token")!], key == seed.phoneAccessKey else { return nil }
            return Caller(employeeId: admin.id, limitKey: "phone:" + key, weight: 1, viaBasic: false)
        }
        guard let auth = req.headers[.authorization] else { return nil }
        if auth.hasPrefix("Basic ") {
            guard let data = Data(base64Encoded: String(auth.dropFirst(6))), let pair = String(data: data, encoding: .utf8),
                  let colon = pair.firstIndex(of: ":") else { return nil }
            let login = String(pair[..<colon]), password = String(pair[pair.index(after: colon)...])
            guard let e = seed.employees.first(where: { $0.uid == login && $0.password == password }) else { return nil }
            return Caller(employeeId: e.id, limitKey: "user:" + e.id, weight: options.userAuthWeight, viaBasic: true)
        }
        guard auth.hasPrefix("Bearer ") else { return nil }
        let token = String(auth.dropFirst(7))
        if seed.solutionTokens.contains(token) {
            return Caller(employeeId: admin.id, limitKey: "solution:" + token, weight: 1, viaBasic: false)
        }
        guard let id = accessTokens[token] else { return nil }
        return Caller(employeeId: id, limitKey: "user:" + id, weight: options.userAuthWeight, viaBasic: false)
    }

    // MARK: HTTP

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("api/remap/1.2/**", method: method) { req, _ in
                await self.serve(req, api: .remap) { caller, body, base in
                    self.remap(method: method, path: Self.segments(req.uri.path, after: 3), query: req.uri.queryParameters,
                               body: body, caller: caller, base: base)
                }
            }
            router.on("api/phone/1.0/**", method: method) { req, _ in
                await self.serve(req, api: .phone) { _, body, base in
                    self.phone(method: method, path: Self.segments(req.uri.path, after: 3), query: req.uri.queryParameters,
                               body: body, base: base)
                }
            }
        }
        let steer = router.group("sandbox")
        steer.get("state") { _, _ in self.plain(self.snapshot()) }
        steer.post("outage") { req, _ in
            let b = await Self.steeringBody(req)
            self.startOutage(status: b["status"] as? Int ?? 503, seconds: b["seconds"] as? Double, requests: b["requests"] as? Int)
            return self.plain(["ok": true])
        }
        steer.post("expire-tokens") { _, _ in
            self.expireAccessTokens()
            return self.plain(["ok": true])
        }
        steer.post("hold") { _, _ in
            self.hold()
            return self.plain(["ok": true])
        }
        steer.post("release") { _, _ in
            self.release()
            return self.plain(["ok": true])
        }
        steer.post("orders") { req, _ in await self.steerOrder(req) }
        steer.post("orders/update") { req, _ in await self.steerOrderUpdate(req) }
        steer.post("webhooks/fire") { req, _ in await self.steerFire(req) }
        steer.post("click-to-call") { req, _ in await self.steerClickToCall(req) }
        return router
    }

    /// The path's segments after the first `n` (`/api/remap/1.2/entity/x` → `["entity", "x"]`).
    static func segments(_ path: String, after n: Int) -> [String] {
        Array(path.split(separator: "/").dropFirst(n).map { $0.removingPercentEncoding ?? String($0) })
    }

    static func steeringBody(_ req: Request) async -> [String: Any] {
        guard var buffer = try? await req.body.collect(upTo: 1 << 20) else { return [:] }
        let data = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    func plain(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func plainObject(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Serves the sandbox on `host:port` (0 picks a free port).
    public func application(host: String = "127.0.0.1", port: Int = 0, logger: Logger,
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "MoySklad sandbox"),
                    onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: logger)
    }
}
