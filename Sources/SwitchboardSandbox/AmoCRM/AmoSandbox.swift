import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import SwitchboardCore

/// An amoCRM account for tests, the demo and tenants trying the integration: amoCRM API v4's paths, field
/// names, status codes and error bodies, last-10-digit phone matching, 7 requests/s per account (then 429),
/// access tokens that expire and single-use refresh tokens. `/sandbox/*` inspects and steers it.
public final class AmoSandbox: @unchecked Sendable {
    public struct Options: Sendable {
        public var accessTokenLifetime: TimeInterval = 86_400
        public var requestsPerSecond = 7
        public init() {}
    }

    let lock = NSLock()
    public let seed: AmoSandboxSeed
    public var options: Options
    var nextId = 900_000
    var contacts: [AmoSandboxSnapshot.Contact] = []
    var leads: [AmoSandboxSnapshot.Lead] = []
    var unsorted: [AmoSandboxSnapshot.Unsorted] = []
    var calls: [AmoSandboxSnapshot.CallNote] = []
    var notes: [AmoSandboxSnapshot.Note] = []
    var tasks: [AmoSandboxSnapshot.Task] = []
    var events: [AmoSandboxSnapshot.Event] = []
    var requests: [String: Int] = [:]
    var rejected429 = 0
    /// access token → expiry
    var accessTokens: [String: Date] = [:]
    var refreshTokens: Set<String> = []
    var codes: Set<String> = []
    var recent: [Date] = []
    /// Requests to fail with this status (an outage), while the count lasts or until the time passes.
    var outage: SandboxOutage?
    var webhooks: [(destination: String, settings: [String])] = []

    public init(seed: AmoSandboxSeed = .demo, options: Options = Options()) {
        self.seed = seed
        self.options = options
        for c in seed.contacts {
            contacts.append(.init(id: c.id, name: c.name, responsible_user_id: c.responsible_user_id, phones: c.phones,
                                  tags: [], lead_ids: c.open_lead_ids ?? [], created_by_api: false))
            for leadId in c.open_lead_ids ?? [] {
                let p = seed.pipelines.first { $0.is_main == true } ?? seed.pipelines[0]
                leads.append(.init(id: leadId, name: "Сделка \(leadId)", pipeline_id: p.id, status_id: p.statuses[1].id,
                                   responsible_user_id: c.responsible_user_id, contact_ids: [c.id], tags: [], price: 0,
                                   created_at: Int(Date().timeIntervalSince1970)))
            }
        }
    }

    /// Reads a seed file (JSON in `AmoSandboxSeed`'s shape).
    public convenience init(seedFile: String, options: Options = Options()) throws {
        let seed = try JSONDecoder().decode(AmoSandboxSeed.self, from: Data(contentsOf: URL(fileURLWithPath: seedFile)))
        self.init(seed: seed, options: options)
    }

    public func snapshot() -> AmoSandboxSnapshot {
        lock.withLock {
            AmoSandboxSnapshot(contacts: contacts, leads: leads, unsorted: unsorted, calls: calls, tasks: tasks, events: events,
                               requests: requests, rejected429: rejected429, notes: notes)
        }
    }

    /// Fails the next requests with `status` (503 by default), for `seconds` or for `requests` requests.
    public func startOutage(status: Int = 503, seconds: TimeInterval? = nil, requests count: Int? = nil) {
        lock.withLock { outage = (status, seconds.map { Date().addingTimeInterval($0) }, count) }
    }

    public func endOutage() { lock.withLock { outage = nil } }

    /// Makes every issued access token expire now (refresh tokens stay valid).
    public func expireAccessTokens() { lock.withLock { for k in accessTokens.keys { accessTokens[k] = .distantPast } } }

    /// Changes a contact's responsible user, and tells the subscribed webhooks, as amoCRM does.
    public func setResponsible(contactId: Int, userId: Int) async {
        let hooks: [String] = lock.withLock {
            if let i = contacts.firstIndex(where: { $0.id == contactId }) { contacts[i].responsible_user_id = userId }
            return webhooks.filter { $0.settings.contains("responsible_contact") || $0.settings.contains("update_contact") }
                .map(\.destination)
        }
        let body = "contacts[update][0][id]=\(contactId)&contacts[update][0][responsible_user_id]=\(userId)" +
            "&account[id]=\(seed.account_id)&account[subdomain]=\(seed.subdomain)"
        for destination in hooks {
            var request = HTTPClientRequest(url: destination)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
            // The answer is read to its end, so the connection goes back to the shared client's pool.
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10)) {
                _ = try? await response.body.collect(upTo: 1 << 20)
            }
        }
    }

    func newId() -> Int {
        nextId += 1
        return nextId
    }

    static func last10(_ s: String) -> String {
        let d = s.filter(\.isNumber)
        return String(d.suffix(10))
    }

    func contact(byPhone phone: String) -> AmoSandboxSnapshot.Contact? {
        let key = Self.last10(phone)
        guard key.count == 10 else { return nil }
        return contacts.first { $0.phones.contains { Self.last10($0) == key } }
    }

    func openLeads(of contactId: Int) -> [AmoSandboxSnapshot.Lead] {
        leads.filter { $0.contact_ids.contains(contactId) && $0.status_id != 142 && $0.status_id != 143 }
    }

    func validStatus(pipeline: Int?, status: Int?) -> String? {
        guard let pipeline else { return nil }
        guard let p = seed.pipelines.first(where: { $0.id == pipeline }) else { return "pipeline_id" }
        if let status, !p.statuses.contains(where: { $0.id == status }) { return "status_id" }
        return nil
    }

    // MARK: HTTP

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post("oauth2/access_token") { req, _ in try await self.token(req) }
        router.get("oauth") { req, _ in self.authorize(req) }
        let api = router.group("api")
        api.get("v4/account") { req, _ in try await self.guarded(req) { _ in self.account() } }
        api.get("v4/users") { req, _ in try await self.guarded(req) { _ in self.users() } }
        api.get("v4/leads/pipelines") { req, _ in try await self.guarded(req) { _ in self.pipelines() } }
        api.get("v4/contacts") { req, _ in try await self.guarded(req) { _ in self.searchContacts(req) } }
        api.get("v4/contacts/:id") { req, ctx in
            try await self.guarded(req) { _ in self.getContact(req, id: ctx.parameters.get("id", as: Int.self)) }
        }
        api.get("v4/leads/unsorted") { req, _ in try await self.guarded(req) { _ in self.listUnsorted(req) } }
        for type in ["leads", "contacts", "companies", "customers"] {
            api.get("v4/\(type)/:id/notes") { req, ctx in
                try await self.guarded(req) { _ in self.listNotes(req, type: type, id: ctx.parameters.get("id", as: Int.self)) }
            }
            api.post("v4/\(type)/notes") { req, _ in try await self.guarded(req) { try self.addNotes($0, type: type) } }
        }
        api.get("v4/tasks") { req, _ in try await self.guarded(req) { _ in self.listTasks(req) } }
        api.post("v4/contacts") { req, _ in try await self.guarded(req) { try self.addContacts($0) } }
        api.get("v4/leads") { req, _ in try await self.guarded(req) { _ in self.listLeads(req) } }
        api.post("v4/leads") { req, _ in try await self.guarded(req) { try self.addLeads($0) } }
        api.post("v4/leads/complex") { req, _ in try await self.guarded(req) { try self.addComplex($0) } }
        api.post("v4/leads/unsorted/sip") { req, _ in try await self.guarded(req) { try self.addUnsorted($0) } }
        api.post("v4/leads/unsorted/forms") { req, _ in try await self.guarded(req) { try self.addUnsorted($0, category: "forms") } }
        api.post("v4/calls") { req, _ in try await self.guarded(req) { try self.addCalls($0) } }
        api.post("v4/tasks") { req, _ in try await self.guarded(req) { try self.addTasks($0) } }
        api.post("v2/events") { req, _ in try await self.guarded(req) { try self.addEvents($0) } }
        api.post("v4/webhooks") { req, _ in try await self.guarded(req) { try self.addWebhook($0) } }
        let inspect = router.group("sandbox")
        inspect.get("state") { _, _ in Self.json(self.snapshot()) }
        inspect.post("outage") { req, _ in
            let b = (try? await Self.body(req)) as? [String: Any] ?? [:]
            self.startOutage(status: b["status"] as? Int ?? 503, seconds: b["seconds"] as? Double, requests: b["requests"] as? Int)
            return Self.json(["ok": true])
        }
        inspect.post("expire-tokens") { _, _ in
            self.expireAccessTokens()
            return Self.json(["ok": true])
        }
        steerDeals(inspect)
        return router
    }

    static func body(_ req: Request) async throws -> Any {
        var buffer = try await req.body.collect(upTo: 4 << 20)
        let data = Data(buffer.readBytes(length: buffer.readableBytes) ?? [])
        return try JSONSerialization.jsonObject(with: data)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, contentType: String = "application/hal+json") -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        return Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func raw(_ object: Any, status: HTTPResponse.Status = .ok, contentType: String = "application/hal+json") -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func problem(_ status: Int, _ title: String, _ detail: String) -> Response {
        raw(["title": title, "type": "https://httpstatus.es/\(status)", "status": status, "detail": detail],
            status: .init(code: status), contentType: "application/problem+json")
    }

    static func validation(_ errors: [(requestId: String, path: String, detail: String)]) -> Response {
        raw(["validation-errors": errors.map { ["request_id": $0.requestId,
                                                  "errors": [["code": "NotSupportedChoice", "path": $0.path, "detail": $0.detail]]] },
             "title": "Bad Request", "type": "https://httpstatus.es/400", "status": 400, "detail": "Request validation failed"],
            status: .badRequest, contentType: "application/problem+json")
    }

    /// Authentication, the outage switch and the rate limit, in amoCRM's order of checks.
    func guarded(_ req: Request, _ handler: (Any) throws -> Response) async throws -> Response {
        let key = "\(req.method.rawValue) \(req.uri.path)"
        var buffer = try await req.body.collect(upTo: 4 << 20)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let body: Any = bytes.isEmpty ? NSNull() : ((try? JSONSerialization.jsonObject(with: Data(bytes))) ?? NSNull())
        let verdict: Response? = lock.withLock {
            requests[key, default: 0] += 1
            if let status = sandboxOutageBites(&outage) {
                return Self.raw(["title": "Service Unavailable", "status": status], status: .init(code: status))
            }
            guard let auth = req.headers[.authorization], auth.hasPrefix("Bearer ") else {
                return Self.problem(401, "Unauthorized", "Authorization header is missing")
            }
            let token = String(auth.dropFirst(7))
            if !seed.long_lived_tokens.contains(token) {
                guard let expiry = accessTokens[token] else { return Self.problem(401, "Unauthorized", "Token is invalid") }
                guard expiry > Date() else { return Self.problem(401, "Unauthorized", "Token has expired") }
            }
            let now = Date()
            recent = recent.filter { now.timeIntervalSince($0) < 1 }
            if recent.count >= options.requestsPerSecond {
                rejected429 += 1
                // amoCRM's 429 body is not always JSON and carries no Retry-After the notes could confirm.
                return Response(status: .tooManyRequests)
            }
            recent.append(now)
            return nil
        }
        if let verdict { return verdict }
        return try lock.withLock { try handler(body) }
    }

    // MARK: OAuth

    func authorize(_ req: Request) -> Response {
        let q = req.uri.queryParameters
        guard q["client_id"].map(String.init) == seed.client_id, let redirect = q["redirect_uri"].map(String.init),
              var c = URLComponents(string: redirect) else {
            return Self.problem(400, "Bad Request", "unknown client_id or no redirect_uri")
        }
        let code = UUID().uuidString
        lock.withLock { _ = codes.insert(code) }
        c.queryItems = (c.queryItems ?? []) + [URLQueryItem(name: "code", value: code),
                                                URLQueryItem(name: "state", value: q["state"].map(String.init)),
                                                URLQueryItem(name: "referer", value: "\(seed.subdomain).amocrm.ru")]
        return Response(status: .found, headers: [.location: c.string ?? redirect])
    }

    func token(_ req: Request) async throws -> Response {
        lock.withLock { requests["POST /oauth2/access_token", default: 0] += 1 }
        guard let b = try? await Self.body(req) as? [String: Any] else {
            return Self.problem(400, "Bad Request", "body must be JSON")
        }
        guard b["client_id"] as? String == seed.client_id, b["client_secret"] as? String == seed.client_secret else {
            return Self.problem(401, "Unauthorized", "Client authentication failed")
        }
        let granted: Bool = lock.withLock {
            switch b["grant_type"] as? String {
            case "authorization_code":
                guard let code = b["code"] as? String else { return false }
                return codes.remove(code) != nil
            case "refresh_token":
                // Single-use: the old refresh token dies with this exchange.
                guard let refresh = b["refresh_token"] as? String else { return false }
                return refreshTokens.remove(refresh) != nil
            default:
                return false
            }
        }
        guard granted else {
            return Self.raw(["hint": "Token has been revoked", "title": "Некорректный запрос", "type": "https://httpstatus.es/400",
                             "status": 400, "detail": "В запросе отсутствует ряд параметров или параметры невалидны"],
                            status: .badRequest, contentType: "application/problem+json")
        }
        let access = "sbx-at-" + UUID().uuidString, refresh = "sbx-rt-" + UUID().uuidString
        let lifetime = options.accessTokenLifetime
        lock.withLock {
            accessTokens[access] = Date().addingTimeInterval(lifetime)
            refreshTokens.insert(refresh)
        }
        return Self.raw(["token_type": "Bearer", "expires_in": Int(lifetime), "access_token": access, "refresh_token": refresh,
                         "server_time": Int(Date().timeIntervalSince1970)], contentType: "application/json")
    }

    // MARK: reading

    func account() -> Response {
        Self.raw(["id": seed.account_id, "name": seed.subdomain, "subdomain": seed.subdomain, "current_user_id": seed.users.first?.id ?? 0,
                  "country": "RU", "currency": "RUB", "currency_symbol": "₽", "created_at": 1_700_000_000, "created_by": 0,
                  "updated_at": 1_700_000_000, "updated_by": 0])
    }

    func users() -> Response {
        Self.raw(["_total_items": seed.users.count, "_page": 1,
                  "_embedded": ["users": seed.users.map { ["id": $0.id, "name": $0.name, "email": $0.email, "lang": "ru",
                                                          "rights": [String: Any]()] }]])
    }

    func pipelines() -> Response {
        Self.raw(["_total_items": seed.pipelines.count, "_embedded": ["pipelines": seed.pipelines.enumerated().map { i, p in
            ["id": p.id, "name": p.name, "sort": i + 1, "is_main": p.is_main ?? (i == 0), "is_unsorted_on": true, "is_archive": false,
             "account_id": seed.account_id,
             "_embedded": ["statuses": p.statuses.enumerated().map { j, s in
                 ["id": s.id, "name": s.name, "sort": (j + 1) * 10, "is_editable": s.type != 1, "pipeline_id": p.id,
                  "color": "#99ccff", "type": s.type ?? 0, "account_id": seed.account_id] as [String: Any] }]] as [String: Any] }]])
    }

    func contactJSON(_ c: AmoSandboxSnapshot.Contact, withLeads: Bool) -> [String: Any] {
        var embedded: [String: Any] = ["tags": c.tags.map { ["name": $0] }]
        if withLeads { embedded["leads"] = c.lead_ids.map { ["id": $0] } }
        return ["id": c.id, "name": c.name, "responsible_user_id": c.responsible_user_id, "account_id": seed.account_id,
                "custom_fields_values": [["field_code": "PHONE", "field_name": "Телефон", "field_type": "multitext",
                                          "values": c.phones.map { ["value": $0, "enum_code": "WORK"] }]],
                "_embedded": embedded]
    }

    /// `query` searches every filled field as text, as amoCRM does (so callers must check the match is a phone).
    func searchContacts(_ req: Request) -> Response {
        let q = req.uri.queryParameters
        let query = q["query"].map(String.init) ?? ""
        let withLeads = q["with"].map { $0.contains("leads") } ?? false
        let ids = Set(Self.filterValues(req, "id").compactMap { Int($0) })
        let found = contacts.filter { c in
            (ids.isEmpty || ids.contains(c.id)) &&
                (query.isEmpty || c.name.contains(query) || c.phones.contains { $0.contains(query) || $0.filter(\.isNumber).contains(query) })
        }
        if found.isEmpty { return Response(status: .noContent) }
        return Self.raw(["_page": 1, "_embedded": ["contacts": found.map { contactJSON($0, withLeads: withLeads) }]])
    }

    /// One contact (`with=leads` adds its deals); 204 when there is none, as on amoCRM.
    func getContact(_ req: Request, id: Int?) -> Response {
        guard let c = contacts.first(where: { $0.id == id }) else { return Response(status: .noContent) }
        return Self.raw(contactJSON(c, withLeads: req.uri.queryParameters["with"].map { $0.contains("leads") } ?? false))
    }

    /// A filter given as `filter[x]=1` or `filter[x][]=1&filter[x][]=2`.
    static func filterValues(_ req: Request, _ name: String) -> [String] {
        let q = req.uri.queryParameters
        return (q.getAll("filter[\(name)][]") + q.getAll("filter[\(name)]")).map { String($0) }
    }

    /// Unsorted entries: `filter[uid]`, `filter[category][]`, `filter[pipeline_id]`, `order[created_at]`, as on amoCRM.
    func listUnsorted(_ req: Request) -> Response {
        let uids = Self.filterValues(req, "uid"), categories = Self.filterValues(req, "category")
        let pipelines = Self.filterValues(req, "pipeline_id").compactMap { Int($0) }
        var chosen = unsorted.filter { u in
            (uids.isEmpty || uids.contains(u.uid)) && (categories.isEmpty || categories.contains(u.category)) &&
                (pipelines.isEmpty || pipelines.contains(u.pipeline_id))
        }
        if req.uri.queryParameters["order[created_at]"].map(String.init) == "desc" { chosen.reverse() }
        if chosen.isEmpty { return Response(status: .noContent) }
        return Self.raw(["_page": 1, "_embedded": ["unsorted": chosen.map { u -> [String: Any] in
            ["uid": u.uid, "source_uid": u.source_uid, "source_name": u.source_name, "category": u.category, "pipeline_id": u.pipeline_id,
             "created_at": u.created_at, "metadata": u.metadata, "account_id": seed.account_id,
             "_embedded": ["leads": [["id": u.lead_id]], "contacts": [["id": u.contact_id]], "companies": [[String: Any]]()]]
        }]])
    }

    /// An entity's notes (the calls logged on it), `filter[note_type][]` narrowing them; 204 when there are none.
    func listNotes(_ req: Request, type: String, id: Int?) -> Response {
        let types = Self.filterValues(req, "note_type")
        let all = calls.filter { $0.entity_type == type && $0.entity_id == id }.map { note -> [String: Any] in
            ["id": note.id, "entity_id": note.entity_id, "note_type": note.direction == "outbound" ? "call_out" : "call_in",
             "account_id": seed.account_id,
             "params": ["uniq": note.uniq, "duration": note.duration, "phone": note.phone, "link": note.link ?? "",
                        "call_status": note.call_status as Any, "call_responsible": note.call_responsible as Any]]
        } + self.notes.filter { $0.entity_type == type && $0.entity_id == id }.map { note -> [String: Any] in
            ["id": note.id, "entity_id": note.entity_id, "note_type": note.note_type, "account_id": seed.account_id,
             "created_at": note.created_at, "params": ["text": note.text]]
        }
        let notes = all.filter { types.isEmpty || types.contains($0["note_type"] as? String ?? "") }
        if notes.isEmpty { return Response(status: .noContent) }
        return Self.raw(["_page": 1, "_embedded": ["notes": notes]])
    }

    /// Tasks: `filter[responsible_user_id]`, `filter[entity_type]` with `filter[entity_id]`, `filter[is_completed]`.
    func listTasks(_ req: Request) -> Response {
        let users = Self.filterValues(req, "responsible_user_id").compactMap { Int($0) }
        let entityType = Self.filterValues(req, "entity_type").first
        let entityIds = Self.filterValues(req, "entity_id").compactMap { Int($0) }
        let completed = Self.filterValues(req, "is_completed").first.map { $0 == "1" || $0 == "true" }
        let chosen = tasks.filter { t in
            (users.isEmpty || users.contains(t.responsible_user_id)) && (entityType == nil || t.entity_type == entityType) &&
                (entityType == nil || entityIds.isEmpty || entityIds.contains(t.entity_id ?? -1)) &&
                (completed == nil || t.is_completed == completed)
        }
        if chosen.isEmpty { return Response(status: .noContent) }
        return Self.raw(["_page": 1, "_embedded": ["tasks": chosen.map { t -> [String: Any] in
            ["id": t.id, "text": t.text, "responsible_user_id": t.responsible_user_id, "entity_type": t.entity_type as Any,
             "entity_id": t.entity_id as Any, "complete_till": t.complete_till, "task_type_id": t.task_type_id,
             "created_at": t.created_at, "is_completed": t.is_completed, "account_id": seed.account_id]
        }]])
    }

    /// `filter[id][]=…` narrows the list, as on amoCRM; `page` and `limit` (at most 250, 50 by default) page it, in
    /// id order, with `_links.next` while more follow; 204 past the end.
    func listLeads(_ req: Request) -> Response {
        let q = req.uri.queryParameters
        let ids = Set(q.getAll("filter[id][]").compactMap { Int(String($0)) } + q.getAll("filter[id]").compactMap { Int(String($0)) })
        let chosen = (ids.isEmpty ? leads : leads.filter { ids.contains($0.id) }).sorted { $0.id < $1.id }
        let limit = min(250, max(1, q["limit"].flatMap { Int(String($0)) } ?? 50)), page = max(1, q["page"].flatMap { Int(String($0)) } ?? 1)
        let slice = Array(chosen.dropFirst((page - 1) * limit).prefix(limit))
        if slice.isEmpty { return Response(status: .noContent) }
        var links: [String: Any] = ["self": ["href": "/api/v4/leads?page=\(page)&limit=\(limit)"]]
        if page * limit < chosen.count { links["next"] = ["href": "/api/v4/leads?page=\(page + 1)&limit=\(limit)"] }
        return Self.raw(["_page": page, "_links": links, "_embedded": ["leads": slice.map { leadJSON($0) }]])
    }

    func leadJSON(_ l: AmoSandboxSnapshot.Lead) -> [String: Any] {
        ["id": l.id, "name": l.name, "price": l.price, "responsible_user_id": l.responsible_user_id, "group_id": 0,
         "status_id": l.status_id, "pipeline_id": l.pipeline_id, "loss_reason_id": NSNull(), "created_by": 0, "updated_by": 0,
         "created_at": l.created_at, "updated_at": max(l.updated_at, l.created_at), "closed_at": l.closed_at.map { $0 as Any } ?? NSNull(),
         "closest_task_at": NSNull(), "is_deleted": false, "custom_fields_values": NSNull(), "score": NSNull(),
         "account_id": seed.account_id,
         "_embedded": ["tags": l.tags.map { ["name": $0] }, "contacts": l.contact_ids.map { ["id": $0, "is_main": true] }]]
    }

    // MARK: writing

    static func items(_ body: Any) -> [[String: Any]]? { body as? [[String: Any]] }

    static func phones(_ entity: [String: Any]) -> [String] {
        let fields = entity["custom_fields_values"] as? [[String: Any]] ?? []
        return fields.filter { $0["field_code"] as? String == "PHONE" }
            .flatMap { ($0["values"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String } }
    }

    static func tags(_ entity: [String: Any]) -> [String] {
        ((entity["_embedded"] as? [String: Any])?["tags"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
    }

    func makeContact(_ item: [String: Any]) -> AmoSandboxSnapshot.Contact {
        let c = AmoSandboxSnapshot.Contact(id: newId(), name: item["name"] as? String ?? "Контакт",
                                           responsible_user_id: item["responsible_user_id"] as? Int ?? seed.users[0].id,
                                           phones: Self.phones(item), tags: Self.tags(item), lead_ids: [], created_by_api: true)
        contacts.append(c)
        return c
    }

    func addContacts(_ body: Any) throws -> Response {
        guard let items = Self.items(body), !items.isEmpty else { return Self.problem(400, "Bad Request", "an array of contacts is expected") }
        let made = items.enumerated().map { i, item in
            ["id": makeContact(item).id, "request_id": item["request_id"] as? String ?? String(i)] as [String: Any]
        }
        return Self.raw(["_embedded": ["contacts": made]])
    }

    func makeLead(_ item: [String: Any], contactIds: [Int]) -> AmoSandboxSnapshot.Lead {
        let pipeline = item["pipeline_id"] as? Int ?? (seed.pipelines.first { $0.is_main == true } ?? seed.pipelines[0]).id
        let p = seed.pipelines.first { $0.id == pipeline }!
        let lead = AmoSandboxSnapshot.Lead(id: newId(), name: item["name"] as? String ?? "Сделка", pipeline_id: pipeline,
                                           status_id: item["status_id"] as? Int ?? p.statuses[1].id,
                                           responsible_user_id: item["responsible_user_id"] as? Int ?? seed.users[0].id,
                                           contact_ids: contactIds, tags: Self.tags(item), price: item["price"] as? Int ?? 0,
                                           created_at: Int(Date().timeIntervalSince1970))
        leads.append(lead)
        for id in contactIds {
            if let i = contacts.firstIndex(where: { $0.id == id }) { contacts[i].lead_ids.append(lead.id) }
        }
        return lead
    }

    func checkLeads(_ items: [[String: Any]]) -> Response? {
        let bad = items.enumerated().compactMap { i, item -> (String, String, String)? in
            guard let field = validStatus(pipeline: item["pipeline_id"] as? Int, status: item["status_id"] as? Int) else { return nil }
            return (item["request_id"] as? String ?? String(i), field, "The value you selected is not a valid choice.")
        }
        return bad.isEmpty ? nil : Self.validation(bad)
    }

    func addLeads(_ body: Any) throws -> Response {
        guard let items = Self.items(body), !items.isEmpty else { return Self.problem(400, "Bad Request", "an array of leads is expected") }
        if let error = checkLeads(items) { return error }
        let made = items.enumerated().map { i, item -> [String: Any] in
            let linked = ((item["_embedded"] as? [String: Any])?["contacts"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
            return ["id": makeLead(item, contactIds: linked).id, "request_id": item["request_id"] as? String ?? String(i)]
        }
        return Self.raw(["_embedded": ["leads": made]])
    }

    func addComplex(_ body: Any) throws -> Response {
        guard let items = Self.items(body), !items.isEmpty else { return Self.problem(400, "Bad Request", "an array of leads is expected") }
        guard items.count <= 50 else { return Self.problem(400, "Bad Request", "at most 50 leads per request") }
        if let error = checkLeads(items) { return error }
        let made = items.enumerated().map { i, item -> [String: Any] in
            let embedded = item["_embedded"] as? [String: Any] ?? [:]
            var contactId: Int?
            if let c = (embedded["contacts"] as? [[String: Any]])?.first {
                contactId = (c["id"] as? Int) ?? makeContact(c).id
            }
            let lead = makeLead(item, contactIds: contactId.map { [$0] } ?? [])
            return ["id": lead.id, "contact_id": contactId as Any, "company_id": NSNull(),
                    "request_id": [item["request_id"] as? String ?? String(i)], "merged": false]
        }
        return Self.raw(made)
    }

    /// `POST /api/v4/leads/unsorted/sip` (calls) and `…/forms` (web forms: `metadata` carries `form_id`, `form_name`,
    /// `form_page`, `form_sent_at`, and the contact comes in `_embedded.contacts`).
    func addUnsorted(_ body: Any, category: String = "sip") throws -> Response {
        guard let items = Self.items(body), !items.isEmpty else { return Self.problem(400, "Bad Request", "an array is expected") }
        var made: [[String: Any]] = []
        for (i, item) in items.enumerated() {
            guard let sourceUid = item["source_uid"] as? String, item["source_name"] is String else {
                return Self.validation([(item["request_id"] as? String ?? String(i), "source_uid", "This value should not be blank.")])
            }
            if category == "forms" {
                let given = item["metadata"] as? [String: Any] ?? [:]
                if let missing = ["form_id", "form_name", "form_page", "form_sent_at"].first(where: { given[$0] == nil }) {
                    return Self.validation([(item["request_id"] as? String ?? String(i), "metadata.\(missing)", "This value should not be blank.")])
                }
            }
            if unsorted.contains(where: { $0.source_uid == sourceUid }) {
                return Self.validation([(item["request_id"] as? String ?? String(i), "source_uid", "Entity already exists")])
            }
            if let field = validStatus(pipeline: item["pipeline_id"] as? Int, status: nil) {
                return Self.validation([(item["request_id"] as? String ?? String(i), field, "The value you selected is not a valid choice.")])
            }
            let embedded = item["_embedded"] as? [String: Any] ?? [:]
            let metadata = (item["metadata"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
            var contactId: Int
            if let c = (embedded["contacts"] as? [[String: Any]])?.first {
                contactId = (c["id"] as? Int) ?? makeContact(c).id
            } else {
                contactId = makeContact(["name": metadata["from"] ?? "Контакт",
                                         "custom_fields_values": [["field_code": "PHONE", "values": [["value": metadata["from"] ?? ""]]]]]).id
            }
            var leadItem = (embedded["leads"] as? [[String: Any]])?.first ?? [:]
            let pipeline = item["pipeline_id"] as? Int ?? (seed.pipelines.first { $0.is_main == true } ?? seed.pipelines[0]).id
            leadItem["pipeline_id"] = pipeline
            leadItem["status_id"] = seed.pipelines.first { $0.id == pipeline }?.statuses.first { $0.type == 1 }?.id
            let lead = makeLead(leadItem, contactIds: [contactId])
            let uid = UUID().uuidString.lowercased()
            unsorted.append(.init(uid: uid, source_uid: sourceUid, pipeline_id: pipeline, lead_id: lead.id, contact_id: contactId,
                                  metadata: metadata, source_name: item["source_name"] as? String ?? "",
                                  created_at: Int(Date().timeIntervalSince1970), category: category))
            if metadata["is_call_event_needed"] == "1" || metadata["is_call_event_needed"] == "true" {
                calls.append(.init(id: newId(), uniq: metadata["uniq"] ?? uid, phone: metadata["from"] ?? "", direction: "inbound",
                                   duration: Int(metadata["duration"] ?? "0") ?? 0, link: metadata["link"], call_status: nil,
                                   call_responsible: nil, entity_type: "leads", entity_id: lead.id))
            }
            made.append(["uid": uid, "account_id": seed.account_id, "request_id": item["request_id"] as? String ?? String(i),
                         "_embedded": ["leads": [["id": lead.id]], "contacts": [["id": contactId]]]])
        }
        return Self.raw(["_total_items": made.count, "_embedded": ["unsorted": made]])
    }

    /// Calls attach to the contact found by the last 10 digits; to its lead if it has exactly one open lead.
    func addCalls(_ body: Any) throws -> Response {
        guard let items = Self.items(body), !items.isEmpty else { return Self.problem(400, "Bad Request", "an array of calls is expected") }
        var made: [[String: Any]] = []
        var errors: [[String: Any]] = []
        for (i, item) in items.enumerated() {
            let requestId = item["request_id"] as? String ?? String(i)
            guard let phone = item["phone"] as? String, let direction = item["direction"] as? String,
                  ["inbound", "outbound"].contains(direction), item["duration"] is Int, item["source"] is String else {
                return Self.validation([(requestId, "direction", "direction, duration, source and phone are required")])
            }
            guard let contact = contact(byPhone: phone) else {
                errors.append(["title": "Entity not found", "request_id": requestId, "status": 400])
                continue
            }
            let open = openLeads(of: contact.id)
            let (type, id) = open.count == 1 ? ("leads", open[0].id) : ("contacts", contact.id)
            let note = AmoSandboxSnapshot.CallNote(id: newId(), uniq: item["uniq"] as? String ?? "", phone: phone, direction: direction,
                                                   duration: item["duration"] as? Int ?? 0, link: item["link"] as? String,
                                                   call_status: item["call_status"] as? Int, call_responsible: item["call_responsible"] as? Int,
                                                   entity_type: type, entity_id: id)
            calls.append(note)
            made.append(["id": note.id, "entity_id": id, "entity_type": type, "request_id": requestId])
        }
        if made.isEmpty {
            return Self.raw(["_total_items": 0, "errors": errors], status: .badRequest)
        }
        return Self.raw(["_total_items": made.count, "_embedded": ["calls": made], "errors": errors])
    }

    /// `POST /api/v4/{entity_type}/notes`: `entity_id`, `note_type` (`common`, …) and `params.text`; the entity must exist.
    func addNotes(_ body: Any, type: String) throws -> Response {
        guard let items = Self.items(body), !items.isEmpty else { return Self.problem(400, "Bad Request", "an array of notes is expected") }
        var made: [[String: Any]] = []
        for (i, item) in items.enumerated() {
            let requestId = item["request_id"] as? String ?? String(i)
            guard let entity = item["entity_id"] as? Int, let noteType = item["note_type"] as? String else {
                return Self.validation([(requestId, "entity_id", "entity_id and note_type are required")])
            }
            let exists = type == "leads" ? leads.contains { $0.id == entity } : type == "contacts" ? contacts.contains { $0.id == entity } : true
            guard exists else { return Self.validation([(requestId, "entity_id", "Entity not found")]) }
            let text = (item["params"] as? [String: Any])?["text"] as? String ?? ""
            let note = AmoSandboxSnapshot.Note(id: newId(), entity_type: type, entity_id: entity, note_type: noteType, text: text,
                                               created_at: Int(Date().timeIntervalSince1970))
            notes.append(note)
            made.append(["id": note.id, "entity_id": entity, "request_id": requestId])
        }
        return Self.raw(["_embedded": ["notes": made]])
    }

    func addTasks(_ body: Any) throws -> Response {
        guard let items = Self.items(body), !items.isEmpty else { return Self.problem(400, "Bad Request", "an array of tasks is expected") }
        var made: [[String: Any]] = []
        for (i, item) in items.enumerated() {
            let requestId = item["request_id"] as? String ?? String(i)
            guard let text = item["text"] as? String, let till = item["complete_till"] as? Int else {
                return Self.validation([(requestId, "complete_till", "text and complete_till are required")])
            }
            let task = AmoSandboxSnapshot.Task(id: newId(), text: text, responsible_user_id: item["responsible_user_id"] as? Int ?? seed.users[0].id,
                                               entity_type: item["entity_type"] as? String, entity_id: item["entity_id"] as? Int,
                                               complete_till: till, task_type_id: item["task_type_id"] as? Int ?? 1,
                                               created_at: Int(Date().timeIntervalSince1970))
            tasks.append(task)
            made.append(["id": task.id, "request_id": requestId])
        }
        return Self.raw(["_embedded": ["tasks": made]])
    }

    func addEvents(_ body: Any) throws -> Response {
        guard let add = (body as? [String: Any])?["add"] as? [[String: Any]] else {
            return Self.problem(400, "Bad Request", "add is required")
        }
        for e in add where e["type"] as? String == "phone_call" {
            events.append(.init(phone_number: e["phone_number"] as? String ?? "", users: e["users"] as? [Int] ?? []))
        }
        return Self.raw([String: Any](), status: .accepted, contentType: "application/json")
    }

    func addWebhook(_ body: Any) throws -> Response {
        guard let b = body as? [String: Any], let destination = b["destination"] as? String else {
            return Self.problem(400, "Bad Request", "destination is required")
        }
        let settings = b["settings"] as? [String] ?? []
        webhooks.removeAll { $0.destination == destination }
        webhooks.append((destination, settings))
        return Self.raw(["id": newId(), "destination": destination, "settings": settings, "disabled": false])
    }

    /// Serves the sandbox on `host:port` (0 picks a free port).
    public func application(host: String = "127.0.0.1", port: Int = 0, logger: Logger,
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "amoCRM sandbox"),
                    onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: logger)
    }
}
