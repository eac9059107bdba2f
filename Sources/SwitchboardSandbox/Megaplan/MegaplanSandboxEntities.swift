import Foundation
import Hummingbird

/// Employees, clients, deals in programs, todos, tasks and comments: create (`POST /api/v3/<entity>`), update
/// (`POST /api/v3/<entity>/{id}`), get and list, with Megaplan's validation answers (422 with the field's name).
extension MegaplanSandbox {
    static let contactInfoTypes: Set<String> = ["email", "jabber", "icq", "skype", "link", "phone", "telegram", "whatsapp", "viber",
                                                "instagram", "max_messenger"]
    static let contractorTypes = ["ContractorHuman", "ContractorCompany"]
    /// Entities that carry comments and todos as sub-resources, by path.
    static let ownerPaths = ["contractorHuman": "ContractorHuman", "contractorCompany": "ContractorCompany", "deal": "Deal",
                             "task": "Task", "todo": "Todo", "callInfo": "CallInfo"]

    func routeEntities(_ r: Router<BasicRequestContext>) {
        r.get("api/v3/currentUser") { req, _ in
            try await self.api(req) { c in Self.envelope(.object(self.find("Employee", c.employeeId) ?? [:])) }
        }
        r.get("api/v3/employee") { req, _ in
            try await self.api(req) { c in Self.page(Self.sorted(self.entities["Employee"] ?? [], c.params), c.params) }
        }
        r.get("api/v3/employee/:id") { req, ctx in try await self.api(req, id: Self.id(ctx)) { c in self.get("Employee", c.id) } }
        r.get("api/v3/contractor") { req, _ in try await self.api(req) { c in self.listContractors(c) } }
        r.get("api/v3/contractor/:id") { req, ctx in try await self.api(req, id: Self.id(ctx)) { c in self.getContractor(c.id) } }
        for (path, type) in MegaplanSandboxFacts.contractorPaths {
            r.get("api/v3/\(path)") { req, _ in try await self.api(req) { c in self.listContractors(c) } }
            r.post("api/v3/\(path)") { req, _ in try await self.api(req) { c in self.saveContractor(type, c, existing: nil) } }
            r.get("api/v3/\(path)/extraFields") { req, _ in try await self.api(req) { c in self.extraFields(type, c) } }
            r.get("api/v3/\(path)/:id") { req, ctx in try await self.api(req, id: Self.id(ctx)) { c in self.getContractor(c.id) } }
            r.post("api/v3/\(path)/:id") { req, ctx in
                try await self.api(req, id: Self.id(ctx)) { c in
                    guard let o = self.find(type, c.id) else { return Self.notFound() }
                    return self.saveContractor(type, c, existing: o)
                }
            }
        }
        for (path, type) in Self.ownerPaths {
            r.get("api/v3/\(path)/:id/todos") { req, ctx in
                try await self.api(req, id: Self.id(ctx)) { c in
                    guard self.find(type, c.id) != nil else { return Self.notFound() }
                    let link = Self.link(type, c.id!)
                    let todos = (self.entities["Todo"] ?? []).filter { t in (t["relations"]?.array ?? []).contains { Self.sameLink($0, link) } }
                    return Self.page(todos, c.params)
                }
            }
            r.post("api/v3/\(path)/:id/todos") { req, ctx in
                try await self.api(req, id: Self.id(ctx)) { c in
                    guard self.find(type, c.id) != nil else { return Self.notFound() }
                    return self.saveTodo(c, existing: nil, relatedTo: Self.link(type, c.id!))
                }
            }
            guard type != "CallInfo" else { continue }
            r.get("api/v3/\(path)/:id/comments") { req, ctx in
                try await self.api(req, id: Self.id(ctx)) { c in
                    guard self.find(type, c.id) != nil else { return Self.notFound() }
                    let link = Self.link(type, c.id!)
                    return Self.page((self.entities["Comment"] ?? []).filter { Self.sameLink($0["subject"], link) }, c.params)
                }
            }
            r.post("api/v3/\(path)/:id/comments") { req, ctx in
                try await self.api(req, id: Self.id(ctx)) { c in
                    guard self.find(type, c.id) != nil else { return Self.notFound() }
                    return self.addComment(c, subject: Self.link(type, c.id!))
                }
            }
        }
        r.get("api/v3/deal") { req, _ in try await self.api(req) { c in self.listDeals(c) } }
        r.post("api/v3/deal") { req, _ in try await self.api(req) { c in self.saveDeal(c, existing: nil) } }
        r.get("api/v3/deal/availablePrograms") { req, _ in
            try await self.api(req) { c in Self.page(self.entities["Program"] ?? [], c.params) }
        }
        r.get("api/v3/deal/:id") { req, ctx in try await self.api(req, id: Self.id(ctx)) { c in self.get("Deal", c.id) } }
        r.post("api/v3/deal/:id") { req, ctx in
            try await self.api(req, id: Self.id(ctx)) { c in
                guard let d = self.find("Deal", c.id) else { return Self.notFound() }
                return self.saveDeal(c, existing: d)
            }
        }
        r.post("api/v3/deal/:id/applyTransition") { req, ctx in try await self.api(req, id: Self.id(ctx)) { c in self.applyTransition(c) } }
        r.get("api/v3/program") { req, _ in try await self.api(req) { c in Self.page(self.entities["Program"] ?? [], c.params) } }
        r.get("api/v3/program/:id") { req, ctx in try await self.api(req, id: Self.id(ctx)) { c in self.get("Program", c.id) } }
        r.get("api/v3/program/:id/states") { req, ctx in
            try await self.api(req, id: Self.id(ctx)) { c in
                guard let p = self.find("Program", c.id) else { return Self.notFound() }
                return Self.page((p["states"]?.array ?? []).compactMap(\.object), c.params)
            }
        }
        let todo = MegaplanSandboxFacts.todoPath
        r.get("api/v3/\(todo)") { req, _ in try await self.api(req) { c in Self.page(Self.sorted(self.entities["Todo"] ?? [], c.params), c.params) } }
        r.post("api/v3/\(todo)") { req, _ in try await self.api(req) { c in self.saveTodo(c, existing: nil, relatedTo: nil) } }
        r.get("api/v3/\(todo)/:id") { req, ctx in try await self.api(req, id: Self.id(ctx)) { c in self.get("Todo", c.id) } }
        r.post("api/v3/\(todo)/:id") { req, ctx in
            try await self.api(req, id: Self.id(ctx)) { c in
                guard let t = self.find("Todo", c.id) else { return Self.notFound() }
                return self.saveTodo(c, existing: t, relatedTo: nil)
            }
        }
        r.get("api/v3/\(MegaplanSandboxFacts.todoCategoryPath)") { req, _ in
            try await self.api(req) { c in Self.page(self.entities["TodoCategory"] ?? [], c.params) }
        }
        r.get("api/v3/task") { req, _ in try await self.api(req) { c in Self.page(Self.sorted(self.entities["Task"] ?? [], c.params), c.params) } }
        r.post("api/v3/task") { req, _ in try await self.api(req) { c in self.saveTask(c, existing: nil) } }
        r.get("api/v3/task/:id") { req, ctx in try await self.api(req, id: Self.id(ctx)) { c in self.get("Task", c.id) } }
        r.post("api/v3/task/:id") { req, ctx in
            try await self.api(req, id: Self.id(ctx)) { c in
                guard let t = self.find("Task", c.id) else { return Self.notFound() }
                return self.saveTask(c, existing: t)
            }
        }
    }

    func get(_ type: String, _ id: String?) -> Response {
        guard let o = find(type, id) else { return Self.notFound() }
        return Self.envelope(.object(o))
    }

    static func sameLink(_ a: MegaplanJSON?, _ b: MegaplanJSON) -> Bool {
        a?["contentType"] == b["contentType"] && a?["id"]?.string == b["id"]?.string
    }

    // MARK: validation

    /// The body as an entity of `type`; a 422 when it is not an object or names another content type.
    static func entityBody(_ c: Call, _ type: String) -> (Object?, Response?) {
        guard let body = c.body.object else { return (nil, failure(422, "Ожидается сущность \(type)")) }
        if let ct = body["contentType"]?.string, ct != type { return (nil, failure(422, "Ожидается \(type), получен \(ct)", field: "contentType")) }
        return (body, nil)
    }

    /// A link-entity in `field` pointing at an existing entity of one of `types`; nil when absent and allowed.
    func resolve(_ v: MegaplanJSON?, field: String, types: [String]) -> (MegaplanJSON?, Response?) {
        guard let v, !v.isNull else { return (nil, nil) }
        guard let type = v["contentType"]?.string, types.contains(type), let id = v["id"]?.string else {
            return (nil, Self.failure(422, "Ожидается ссылка на \(types.joined(separator: "|"))", field: field))
        }
        guard find(type, id) != nil else { return (nil, Self.failure(422, "\(type) \(id) не найден", field: field)) }
        return (nested(Self.link(type, id)), nil)
    }

    func resolveAll(_ v: MegaplanJSON?, field: String, types: [String]) -> ([MegaplanJSON]?, Response?) {
        guard let v, !v.isNull else { return (nil, nil) }
        guard let items = v.array else { return (nil, Self.failure(422, "Ожидается коллекция", field: field)) }
        var out: [MegaplanJSON] = []
        for item in items {
            let (r, e) = resolve(item, field: field, types: types)
            if let e { return (nil, e) }
            if let r { out.append(r) }
        }
        return (out, nil)
    }

    func contactInfo(_ v: MegaplanJSON?) -> ([MegaplanJSON]?, Response?) {
        guard let v, !v.isNull else { return (nil, nil) }
        guard let items = v.array else { return (nil, Self.failure(422, "Ожидается коллекция ContactInfo", field: "contactInfo")) }
        var out: [MegaplanJSON] = []
        for item in items {
            guard var o = item.object, let type = o["type"]?.string, Self.contactInfoTypes.contains(type),
                  let value = o["value"]?.string, !value.isEmpty else {
                return (nil, Self.failure(422, "Неверный контакт: нужны type и value", field: "contactInfo"))
            }
            o["contentType"] = "ContactInfo"
            if o["id"] == nil { o["id"] = .string(newId()) }
            out.append(.object(o))
        }
        return (out, nil)
    }

    // MARK: clients

    /// Both kinds of client; `q` matches names, e-mails and phones (phones by their last digits).
    func listContractors(_ c: Call) -> Response {
        var items = Self.contractorTypes.flatMap { entities[$0] ?? [] }.sorted { ($0["id"]?.int ?? 0) < ($1["id"]?.int ?? 0) }
        if let q = c.params["q"]?.string, !q.isEmpty { items = items.filter { Self.matches($0, q) } }
        return Self.page(Self.sorted(items, c.params), c.params)
    }

    static func matches(_ o: Object, _ q: String) -> Bool {
        let lower = q.lowercased(), qd = digits(q)
        if o["name"]?.string?.lowercased().contains(lower) == true { return true }
        for ci in o["contactInfo"]?.array ?? [] {
            let value = ci["value"]?.string ?? ""
            if ci["type"] == "phone", qd.count >= 5 {
                if samePhone(value, q) || digits(value).contains(qd) { return true }
            } else if value.lowercased().contains(lower) {
                return true
            }
        }
        return false
    }

    func getContractor(_ id: String?) -> Response {
        guard let o = Self.contractorTypes.lazy.compactMap({ self.find($0, id) }).first else { return Self.notFound() }
        return Self.envelope(.object(o))
    }

    func extraFields(_ type: String, _ c: Call) -> Response {
        let fields: [Object] = seed.extraFields.filter { $0.contentTypes.contains(type) }.map {
            ["contentType": .string($0.type), "id": .string($0.name), "name": .string($0.name), "hrName": .string($0.hrName),
             "isRequired": false]
        }
        return Self.page(fields, c.params)
    }

    func saveContractor(_ type: String, _ c: Call, existing: Object?) -> Response {
        let (parsed, error) = Self.entityBody(c, type)
        guard let body = parsed else { return error! }
        var o = existing ?? ["contentType": .string(type), "id": .string(newId()), "timeCreated": Self.dateTime(Date()),
                             "responsibles": .array([nested(Self.link("Employee", c.employeeId))].compactMap { $0 }),
                             "contactInfo": []]
        let plain = type == "ContractorCompany" ? ["name", "description"] : ["firstName", "lastName", "middleName", "description", "position"]
        for key in plain where body[key] != nil { o[key] = body[key] }
        if type == "ContractorCompany", existing == nil || body["name"] != nil {
            guard let name = o["name"]?.string, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                return Self.failure(422, "Поле обязательно для заполнения", field: "name")
            }
        }
        if let g = body["gender"], !g.isNull {
            guard ["male", "female"].contains(g.string ?? "") else { return Self.failure(422, "Недопустимое значение", field: "gender") }
            o["gender"] = g
        }
        let (contacts, e1) = contactInfo(body["contactInfo"])
        if let e1 { return e1 }
        if let contacts { o["contactInfo"] = .array(contacts) }
        let (responsibles, e2) = resolveAll(body["responsibles"], field: "responsibles", types: ["Employee"])
        if let e2 { return e2 }
        if let responsibles { o["responsibles"] = .array(responsibles) }
        if type == "ContractorHuman" {
            let (company, e3) = resolve(body["company"], field: "company", types: ["ContractorCompany"])
            if let e3 { return e3 }
            if let company { o["company"] = company }
        }
        let known = Set(seed.extraFields.filter { $0.contentTypes.contains(type) }.map(\.name))
        for (key, value) in body where key.hasPrefix("Category") && key.contains("CustomField") {
            guard known.contains(key) else { return Self.failure(422, "Неизвестное поле \(key)", field: key) }
            o[key] = value
        }
        o["timeUpdated"] = Self.dateTime(Date())
        store(o)
        let saved = find(type, o["id"]?.string)!
        emit(existing == nil ? "on_after_create" : "on_after_update", saved)
        return Self.envelope(.object(saved))
    }

    // MARK: deals

    func listDeals(_ c: Call) -> Response {
        var items = entities["Deal"] ?? []
        if let program = c.params["program"]?["id"]?.string, program != "all" {
            items = items.filter { $0["program"]?["id"]?.string == program }
        }
        return Self.page(Self.sorted(items, c.params), c.params)
    }

    func stateJSON(_ id: String) -> MegaplanJSON? {
        guard let s = find("ProgramState", id) else { return nil }
        return ["contentType": "ProgramState", "id": .string(id), "name": s["name"] ?? .null, "type": s["type"] ?? .null]
    }

    /// Every other state of the deal's program is a transition away (the sandbox's programs allow any move).
    func withTransitions(_ deal: Object) -> Object {
        var d = deal
        let program = find("Program", deal["program"]?["id"]?.string)
        let current = deal["state"]?["id"]?.string ?? ""
        d["possibleTransitions"] = .array((program?["states"]?.array ?? []).compactMap { s -> MegaplanJSON? in
            guard let id = s["id"]?.string, id != current else { return nil }
            return ["contentType": "ProgramTransition", "id": .string("\(current)-\(id)"), "to": stateJSON(id) ?? .null, "enabled": true]
        })
        return d
    }

    func saveDeal(_ c: Call, existing: Object?) -> Response {
        let (parsed, error) = Self.entityBody(c, "Deal")
        guard let body = parsed else { return error! }
        var d = existing ?? ["contentType": "Deal", "id": .string(newId()), "timeCreated": Self.dateTime(Date()),
                             "manager": nested(Self.link("Employee", c.employeeId)) ?? .null, "result": "active"]
        if existing == nil {
            guard body["program"] != nil, !(body["program"]!.isNull) else {
                return Self.failure(422, "Поле обязательно для заполнения", field: "program")
            }
            let (program, e) = resolve(body["program"], field: "program", types: ["Program"])
            if let e { return e }
            d["program"] = program
            d["number"] = d["id"]
            let states = find("Program", program?["id"]?.string)?["states"]?.array ?? []
            var state = states.first { $0["isEntry"]?.bool == true } ?? states.first
            if let wanted = body["state"]?["id"]?.string {
                guard let s = states.first(where: { $0["id"]?.string == wanted }) else {
                    return Self.failure(422, "Статус не принадлежит схеме", field: "state")
                }
                state = s
            }
            d["state"] = state.flatMap { $0["id"]?.string }.flatMap { stateJSON($0) } ?? .null
        }
        // On update a written `state` is ignored: deals move through `applyTransition`, as on a live account.
        // `currency` and `positions` (OfferRow[]) are Deal fields of the RAML; kept as written.
        for key in ["name", "description", "price", "cost", "currency", "positions"] where body[key] != nil { d[key] = body[key] }
        let (manager, e1) = resolve(body["manager"], field: "manager", types: ["Employee"])
        if let e1 { return e1 }
        if let manager { d["manager"] = manager }
        let (contractor, e2) = resolve(body["contractor"], field: "contractor", types: Self.contractorTypes)
        if let e2 { return e2 }
        if let contractor { d["contractor"] = contractor }
        d["timeUpdated"] = Self.dateTime(Date())
        d = withTransitions(d)
        store(d)
        emit(existing == nil ? "on_after_create" : "on_after_update", d)
        return Self.envelope(.object(d))
    }

    func applyTransition(_ c: Call) -> Response {
        guard var d = find("Deal", c.id) else { return Self.notFound() }
        guard let to = c.body["to"]?["id"]?.string,
              (d["possibleTransitions"]?.array ?? []).contains(where: { $0["to"]?["id"]?.string == to }) else {
            return Self.failure(422, "Переход недоступен", field: "to")
        }
        d["state"] = stateJSON(to) ?? .null
        d["stateTimeUpdated"] = Self.dateTime(Date())
        d["timeUpdated"] = Self.dateTime(Date())
        d["result"] = d["state"]?["type"] ?? "active"
        d = withTransitions(d)
        store(d)
        emit("on_after_update", d)
        return Self.envelope(.object(d))
    }

    // MARK: todos, tasks, comments

    func saveTodo(_ c: Call, existing: Object?, relatedTo: MegaplanJSON?) -> Response {
        let (parsed, error) = Self.entityBody(c, "Todo")
        guard let body = parsed else { return error! }
        var t = existing ?? ["contentType": "Todo", "id": .string(newId()), "timeCreated": Self.dateTime(Date()), "finished": false,
                             "responsible": nested(Self.link("Employee", c.employeeId)) ?? .null, "relations": [],
                             "owner": nested(Self.link("Employee", c.employeeId)) ?? .null]
        if existing == nil || body["name"] != nil {
            guard let name = body["name"]?.string ?? t["name"]?.string, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                return Self.failure(422, "Поле обязательно для заполнения", field: "name")
            }
            t["name"] = .string(name)
        }
        for key in ["description", "isNeedResult", "resultComment", "isAllDay", "contactInfo"] where body[key] != nil { t[key] = body[key] }
        if let when = body["when"] {
            guard when.isNull || (Self.validDateTime(when["from"]) && Self.validDateTime(when["to"])) else {
                return Self.failure(422, "Неверный интервал", field: "when")
            }
            t["when"] = when
        }
        let (category, e1) = resolve(body["category"], field: "category", types: ["TodoCategory"])
        if let e1 { return e1 }
        if let category, let full = find("TodoCategory", category["id"]?.string) { t["category"] = .object(full) }
        let (responsible, e2) = resolve(body["responsible"], field: "responsible", types: ["Employee"])
        if let e2 { return e2 }
        if let responsible { t["responsible"] = responsible }
        let (participants, e3) = resolveAll(body["participants"], field: "participants", types: ["Employee"] + Self.contractorTypes)
        if let e3 { return e3 }
        if let participants { t["participants"] = .array(participants) }
        let (relations, e4) = resolveAll(body["relations"], field: "relations", types: ["CallInfo", "Deal", "Task"] + Self.contractorTypes)
        if let e4 { return e4 }
        var rel = relations ?? t["relations"]?.array ?? []
        if let relatedTo, !rel.contains(where: { Self.sameLink($0, relatedTo) }), let n = nested(relatedTo) { rel.append(n) }
        t["relations"] = .array(rel)
        t["timeUpdated"] = Self.dateTime(Date())
        store(t)
        return Self.envelope(.object(t))
    }

    func saveTask(_ c: Call, existing: Object?) -> Response {
        let (parsed, error) = Self.entityBody(c, "Task")
        guard let body = parsed else { return error! }
        var t = existing ?? ["contentType": "Task", "id": .string(newId()), "timeCreated": Self.dateTime(Date()), "status": "assigned",
                             "owner": nested(Self.link("Employee", c.employeeId)) ?? .null, "isUrgent": false, "isTemplate": false]
        if existing == nil || body["name"] != nil {
            guard let name = body["name"]?.string, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                return Self.failure(422, "Поле обязательно для заполнения", field: "name")
            }
            t["name"] = .string(name)
        }
        if existing == nil, body["responsible"] == nil || body["responsible"]!.isNull {
            return Self.failure(422, "Поле обязательно для заполнения", field: "responsible")
        }
        for key in ["statement", "isUrgent", "isTemplate"] where body[key] != nil { t[key] = body[key] }
        if let deadline = body["deadline"] {
            guard Self.validDateTime(deadline) || deadline["contentType"] != "DateTime" else {
                return Self.failure(422, "Неверная дата", field: "deadline")
            }
            t["deadline"] = deadline
        }
        let (responsible, e1) = resolve(body["responsible"], field: "responsible", types: ["Employee"])
        if let e1 { return e1 }
        if let responsible { t["responsible"] = responsible }
        let (deals, e2) = resolveAll(body["deals"], field: "deals", types: ["Deal"])
        if let e2 { return e2 }
        if let deals { t["deals"] = .array(deals) }
        let (auditors, e3) = resolveAll(body["auditors"], field: "auditors", types: ["Employee"])
        if let e3 { return e3 }
        if let auditors { t["auditors"] = .array(auditors) }
        t["timeUpdated"] = Self.dateTime(Date())
        store(t)
        return Self.envelope(.object(t))
    }

    func addComment(_ c: Call, subject: MegaplanJSON) -> Response {
        let (parsed, error) = Self.entityBody(c, "Comment")
        guard let body = parsed else { return error! }
        guard let content = body["content"]?.string, !content.trimmingCharacters(in: .whitespaces).isEmpty else {
            return Self.failure(422, "Поле обязательно для заполнения", field: "content")
        }
        let comment: Object = ["contentType": "Comment", "id": .string(newId()), "content": .string(content),
                               "subject": nested(subject) ?? subject, "owner": nested(Self.link("Employee", c.employeeId)) ?? .null,
                               "timeCreated": Self.dateTime(Date())]
        store(comment)
        return Self.envelope(.object(comment))
    }
}
