import Foundation
import Hummingbird

/// JSON API 1.2: security/token, context/employee, and the entities counterparty, employee, organization,
/// customerorder (with its metadata and states), task and webhook. Runs under the sandbox's lock.
extension MoySkladSandbox {
    static let entityTypes: Set<String> = ["counterparty", "employee", "organization", "customerorder", "task", "webhook", "store", "product"]

    func remap(method: HTTPRequest.Method, path: [String], query: Parameters, body: Any?, caller: Caller, base: String) -> Reply {
        let root = base + "/api/remap/1.2"
        switch (method, path.first, path.count) {
        case (.post, "security", 2) where path[1] == "token":
            guard caller.viaBasic else { return Self.error(401, 1056, Self.authFailed) }
            // A new token revokes the user's earlier ones.
            accessTokens = accessTokens.filter { $0.value != caller.employeeId }
            let token = (UUID().uuidString + UUID().uuidString).replacingOccurrences(of: "-", with: "").lowercased().prefix(40)
            accessTokens[String(token)] = caller.employeeId
            return Reply(body: ["access_token": String(token)])
        case (.get, "context", 2) where path[1] == "employee":
            guard let e = employee(caller.employeeId) else { return Self.notFound("employee", caller.employeeId) }
            return Reply(body: employeeJSON(e, root))
        case (_, "entity", _) where path.count >= 2:
            break
        default:
            return Self.error(404, 1002, "Неопознанный путь: /api/remap/1.2/" + path.joined(separator: "/"))
        }
        let type = path[1]
        guard Self.entityTypes.contains(type) else { return Self.error(412, 1005, "Неизвестный тип: '\(type)'") }
        let rest = Array(path.dropFirst(2))
        switch (method, rest.count) {
        case (.get, 0): return list(type, query: query, caller: caller, root: root)
        case (.post, 0):
            if let items = body as? [[String: Any]] {
                var made: [Any] = [], events: [WebhookEvent] = []
                for item in items {
                    let r = create(type, item, caller: caller, root: root)
                    if r.status != .ok { return r }
                    made.append(r.body ?? NSNull())
                    events += r.events
                }
                return Reply(body: made, events: events)
            }
            guard let item = body as? [String: Any] else { return Self.error(400, 1027, "Запрос не содержит объектов") }
            return create(type, item, caller: caller, root: root)
        case (.get, 1) where rest[0] == "metadata": return metadata(type, root: root)
        case (.get, 1): return get(type, rest[0], root: root, expand: Self.expand(query))
        case (.put, 1):
            guard let item = body as? [String: Any] else { return Self.error(400, 1027, "Запрос не содержит объектов") }
            return update(type, rest[0], item, root: root)
        case (.delete, 1): return delete(type, rest[0], root: root)
        case (.post, 2) where type == "counterparty" && rest[1] == "notes":
            return addNote(rest[0], body as? [String: Any] ?? [:], caller: caller, root: root)
        case (.get, 2) where type == "counterparty" && rest[1] == "notes":
            guard counterparties.contains(where: { $0.id == rest[0] }) else { return Self.notFound("counterparty", rest[0]) }
            let rows = (notes[rest[0]] ?? []).map { noteJSON($0, counterpartyId: rest[0], root: root) }
            return Reply(body: ["meta": ["href": "\(root)/entity/counterparty/\(rest[0])/notes", "type": "note",
                                         "mediaType": "application/json", "size": rows.count, "limit": 1000, "offset": 0],
                                "rows": rows])
        default:
            return Self.error(405, 1039, "Операция \(method.rawValue) не поддерживается для данного ресурса")
        }
    }

    // MARK: meta

    static func meta(_ root: String, _ type: String, _ id: String, metadata: Bool = true) -> [String: Any] {
        var m: [String: Any] = ["href": "\(root)/entity/\(type)/\(id)", "type": type, "mediaType": "application/json"]
        if metadata { m["metadataHref"] = "\(root)/entity/\(type)/metadata" }
        return m
    }

    static func ref(_ root: String, _ type: String, _ id: String) -> [String: Any] { ["meta": meta(root, type, id)] }

    func stateRef(_ root: String, _ id: String) -> [String: Any] {
        ["meta": ["href": "\(root)/entity/customerorder/metadata/states/\(id)", "metadataHref": "\(root)/entity/customerorder/metadata",
                  "type": "state", "mediaType": "application/json"]]
    }

    /// The (type, id) a `{"meta":{"href":…}}` value points at.
    static func target(_ value: Any?) -> (type: String, id: String)? {
        guard let meta = (value as? [String: Any])?["meta"] as? [String: Any], let href = meta["href"] as? String else { return nil }
        let parts = href.split(separator: "/").map(String.init)
        guard parts.count >= 2 else { return nil }
        if parts.count >= 3 && parts[parts.count - 2] == "states" { return ("state", parts[parts.count - 1]) }
        return (parts[parts.count - 2], parts[parts.count - 1])
    }

    /// The fields every entity and document carries; catalog entities (not documents) add `archived`.
    func commonFields(_ root: String, _ type: String, id: String, name: String, ownerId: String, created: String) -> [String: Any] {
        var j = commonFields(root, ownerId: ownerId)
        j["meta"] = Self.meta(root, type, id)
        j["id"] = id
        j["name"] = name
        j["externalCode"] = String(id.prefix(8))
        j["created"] = created
        if type != "customerorder" { j["archived"] = false }
        return j
    }

    func commonFields(_ root: String, ownerId: String) -> [String: Any] {
        ["accountId": seed.accountId, "owner": Self.ref(root, "employee", ownerId), "shared": false,
         "group": ["meta": ["href": "\(root)/entity/group/\(seed.accountId)", "metadataHref": "\(root)/entity/group/metadata",
                            "type": "group", "mediaType": "application/json"]],
         "updated": MoySkladWire.format(Date())]
    }

    // MARK: JSON of each entity

    func employeeJSON(_ e: MoySkladSandboxSeed.Employee, _ root: String) -> [String: Any] {
        var j = commonFields(root, "employee", id: e.id, name: "\(e.lastName) \(e.firstName)", ownerId: e.id,
                             created: "2024-01-01 09:00:00.000")
        j["uid"] = e.uid
        j["email"] = e.email
        if let p = e.phone { j["phone"] = p }
        j["firstName"] = e.firstName
        j["lastName"] = e.lastName
        j["fullName"] = "\(e.firstName) \(e.lastName)"
        j["shortFio"] = "\(e.lastName) \(e.firstName.prefix(1))."
        return j
    }

    func organizationJSON(_ o: MoySkladSandboxSeed.Organization, _ root: String) -> [String: Any] {
        var j = commonFields(root, "organization", id: o.id, name: o.name, ownerId: seed.employees[0].id,
                             created: "2024-01-01 09:00:00.000")
        j["companyType"] = "legal"
        j["legalTitle"] = o.name
        return j
    }

    func counterpartyJSON(_ c: MoySkladSandboxSnapshot.Counterparty, _ root: String) -> [String: Any] {
        var j = commonFields(root, "counterparty", id: c.id, name: c.name, ownerId: c.ownerId, created: c.created)
        j["companyType"] = c.companyType
        if let p = c.phone { j["phone"] = p }
        if let e = c.email { j["email"] = e }
        if let d = c.description { j["description"] = d }
        j["tags"] = c.tags
        j["salesAmount"] = 0
        if !c.attributes.isEmpty {
            j["attributes"] = c.attributes.sorted { $0.key < $1.key }.map { id, value -> [String: Any] in
                ["meta": ["href": "\(root)/entity/counterparty/metadata/attributes/\(id)", "type": "attributemetadata",
                          "mediaType": "application/json"], "id": id, "type": "string", "value": value]
            }
        }
        return j
    }

    func orderJSON(_ o: MoySkladSandboxSnapshot.Order, _ root: String) -> [String: Any] {
        var j = commonFields(root, "customerorder", id: o.id, name: o.name, ownerId: o.ownerId, created: o.created)
        j["moment"] = String(o.created.prefix(16)) + ":00.000"
        j["applicable"] = true
        j["printed"] = false
        j["published"] = false
        j["vatEnabled"] = true
        j["vatIncluded"] = true
        j["vatSum"] = 0
        j["sum"] = o.sum
        for k in ["payedSum", "shippedSum", "invoicedSum", "reservedSum"] { j[k] = 0 }
        j["rate"] = ["currency": ["meta": ["href": "\(root)/entity/currency/\(seed.accountId)", "metadataHref": "\(root)/entity/currency/metadata",
                                           "type": "currency", "mediaType": "application/json"]]]
        j["organization"] = Self.ref(root, "organization", o.organizationId)
        let agentType = seed.organizations.contains { $0.id == o.agentId } ? "organization" : "counterparty"
        j["agent"] = Self.ref(root, agentType, o.agentId)
        if let s = o.stateId { j["state"] = stateRef(root, s) }
        if let d = o.description { j["description"] = d }
        j["positions"] = ["meta": ["href": "\(root)/entity/customerorder/\(o.id)/positions", "type": "customerorderposition",
                                   "mediaType": "application/json", "size": o.positions.count, "limit": 1000, "offset": 0]]
        if let store = o.storeId { j["store"] = Self.ref(root, "store", store) }
        return j
    }

    /// The fields named in `expand=` (`positions.assortment` also names `positions`).
    static func expand(_ query: Parameters) -> Set<String> {
        var out: Set<String> = []
        for part in (query["expand"].map(String.init) ?? "").split(separator: ",") {
            let path = part.trimmingCharacters(in: .whitespaces)
            out.insert(path)
            if let dot = path.firstIndex(of: ".") { out.insert(String(path[..<dot])) }
        }
        return out
    }

    /// An order with the references `expand` names replaced by the objects (state, store, agent, owner, organization,
    /// positions and their assortment).
    func orderJSON(_ o: MoySkladSandboxSnapshot.Order, _ root: String, expand: Set<String>) -> [String: Any] {
        var j = orderJSON(o, root)
        guard !expand.isEmpty else { return j }
        if expand.contains("state"), let id = o.stateId, let s = seed.orderStates.first(where: { $0.id == id }) {
            j["state"] = stateJSON(s, root)
        }
        if expand.contains("store"), let id = o.storeId, let store = seed.stores?.first(where: { $0.id == id }) {
            j["store"] = storeJSON(store, root)
        }
        if expand.contains("agent"), let c = counterparties.first(where: { $0.id == o.agentId }) { j["agent"] = counterpartyJSON(c, root) }
        if expand.contains("owner"), let e = employee(o.ownerId) { j["owner"] = employeeJSON(e, root) }
        if expand.contains("organization"), let org = seed.organizations.first(where: { $0.id == o.organizationId }) {
            j["organization"] = organizationJSON(org, root)
        }
        if expand.contains("positions") {
            var meta = (j["positions"] as? [String: Any])?["meta"] as? [String: Any] ?? [:]
            meta["limit"] = 1000
            j["positions"] = ["meta": meta, "rows": o.positions.map { p -> [String: Any] in
                let product = seed.products?.first { $0.id == p.productId }
                let assortment: [String: Any] = expand.contains("positions.assortment") && product != nil
                    ? productJSON(product!, root) : Self.ref(root, "product", p.productId)
                return ["meta": ["href": "\(root)/entity/customerorder/\(o.id)/positions/\(p.id)", "type": "customerorderposition",
                                 "mediaType": "application/json"],
                        "id": p.id, "accountId": seed.accountId, "quantity": p.quantity, "price": p.price, "discount": 0, "vat": 0,
                        "assortment": assortment, "shipped": 0, "reserve": 0]
            }]
        }
        return j
    }

    /// An order status as the metadata lists it (and `expand=state` shows it).
    func stateJSON(_ s: MoySkladSandboxSeed.State, _ root: String) -> [String: Any] {
        var state = stateRef(root, s.id)
        state["id"] = s.id
        state["accountId"] = seed.accountId
        state["name"] = s.name
        state["color"] = s.color
        state["stateType"] = s.stateType
        state["entityType"] = "customerorder"
        return state
    }

    func storeJSON(_ s: MoySkladSandboxSeed.Store, _ root: String) -> [String: Any] {
        commonFields(root, "store", id: s.id, name: s.name, ownerId: seed.employees[0].id, created: "2024-01-01 09:00:00.000")
    }

    func productJSON(_ p: MoySkladSandboxSeed.Product, _ root: String) -> [String: Any] {
        var j = commonFields(root, "product", id: p.id, name: p.name, ownerId: seed.employees[0].id, created: "2024-01-01 09:00:00.000")
        j["salePrices"] = [["value": p.price, "priceType": ["name": "Цена продажи"]]]
        return j
    }

    func taskJSON(_ t: MoySkladSandboxSnapshot.Task, _ root: String) -> [String: Any] {
        var j: [String: Any] = ["meta": Self.meta(root, "task", t.id), "id": t.id, "accountId": seed.accountId,
                                "updated": MoySkladWire.format(Date()), "description": t.description,
                                "assignee": Self.ref(root, "employee", t.assigneeId), "author": Self.ref(root, "employee", t.authorId),
                                "done": t.done, "created": t.created]
        if let d = t.dueToDate { j["dueToDate"] = d }
        if let a = t.agent {
            let parts = a.split(separator: "/").map(String.init)
            j["agent"] = Self.ref(root, parts[0], parts[1])
        }
        return j
    }

    func webhookJSON(_ w: MoySkladSandboxSnapshot.Webhook, _ root: String) -> [String: Any] {
        var j: [String: Any] = ["meta": Self.meta(root, "webhook", w.id), "id": w.id, "accountId": seed.accountId,
                                "entityType": w.entityType, "url": w.url, "method": "POST", "enabled": w.enabled, "action": w.action]
        if let d = w.diffType { j["diffType"] = d }
        return j
    }

    func noteJSON(_ n: [String: String], counterpartyId: String, root: String) -> [String: Any] {
        ["meta": ["href": "\(root)/entity/counterparty/\(counterpartyId)/notes/\(n["id"] ?? "")", "type": "note",
                  "mediaType": "application/json"],
         "id": n["id"] ?? "", "created": n["created"] ?? "", "description": n["description"] ?? "",
         "agent": Self.ref(root, "counterparty", counterpartyId), "author": Self.ref(root, "employee", n["author"] ?? "")]
    }

    // MARK: reading

    /// Each entity's JSON and the fields `filter=` and `search=` look at.
    func rows(_ type: String, root: String) -> [(json: [String: Any], fields: [String: String?], search: [String])] {
        switch type {
        case "counterparty":
            return counterparties.map { c in
                (counterpartyJSON(c, root), ["id": c.id, "name": c.name, "phone": c.phone, "email": c.email, "owner": c.ownerId,
                                              "description": c.description, "companyType": c.companyType, "archived": "false",
                                              "externalCode": String(c.id.prefix(8))],
                 [c.name, c.phone ?? "", c.email ?? ""])
            }
        case "employee":
            return seed.employees.map { e in
                (employeeJSON(e, root), ["id": e.id, "uid": e.uid, "email": e.email, "phone": e.phone, "firstName": e.firstName,
                                         "lastName": e.lastName, "archived": "false"],
                 [e.firstName, e.lastName, e.email, e.phone ?? ""])
            }
        case "organization":
            return seed.organizations.map { o in (organizationJSON(o, root), ["id": o.id, "name": o.name, "archived": "false"], [o.name]) }
        case "customerorder":
            return orders.filter { !$0.deleted }.map { o in
                (orderJSON(o, root), ["id": o.id, "name": o.name, "agent": o.agentId, "organization": o.organizationId,
                                      "owner": o.ownerId, "state": o.stateId, "description": o.description,
                                      "state.name": seed.orderStates.first { $0.id == o.stateId }?.name,
                                      "sum": String(o.sum), "isDeleted": "false"],
                 [o.name, o.description ?? ""])
            }
        case "task":
            return tasks.map { t in
                (taskJSON(t, root), ["id": t.id, "description": t.description, "assignee": t.assigneeId, "author": t.authorId,
                                     "agent": t.agent.map { MoySkladWire.lastComponent($0) }, "done": String(t.done)],
                 [t.description])
            }
        case "store":
            return (seed.stores ?? []).map { st in (storeJSON(st, root), ["id": st.id, "name": st.name, "archived": "false"], [st.name]) }
        case "product":
            return (seed.products ?? []).map { p in (productJSON(p, root), ["id": p.id, "name": p.name, "archived": "false"], [p.name]) }
        default:
            return webhooks.map { w in
                (webhookJSON(w, root), ["id": w.id, "url": w.url, "action": w.action, "entityType": w.entityType], [w.url])
            }
        }
    }

    /// A list: `filter=`, `search=` (words matched anywhere, phones by their digits), `limit` (≤1000) and `offset`.
    func list(_ type: String, query: Parameters, caller: Caller, root: String) -> Reply {
        var chosen = rows(type, root: root)
        if let filter = query["filter"].map(String.init), !filter.isEmpty {
            guard let conds = MoySkladWire.conditions(filter) else {
                return Self.error(412, 1034, "Ошибка фильтрации: неверный формат фильтра '\(filter)'", parameter: "filter")
            }
            let known = Set(chosen.first?.fields.keys.map { $0 } ?? [])
            if let bad = conds.first(where: { !known.isEmpty && !known.contains($0.field) }) {
                return Self.error(412, 1034, "Ошибка фильтрации: неизвестное поле фильтрации '\(bad.field)'", parameter: "filter")
            }
            chosen = chosen.filter { MoySkladWire.matches(conds, $0.fields) }
        }
        if let search = query["search"].map(String.init), !search.isEmpty {
            let words = search.lowercased().split(separator: " ").map(String.init)
            chosen = chosen.filter { row in
                words.allSatisfy { w in
                    let digits = w.filter(\.isNumber)
                    return row.search.contains { text in
                        text.lowercased().contains(w) || (digits.count >= 3 && digits.count == w.count
                            && text.filter(\.isNumber).contains(digits))
                    }
                }
            }
        }
        let limit = min(1000, max(0, query["limit"].flatMap { Int(String($0)) } ?? 1000))
        let offset = max(0, query["offset"].flatMap { Int(String($0)) } ?? 0)
        var page = Array(chosen.dropFirst(offset).prefix(limit))
        // expand works on pages of at most 100 and is ignored above (DOC "Замена ссылок объектами с помощью expand").
        let expand = Self.expand(query)
        if type == "customerorder", !expand.isEmpty, limit <= 100 {
            page = page.map { row in
                guard let id = row.fields["id"] ?? nil, let o = orders.first(where: { $0.id == id }) else { return row }
                return (orderJSON(o, root, expand: expand), row.fields, row.search)
            }
        }
        var meta: [String: Any] = ["href": "\(root)/entity/\(type)", "type": type, "mediaType": "application/json",
                                   "size": chosen.count, "limit": limit, "offset": offset]
        if type != "webhook" { meta["metadataHref"] = "\(root)/entity/\(type)/metadata" }
        if offset + limit < chosen.count { meta["nextHref"] = "\(root)/entity/\(type)?limit=\(limit)&offset=\(offset + limit)" }
        if offset > 0 { meta["previousHref"] = "\(root)/entity/\(type)?limit=\(limit)&offset=\(max(0, offset - limit))" }
        return Reply(body: ["context": ["employee": ["meta": ["href": "\(root)/context/employee",
                                                              "metadataHref": "\(root)/entity/employee/metadata",
                                                              "type": "employee", "mediaType": "application/json"]]],
                            "meta": meta, "rows": page.map(\.json)])
    }

    func get(_ type: String, _ id: String, root: String, expand: Set<String> = []) -> Reply {
        if type == "customerorder", !expand.isEmpty, let o = orders.first(where: { $0.id == id && !$0.deleted }) {
            return Reply(body: orderJSON(o, root, expand: expand))
        }
        guard let row = rows(type, root: root).first(where: { $0.fields["id"] == .some(id) }) else { return Self.notFound(type, id) }
        return Reply(body: row.json)
    }

    func metadata(_ type: String, root: String) -> Reply {
        var j: [String: Any] = ["meta": ["href": "\(root)/entity/\(type)/metadata", "mediaType": "application/json"],
                                "createShared": false]
        if type == "customerorder" {
            j["states"] = seed.orderStates.map { stateJSON($0, root) }
        }
        return Reply(body: j)
    }

    // MARK: writing

    func newId() -> String { UUID().uuidString.lowercased() }

    /// The employee a `{"meta":…}` value names; an error reply when it names something else.
    func employeeRef(_ value: Any?, field: String) -> Result<String?, Reply> {
        guard value != nil, !(value is NSNull) else { return .success(nil) }
        guard let t = Self.target(value), t.type == "employee", employee(t.id) != nil else {
            return .failure(Self.error(400, 2013, "Ошибка формата: неправильное значение href для meta поля '\(field)'", parameter: field))
        }
        return .success(t.id)
    }

    func hrefEvent(_ root: String, _ type: String, _ id: String, _ action: String, _ fields: [String] = []) -> WebhookEvent {
        WebhookEvent(entityType: type, action: action, href: "\(root)/entity/\(type)/\(id)", fields: fields)
    }

    /// `description` is String(4096) on counterparties, orders, tasks and notes (DOC); longer is refused with code 3040
    /// (its HTTP status is UNCONFIRMED: 412 like the other validation errors).
    static func tooLong(_ item: [String: Any]) -> Reply? {
        guard let d = item["description"] as? String, d.count > 4096 else { return nil }
        return error(412, 3040, "Ошибка валидации: поле 'description' не может быть более '4096' символов", parameter: "description")
    }

    func create(_ type: String, _ item: [String: Any], caller: Caller, root: String) -> Reply {
        if let refused = Self.tooLong(item) { return refused }
        let now = MoySkladWire.format(Date())
        switch type {
        case "counterparty":
            guard let name = item["name"] as? String, !name.isEmpty else { return Self.required("name") }
            let owner: String?
            switch employeeRef(item["owner"], field: "owner") {
            case .failure(let r): return r
            case .success(let o): owner = o
            }
            let c = MoySkladSandboxSnapshot.Counterparty(
                id: newId(), name: name, phone: item["phone"] as? String, email: item["email"] as? String,
                description: item["description"] as? String, ownerId: owner ?? caller.employeeId,
                companyType: item["companyType"] as? String ?? "legal", tags: item["tags"] as? [String] ?? [],
                attributes: Self.attributes(item["attributes"]), createdByAPI: true, created: now)
            counterparties.append(c)
            return Reply(body: counterpartyJSON(c, root), events: [hrefEvent(root, type, c.id, "CREATE")])
        case "customerorder":
            guard let org = Self.target(item["organization"]) else { return Self.required("organization") }
            guard seed.organizations.contains(where: { $0.id == org.id }) else {
                return Self.error(400, 2013, "Ошибка формата: неправильное значение href для meta поля 'organization'", parameter: "organization")
            }
            guard let agent = Self.target(item["agent"]) else { return Self.required("agent") }
            guard counterparties.contains(where: { $0.id == agent.id }) || seed.organizations.contains(where: { $0.id == agent.id }) else {
                return Self.error(400, 2013, "Ошибка формата: неправильное значение href для meta поля 'agent'", parameter: "agent")
            }
            var stateId: String?
            if let s = Self.target(item["state"]) {
                guard seed.orderStates.contains(where: { $0.id == s.id }) else {
                    return Self.error(400, 2013, "Ошибка формата: неправильное значение href для meta поля 'state'", parameter: "state")
                }
                stateId = s.id
            }
            let owner: String?
            switch employeeRef(item["owner"], field: "owner") {
            case .failure(let r): return r
            case .success(let o): owner = o
            }
            var storeId: String?
            if let st = Self.target(item["store"]) {
                guard seed.stores?.contains(where: { $0.id == st.id }) == true else {
                    return Self.error(400, 2013, "Ошибка формата: неправильное значение href для meta поля 'store'", parameter: "store")
                }
                storeId = st.id
            }
            var lines: [MoySkladSandboxSnapshot.Position] = []
            for p in item["positions"] as? [[String: Any]] ?? [] {
                guard let a = Self.target(p["assortment"]), seed.products?.contains(where: { $0.id == a.id }) == true else {
                    return Self.error(400, 2013, "Ошибка формата: неправильное значение href для meta поля 'assortment'", parameter: "assortment")
                }
                lines.append(.init(id: newId(), productId: a.id, quantity: (p["quantity"] as? NSNumber)?.doubleValue ?? 1,
                                   price: (p["price"] as? NSNumber)?.intValue ?? 0))
            }
            let sum = lines.reduce(0.0) { $0 + $1.quantity * Double($1.price) }
            orderNumber += 1
            let o = MoySkladSandboxSnapshot.Order(
                id: newId(), name: item["name"] as? String ?? String(format: "%05d", orderNumber), organizationId: org.id,
                agentId: agent.id, stateId: stateId, ownerId: owner ?? caller.employeeId, description: item["description"] as? String,
                sum: Int(sum.rounded()), created: now, deleted: false, storeId: storeId, positions: lines)
            orders.append(o)
            return Reply(body: orderJSON(o, root), events: [hrefEvent(root, type, o.id, "CREATE")])
        case "task":
            guard let description = item["description"] as? String, !description.isEmpty else { return Self.required("description") }
            guard item["assignee"] != nil else { return Self.required("assignee") }
            let assignee: String?
            switch employeeRef(item["assignee"], field: "assignee") {
            case .failure(let r): return r
            case .success(let a): assignee = a
            }
            var agent: String?
            if let a = Self.target(item["agent"]) {
                guard (a.type == "counterparty" && counterparties.contains { $0.id == a.id })
                    || (a.type == "organization" && seed.organizations.contains { $0.id == a.id }) else {
                    return Self.error(400, 2013, "Ошибка формата: неправильное значение href для meta поля 'agent'", parameter: "agent")
                }
                agent = "\(a.type)/\(a.id)"
            }
            var due: String?
            if let d = item["dueToDate"] as? String {
                guard let date = MoySkladWire.parse(d) else {
                    return Self.error(400, 2016, "Ошибка формата: значение поля 'dueToDate' не соответствует типу дата", parameter: "dueToDate")
                }
                due = MoySkladWire.format(date)
            }
            let t = MoySkladSandboxSnapshot.Task(id: newId(), description: description, assigneeId: assignee ?? caller.employeeId,
                                                 authorId: caller.employeeId, agent: agent, dueToDate: due,
                                                 done: item["done"] as? Bool ?? false, created: now)
            tasks.append(t)
            return Reply(body: taskJSON(t, root), events: [hrefEvent(root, type, t.id, "CREATE")])
        case "webhook":
            return createWebhook(item, caller: caller, root: root)
        default:
            return Self.error(405, 1011, "Создание объектов типа '\(type)' не поддерживается")
        }
    }

    static func attributes(_ value: Any?) -> [String: String] {
        var out: [String: String] = [:]
        for a in value as? [[String: Any]] ?? [] {
            guard let id = Self.target(a).map(\.id) ?? (a["id"] as? String) else { continue }
            out[id] = a["value"].map { "\($0)" } ?? ""
        }
        return out
    }

    func createWebhook(_ item: [String: Any], caller: Caller, root: String) -> Reply {
        guard employee(caller.employeeId)?.isAdmin == true else {
            return Self.error(403, 30004, "Необходимы права администратора для работы с webhook")
        }
        guard let url = item["url"] as? String, !url.isEmpty else { return Self.required("url") }
        guard let action = item["action"] as? String else { return Self.required("action") }
        guard let entityType = item["entityType"] as? String else { return Self.required("entityType") }
        guard url.count <= 255 else { return Self.error(412, 30010, "Ошибка сохранения webhook: длина url адреса больше 255 символов") }
        guard let u = URL(string: url), ["http", "https"].contains(u.scheme ?? ""), u.host != nil else {
            return Self.error(412, 30005, "Ошибка сохранения webhook: значение поля url не является корректным адресом запроса")
        }
        guard ["CREATE", "UPDATE", "DELETE"].contains(action) else {
            return Self.error(412, 30002, "Ошибка сохранения webhook: неизвестное действие '\(action)'. Допустимые: CREATE, UPDATE, DELETE")
        }
        guard !["webhook", "discount", "notes"].contains(entityType) else {
            return Self.error(412, 30000, "Ошибка сохранения webhook: неподдерживаемый тип сущности '\(entityType)'")
        }
        if let m = item["method"] as? String, m != "POST" {
            return Self.error(412, 30001, "Ошибка сохранения webhook: неизвестный HTTP-метод '\(m)'. Допустимый: POST")
        }
        let diffType = item["diffType"] as? String
        if diffType != nil && action != "UPDATE" {
            return Self.error(412, 30009, "Ошибка сохранения webhook: указание значения поля 'diffType' не поддерживается для действия '\(action)'. Допустимые: UPDATE")
        }
        guard !webhooks.contains(where: { $0.url == url && $0.action == action && $0.entityType == entityType }) else {
            return Self.error(412, 30003, "Ошибка сохранения webhook: webhook с данным набором параметров уже существует")
        }
        let w = MoySkladSandboxSnapshot.Webhook(id: newId(), url: url, action: action, entityType: entityType,
                                               enabled: item["enabled"] as? Bool ?? true,
                                               diffType: action == "UPDATE" ? (diffType ?? "NONE") : nil)
        webhooks.append(w)
        return Reply(body: webhookJSON(w, root))
    }

    func update(_ type: String, _ id: String, _ item: [String: Any], root: String) -> Reply {
        if let refused = Self.tooLong(item) { return refused }
        switch type {
        case "counterparty":
            guard let i = counterparties.firstIndex(where: { $0.id == id }) else { return Self.notFound(type, id) }
            var c = counterparties[i]
            if let v = item["name"] as? String { c.name = v }
            if item.keys.contains("phone") { c.phone = item["phone"] as? String }
            if item.keys.contains("email") { c.email = item["email"] as? String }
            if item.keys.contains("description") { c.description = item["description"] as? String }
            if let v = item["companyType"] as? String { c.companyType = v }
            if let v = item["tags"] as? [String] { c.tags = v }
            if item["owner"] != nil {
                switch employeeRef(item["owner"], field: "owner") {
                case .failure(let r): return r
                case .success(let o): c.ownerId = o ?? c.ownerId
                }
            }
            c.attributes.merge(Self.attributes(item["attributes"])) { $1 }
            counterparties[i] = c
            return Reply(body: counterpartyJSON(c, root), events: [hrefEvent(root, type, id, "UPDATE", item.keys.sorted())])
        case "customerorder":
            guard let i = orders.firstIndex(where: { $0.id == id && !$0.deleted }) else { return Self.notFound(type, id) }
            var o = orders[i]
            if item["state"] != nil {
                guard let s = Self.target(item["state"]), seed.orderStates.contains(where: { $0.id == s.id }) else {
                    return Self.error(400, 2013, "Ошибка формата: неправильное значение href для meta поля 'state'", parameter: "state")
                }
                o.stateId = s.id
            }
            if item.keys.contains("description") { o.description = item["description"] as? String }
            if let v = item["name"] as? String { o.name = v }
            if item["owner"] != nil {
                switch employeeRef(item["owner"], field: "owner") {
                case .failure(let r): return r
                case .success(let owner): o.ownerId = owner ?? o.ownerId
                }
            }
            orders[i] = o
            return Reply(body: orderJSON(o, root), events: [hrefEvent(root, type, id, "UPDATE", item.keys.sorted())])
        case "task":
            guard let i = tasks.firstIndex(where: { $0.id == id }) else { return Self.notFound(type, id) }
            if let v = item["done"] as? Bool { tasks[i].done = v }
            if let v = item["description"] as? String { tasks[i].description = v }
            if let d = item["dueToDate"] as? String {
                guard let date = MoySkladWire.parse(d) else {
                    return Self.error(400, 2016, "Ошибка формата: значение поля 'dueToDate' не соответствует типу дата", parameter: "dueToDate")
                }
                tasks[i].dueToDate = MoySkladWire.format(date)
            }
            if item["assignee"] != nil {
                switch employeeRef(item["assignee"], field: "assignee") {
                case .failure(let r): return r
                case .success(let a): tasks[i].assigneeId = a ?? tasks[i].assigneeId
                }
            }
            return Reply(body: taskJSON(tasks[i], root), events: [hrefEvent(root, type, id, "UPDATE", item.keys.sorted())])
        case "webhook":
            guard let i = webhooks.firstIndex(where: { $0.id == id }) else { return Self.notFound(type, id) }
            if let v = item["enabled"] as? Bool { webhooks[i].enabled = v }
            if let v = item["url"] as? String { webhooks[i].url = v }
            return Reply(body: webhookJSON(webhooks[i], root))
        default:
            return Self.error(405, 1026, "Обновление объектов типа '\(type)' не поддерживается")
        }
    }

    func delete(_ type: String, _ id: String, root: String) -> Reply {
        switch type {
        case "webhook":
            guard let i = webhooks.firstIndex(where: { $0.id == id }) else { return Self.notFound(type, id) }
            webhooks.remove(at: i)
            return Reply()
        case "customerorder":
            guard let i = orders.firstIndex(where: { $0.id == id && !$0.deleted }) else { return Self.notFound(type, id) }
            orders[i].deleted = true
            return Reply(events: [hrefEvent(root, type, id, "DELETE")])
        case "counterparty":
            guard let i = counterparties.firstIndex(where: { $0.id == id }) else { return Self.notFound(type, id) }
            counterparties.remove(at: i)
            return Reply(events: [hrefEvent(root, type, id, "DELETE")])
        case "task":
            guard let i = tasks.firstIndex(where: { $0.id == id }) else { return Self.notFound(type, id) }
            tasks.remove(at: i)
            return Reply(events: [hrefEvent(root, type, id, "DELETE")])
        default:
            return Self.error(405, 1010, "Удаление объектов типа '\(type)' не поддерживается")
        }
    }

    /// A note ("событие") on a counterparty's feed; the answer is an array, as MoySklad's is.
    func addNote(_ counterpartyId: String, _ item: [String: Any], caller: Caller, root: String) -> Reply {
        guard counterparties.contains(where: { $0.id == counterpartyId }) else { return Self.notFound("counterparty", counterpartyId) }
        guard let text = item["description"] as? String, !text.isEmpty else { return Self.required("description") }
        if let refused = Self.tooLong(item) { return refused }
        let note = ["id": newId(), "description": text, "created": MoySkladWire.format(Date()), "author": caller.employeeId]
        notes[counterpartyId, default: []].append(note)
        return Reply(body: [noteJSON(note, counterpartyId: counterpartyId, root: root)])
    }
}
