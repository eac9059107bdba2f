import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore

/// A Megaplan account for tests, the demo and tenants trying the integration: API v3's paths (`/api/v3/...`), JSON
/// parameters in the query string, the `{meta, data}` envelope with its errors and pagination, the OAuth password and
/// refresh grants with expiring tokens, employees, clients, deals in programs, todos, tasks, comments and the telephony
/// entities (`callInfo`, `callRoute`, `callUserConfig`). `/sandbox/*` inspects it and makes it send what Megaplan sends
/// (web phone commands, event streams). Every guessed shape lives in `MegaplanSandboxFacts`.
public final class MegaplanSandbox: @unchecked Sendable {
    public struct Options: Sendable {
        public var accessTokenLifetime: TimeInterval = 172_800
        public var requestsPerSecond: Int? = MegaplanSandboxFacts.defaultRequestsPerSecond
        public var requestsPerHour: Int? = MegaplanSandboxFacts.defaultRequestsPerHour
        public init() {}
    }

    typealias Object = [String: MegaplanJSON]

    let lock = NSLock()
    public let seed: MegaplanSandboxSeed
    public var options: Options
    var nextId = 2_000_000
    /// Entities by content type, in creation order, as the API returns them.
    var entities: [String: [Object]] = [:]
    var historyCallIds: [String] = []
    var popups: [MegaplanSandboxSnapshot.Popup] = []
    var sent: [MegaplanSandboxSnapshot.Sent] = []
    var dnd: [String: Bool] = [:]
    var requests: [String: Int] = [:]
    var rejected429 = 0
    /// access token → (employee, expiry)
    var accessTokens: [String: (employeeId: String, expiry: Date)] = [:]
    /// refresh token → employee
    var refreshTokens: [String: String] = [:]
    var recentSecond: [Date] = []
    var recentHour: [Date] = []
    var outage: SandboxOutage?
    /// Applications receiving event streams: address and the models they ticked.
    var subscriptions: [(url: String, models: Set<String>)] = []
    /// Event-stream deliveries made while the lock was held, sent once it is released.
    var pending: [(kind: String, url: String, body: MegaplanJSON)] = []

    public init(seed: MegaplanSandboxSeed = .demo, options: Options = Options()) {
        self.seed = seed
        self.options = options
        let created = Self.dateTime(Date())
        for e in seed.employees {
            var contact: [MegaplanJSON] = [["contentType": "ContactInfo", "id": .string("e\(e.id)"), "type": "email",
                                            "value": .string(e.email), "isMain": true]]
            for (i, p) in (e.phones ?? []).enumerated() {
                contact.append(["contentType": "ContactInfo", "id": .string("p\(e.id)-\(i)"), "type": "phone", "value": .string(p),
                                "isMain": .bool(i == 0)])
            }
            var employee: Object = ["contentType": "Employee", "id": .string(e.id), "firstName": .string(e.firstName),
                                    "lastName": .string(e.lastName), "middleName": e.middleName.map { .string($0) } ?? .null,
                                    "name": .string("\(e.firstName) \(e.lastName)"), "position": e.position.map { .string($0) } ?? .null,
                                    "contactInfo": .array(contact), "canLogin": .bool(e.fired != true), "timeCreated": created]
            if e.fired == true { employee["fireDay"] = Self.dateOnly(Date()) }
            entities["Employee", default: []].append(employee)
            if let number = e.internalNumber {
                entities["CallUserConfig", default: []].append(
                    ["contentType": "CallUserConfig", "id": .string("cfg\(e.id)"), "employee": Self.link("Employee", e.id),
                     "internalNumber": .string(number), "settings": "{}"])
            }
        }
        for c in seed.contractors {
            var contact: [MegaplanJSON] = c.phones.enumerated().map { i, p in
                ["contentType": "ContactInfo", "id": .string("p\(c.id)-\(i)"), "type": "phone", "value": .string(p), "isMain": .bool(i == 0)]
            }
            contact += (c.emails ?? []).enumerated().map { i, m in
                ["contentType": "ContactInfo", "id": .string("m\(c.id)-\(i)"), "type": "email", "value": .string(m), "isMain": .bool(i == 0)]
            }
            var o: Object = ["contentType": .string(c.contentType), "id": .string(c.id), "contactInfo": .array(contact),
                             "responsibles": .array(c.responsibleIds.map { Self.link("Employee", $0) }),
                             "timeCreated": created, "timeUpdated": created]
            if c.contentType == "ContractorCompany" {
                o["name"] = .string(c.name ?? "Компания")
            } else {
                o["firstName"] = c.firstName.map { .string($0) } ?? .null
                o["lastName"] = c.lastName.map { .string($0) } ?? .null
            }
            entities[c.contentType, default: []].append(o)
        }
        for p in seed.programs {
            let states: [MegaplanJSON] = p.states.map { st in
                ["contentType": "ProgramState", "id": .string(st.id), "name": .string(st.name), "type": .string(st.type),
                 "isEntry": .bool(st.isEntry ?? false), "program": Self.link("Program", p.id)]
            }
            entities["ProgramState", default: []] += states.compactMap(\.object)
            entities["Program", default: []].append(["contentType": "Program", "id": .string(p.id), "name": .string(p.name),
                                                     "states": .array(states), "isBpm": false])
        }
        entities["TodoCategory"] = seed.todoCategories.map {
            ["contentType": "TodoCategory", "id": .string($0.id), "name": .string($0.name), "masterType": .string($0.masterType)]
        }
        for k in Array(entities.keys) { entities[k] = entities[k]!.map { decorate($0) } }
    }

    /// Reads a seed file (JSON in `MegaplanSandboxSeed`'s shape).
    public convenience init(seedFile: String, options: Options = Options()) throws {
        let seed = try JSONDecoder().decode(MegaplanSandboxSeed.self, from: Data(contentsOf: URL(fileURLWithPath: seedFile)))
        self.init(seed: seed, options: options)
    }

    public func snapshot() -> MegaplanSandboxSnapshot {
        lock.withLock {
            MegaplanSandboxSnapshot(entities: entities.mapValues { $0.map { .object($0) } }, historyCallIds: historyCallIds,
                                    popups: popups, sent: sent, dnd: dnd, requests: requests, rejected429: rejected429)
        }
    }

    /// Fails the next API requests with `status` (503 by default), for `seconds` or for `requests` requests.
    public func startOutage(status: Int = 503, seconds: TimeInterval? = nil, requests count: Int? = nil) {
        lock.withLock { outage = (status, seconds.map { Date().addingTimeInterval($0) }, count) }
    }

    public func endOutage() { lock.withLock { outage = nil } }

    /// Makes every issued access token expire now (refresh tokens stay valid).
    public func expireAccessTokens() { lock.withLock { for k in accessTokens.keys { accessTokens[k]!.expiry = .distantPast } } }

    // MARK: HTTP

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post("api/v3/auth/access_token") { req, _ in try await self.token(req) }
        routeEntities(router)
        routeTelephony(router)
        routeSandbox(router)
        return router
    }

    /// One API call: its parameters (the query's JSON merged with a JSON object body), the raw body, the caller.
    struct Call {
        var params: Object
        var body: MegaplanJSON
        var employeeId: String
        var id: String?
    }

    /// The id path parameter (Megaplan's ids are strings of digits; the sandbox's own are the same).
    static func id(_ ctx: BasicRequestContext) -> String? { ctx.parameters.get("id") }

    /// Parses the request, then checks the outage switch, the access token and the rate limit, in that order; the
    /// handler runs under the lock. Event-stream deliveries the handler queued go out after it.
    func api(_ req: Request, id: String? = nil, _ handler: (Call) throws -> Response) async throws -> Response {
        let key = "\(req.method.rawValue) \(req.uri.path)"
        var buffer = try await req.body.collect(upTo: 4 << 20)
        let bytes = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        var params: Object = [:]
        var malformed: String?
        if let raw = req.uri.query, !raw.isEmpty {
            let decoded = raw.removingPercentEncoding ?? raw
            if let q = MegaplanJSON.parse(Data(decoded.utf8))?.object { params = q } else { malformed = "Параметры запроса должны быть JSON-объектом" }
        }
        var body: MegaplanJSON = .null
        if !bytes.isEmpty {
            if let b = MegaplanJSON.parse(bytes) {
                body = b
                if let o = b.object { params.merge(o) { _, new in new } }
            } else {
                malformed = "Тело запроса должно быть JSON"
            }
        }
        let bearer: String? = req.headers[.authorization].flatMap { h in
            h.lowercased().hasPrefix("bearer ") ? String(h.dropFirst(7)).trimmingCharacters(in: .whitespaces) : nil
        }
        let token = bearer ?? params["access_token"]?.string
        let response: Response = lock.withLock {
            requests[key, default: 0] += 1
            if let status = sandboxOutageBites(&outage) {
                return Self.failure(status, "Service Unavailable", type: "ServiceUnavailable")
            }
            guard let token, let grant = accessTokens[token], grant.expiry > Date() else {
                return Self.failure(MegaplanSandboxFacts.unauthorizedStatus, MegaplanSandboxFacts.unauthorizedMessage,
                                    type: "UnauthorizedException")
            }
            if let limited = rateLimited() { return limited }
            if let malformed { return Self.failure(422, malformed, type: "InvalidArgumentException") }
            do {
                return try handler(Call(params: params, body: body, employeeId: grant.employeeId, id: id))
            } catch {
                return Self.failure(500, "Internal Server Error", type: "Exception")
            }
        }
        deliverPending()
        return response
    }

    func rateLimited() -> Response? {
        let now = Date()
        recentSecond = recentSecond.filter { now.timeIntervalSince($0) < 1 }
        recentHour = recentHour.filter { now.timeIntervalSince($0) < 3_600 }
        let overSecond = options.requestsPerSecond.map { recentSecond.count >= $0 } ?? false
        let overHour = options.requestsPerHour.map { recentHour.count >= $0 } ?? false
        if overSecond || overHour {
            rejected429 += 1
            return Self.failure(MegaplanSandboxFacts.rateLimitStatus, MegaplanSandboxFacts.rateLimitMessage, type: "TooManyRequests")
        }
        recentSecond.append(now)
        recentHour.append(now)
        return nil
    }

    // MARK: answers

    static func response(_ json: MegaplanJSON, status: Int = 200) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: json.data)))
    }

    /// Megaplan's envelope around a successful answer.
    static func envelope(_ data: MegaplanJSON, pagination: MegaplanJSON? = nil) -> Response {
        var meta: Object = ["status": 200, "errors": []]
        if let pagination { meta["pagination"] = pagination }
        return response(["meta": .object(meta), "data": data])
    }

    /// Megaplan's envelope around an error: the HTTP status repeated in `meta.status`, one item in `meta.errors`.
    static func failure(_ status: Int, _ message: String, field: String? = nil, type: String = "ValidationException") -> Response {
        response(["meta": ["status": .int(status), "errors": [MegaplanSandboxFacts.errorItem(message: message, field: field, type: type)]],
                  "data": MegaplanSandboxFacts.errorData], status: status)
    }

    static func notFound() -> Response { failure(404, MegaplanSandboxFacts.notFoundMessage, type: "NotFoundException") }

    /// A collection with `limit` (default 100), `pageAfter`/`pageBefore` (link-entities, exclusive) and
    /// `meta.pagination` {count, limit, hasMoreNext, hasMorePrev}.
    static func page(_ items: [Object], _ params: Object) -> Response {
        let limit = params["limit"]?.int ?? 100
        guard limit > 0 else { return failure(422, "limit должен быть больше 0", field: "limit") }
        var start = 0, end = items.count
        if let after = params["pageAfter"]?["id"]?.string {
            guard let i = items.firstIndex(where: { $0["id"]?.string == after }) else {
                return failure(422, "Сущность для pageAfter не найдена", field: "pageAfter")
            }
            start = i + 1
            end = min(items.count, start + limit)
        } else if let before = params["pageBefore"]?["id"]?.string {
            guard let i = items.firstIndex(where: { $0["id"]?.string == before }) else {
                return failure(422, "Сущность для pageBefore не найдена", field: "pageBefore")
            }
            end = i
            start = max(0, end - limit)
        } else {
            end = min(items.count, limit)
        }
        let slice = Array(items[start..<end])
        return envelope(.array(slice.map { .object($0) }),
                        pagination: ["count": .int(items.count), "limit": .int(limit), "hasMoreNext": .bool(end < items.count),
                                     "hasMorePrev": .bool(start > 0)])
    }

    /// Sorts by `sortBy: [{fieldName, desc}]` (id order when absent).
    static func sorted(_ items: [Object], _ params: Object) -> [Object] {
        guard let field = params["sortBy"]?.array?.first, let name = field["fieldName"]?.string else { return items }
        let desc = field["desc"]?.bool ?? false
        func key(_ o: Object) -> String {
            let v = o[name]
            return v?["value"]?.string ?? v?.string ?? ""
        }
        let s = items.sorted { key($0) < key($1) }
        return desc ? s.reversed() : s
    }

    // MARK: values

    static func link(_ contentType: String, _ id: String) -> MegaplanJSON { ["contentType": .string(contentType), "id": .string(id)] }

    static func dateTime(_ date: Date) -> MegaplanJSON {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(secondsFromGMT: 3 * 3_600)
        f.formatOptions = [.withInternetDateTime]
        return ["contentType": "DateTime", "value": .string(f.string(from: date))]
    }

    /// `DateOnly`, whose month counts from 0 as in Megaplan.
    static func dateOnly(_ date: Date) -> MegaplanJSON {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 3 * 3_600)!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return ["contentType": "DateOnly", "year": .int(c.year!), "month": .int(c.month! - 1), "day": .int(c.day!)]
    }

    /// Accepts `{contentType: DateTime, value}` with an ISO 8601 or "yyyy-MM-dd HH:mm:ss" value.
    static func validDateTime(_ v: MegaplanJSON?) -> Bool {
        guard let v, !v.isNull else { return true }
        guard let s = v["value"]?.string else { return false }
        if ISO8601DateFormatter().date(from: s) != nil { return true }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.date(from: s) != nil || s.count >= 10 && s.prefix(4).allSatisfy(\.isNumber)
    }

    static func digits(_ s: String) -> String { s.filter(\.isNumber) }

    static func samePhone(_ a: String, _ b: String) -> Bool {
        let n = MegaplanSandboxFacts.phoneMatchDigits
        let x = String(digits(a).suffix(n)), y = String(digits(b).suffix(n))
        return !x.isEmpty && x.count >= min(n, 3) && x == y
    }

    func newId() -> String {
        nextId += 1
        return String(nextId)
    }

    func find(_ contentType: String, _ id: String?) -> Object? {
        guard let id else { return nil }
        return entities[contentType]?.first { $0["id"]?.string == id }
    }

    func store(_ o: Object) {
        let type = o["contentType"]!.string!
        let d = decorate(o)
        if let i = entities[type]?.firstIndex(where: { $0["id"] == d["id"] }) { entities[type]![i] = d } else { entities[type, default: []].append(d) }
    }

    /// A reference as Megaplan nests it: the link plus the name a card shows.
    func nested(_ link: MegaplanJSON?) -> MegaplanJSON? {
        guard let type = link?["contentType"]?.string, let id = link?["id"]?.string, let o = find(type, id) else { return nil }
        var n: Object = ["contentType": .string(type), "id": .string(id)]
        n["name"] = o["name"] ?? .null
        return .object(n)
    }

    /// Computed fields Megaplan fills: a human's `name` from its parts.
    func decorate(_ o: Object) -> Object {
        var o = o
        if o["contentType"] == "ContractorHuman" {
            let parts = ["lastName", "firstName", "middleName"].compactMap { o[$0]?.string }.filter { !$0.isEmpty }
            o["name"] = .string(parts.joined(separator: " "))
        }
        return o
    }

    // MARK: OAuth

    /// The form fields of a token request: `multipart/form-data` (the docs' curl), form-urlencoded, or JSON (the vendor's
    /// PHP SDK posts JSON).
    static func formFields(_ req: Request, _ data: Data) -> [String: String] {
        let type = req.headers[.contentType] ?? ""
        let text = String(decoding: data, as: UTF8.self)
        if type.contains("multipart/form-data"), let b = type.components(separatedBy: "boundary=").last?
            .trimmingCharacters(in: CharacterSet(charactersIn: "\" ;")) {
            var out: [String: String] = [:]
            for part in text.components(separatedBy: "--" + b) {
                let pieces = part.components(separatedBy: "\r\n\r\n")
                guard pieces.count >= 2, let nameRange = pieces[0].range(of: "name=\"") else { continue }
                let name = pieces[0][nameRange.upperBound...].prefix { $0 != "\"" }
                var value = pieces.dropFirst().joined(separator: "\r\n\r\n")
                if value.hasSuffix("\r\n") { value.removeLast() } // "\r\n" is one Character
                out[String(name)] = value
            }
            return out
        }
        if type.contains("json"), let o = MegaplanJSON.parse(data)?.object {
            return o.compactMapValues { $0.string }
        }
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if kv.count == 2 { out[kv[0]] = kv[1] }
        }
        return out
    }

    func token(_ req: Request) async throws -> Response {
        var buffer = try await req.body.collect(upTo: 1 << 20)
        let data = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        let form = Self.formFields(req, data)
        let answer: (status: Int, body: MegaplanJSON) = lock.withLock {
            requests["POST /api/v3/auth/access_token", default: 0] += 1
            if let status = sandboxOutageBites(&outage) {
                return (status, ["error": "temporarily_unavailable", "error_description": "Service Unavailable"])
            }
            let employee: String
            switch form["grant_type"] {
            case "password":
                guard let username = form["username"], let password = form["password"] else {
                    return MegaplanSandboxFacts.missingParameters("Missing parameters: \"username\" and \"password\" required")
                }
                guard let user = seed.users.first(where: { $0.username == username && $0.password == password }) else {
                    return MegaplanSandboxFacts.invalidCredentials
                }
                employee = user.employeeId
            case "refresh_token":
                guard let refresh = form["refresh_token"] else {
                    return MegaplanSandboxFacts.missingParameters("Missing parameter: \"refresh_token\" is required")
                }
                guard let owner = refreshTokens[refresh] else { return MegaplanSandboxFacts.invalidRefreshToken }
                if MegaplanSandboxFacts.refreshTokensRotate { refreshTokens[refresh] = nil }
                employee = owner
            case nil:
                return MegaplanSandboxFacts.missingParameters("The grant type was not specified in the request")
            case let other?:
                return MegaplanSandboxFacts.unsupportedGrant(other)
            }
            let access = Self.randomToken(), refresh = Self.randomToken()
            accessTokens[access] = (employee, Date().addingTimeInterval(options.accessTokenLifetime))
            refreshTokens[refresh] = employee
            return (200, ["access_token": .string(access), "expires_in": .int(Int(options.accessTokenLifetime)),
                          "token_type": "bearer", "scope": .null, "refresh_token": .string(refresh)])
        }
        return Self.response(answer.body, status: answer.status)
    }

    static func randomToken() -> String {
        let bytes = (0..<24).map { _ in UInt8.random(in: 0...255) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "A").replacingOccurrences(of: "/", with: "B")
            .replacingOccurrences(of: "=", with: "")
    }

    // MARK: outbound (what Megaplan sends)

    /// Posts JSON to `url` as Megaplan would, records it with the answer's status, and returns that status.
    @discardableResult
    func send(kind: String, url: String, body: MegaplanJSON) async -> Int? {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body.data))
        var status: Int?
        if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10)) {
            status = Int(response.status.code)
            // Read to its end, so the connection goes back to the shared client's pool.
            _ = try? await response.body.collect(upTo: 1 << 20)
        }
        lock.withLock { sent.append(.init(kind: kind, url: url, body: body, status: status)) }
        return status
    }

    /// Queues an event-stream delivery of `model` to every application that ticked it (sent after the lock is released).
    func emit(_ event: String, _ entity: Object) {
        guard let model = entity["contentType"]?.string else { return }
        for s in subscriptions where s.models.contains(model) {
            pending.append(("event", s.url, MegaplanSandboxFacts.eventBody(event: event, model: model, data: .object(entity),
                                                                           applicationUuid: seed.applicationUuid)))
        }
    }

    func deliverPending() {
        let due: [(kind: String, url: String, body: MegaplanJSON)] = lock.withLock {
            defer { pending = [] }
            return pending
        }
        guard !due.isEmpty else { return }
        Task { for d in due { await self.send(kind: d.kind, url: d.url, body: d.body) } }
    }

    /// Serves the sandbox on `host:port` (0 picks a free port).
    public func application(host: String = "127.0.0.1", port: Int = 0, logger: Logger,
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "Megaplan sandbox"),
                    onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: logger)
    }
}
