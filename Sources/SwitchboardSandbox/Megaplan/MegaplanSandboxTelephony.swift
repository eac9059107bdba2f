import Foundation
import Hummingbird

/// "Подключение к телефонии по API": `callInfo` (the call card and its life: calling → talking → finished, records,
/// the client bound), `callRoute` (the responsible's extension for a number), `callUserConfig` (employee ↔ extension);
/// and the `/sandbox/*` steering that makes the account send what Megaplan sends.
extension MegaplanSandbox {
    static let callTypes: Set<String> = ["unknown", "in", "out", "miss", "fail"]
    static let callStates: Set<String> = ["unknown", "calling", "talking", "finished", "hold"]

    func routeTelephony(_ r: Router<BasicRequestContext>) {
        r.get("api/v3/callInfo") { req, _ in
            try await self.api(req) { c in
                Self.page((self.entities["CallInfo"] ?? []).filter { !self.historyCallIds.contains($0["id"]?.string ?? "") }, c.params)
            }
        }
        r.post("api/v3/callInfo") { req, _ in try await self.api(req) { c in self.saveCall(c.body, c, existing: nil, history: false) } }
        r.get("api/v3/callInfo/provider") { req, _ in
            try await self.api(req) { c in
                guard let providerId = c.params["providerId"], !providerId.isNull else {
                    return Self.failure(422, "Поле обязательно для заполнения", field: "providerId")
                }
                guard let call = self.call(providerId: providerId) else { return Self.notFound() }
                return Self.envelope(.object(call))
            }
        }
        r.post("api/v3/callInfo/provider") { req, _ in
            try await self.api(req) { c in
                guard let providerId = c.body["providerId"], !providerId.isNull else {
                    return Self.failure(422, "Поле обязательно для заполнения", field: "providerId")
                }
                guard let call = self.call(providerId: providerId) else { return Self.notFound() }
                return self.saveCall(c.body, c, existing: call, history: false)
            }
        }
        r.get("api/v3/callInfo/history") { req, _ in
            try await self.api(req) { c in
                Self.page((self.entities["CallInfo"] ?? []).filter { self.historyCallIds.contains($0["id"]?.string ?? "") }, c.params)
            }
        }
        r.post("api/v3/callInfo/history") { req, _ in try await self.api(req) { c in self.saveHistory(c) } }
        r.get("api/v3/callInfo/:id") { req, ctx in try await self.api(req, id: Self.id(ctx)) { c in self.get("CallInfo", c.id) } }
        r.post("api/v3/callInfo/:id") { req, ctx in
            try await self.api(req, id: Self.id(ctx)) { c in
                guard let call = self.find("CallInfo", c.id) else { return Self.notFound() }
                return self.saveCall(c.body, c, existing: call, history: false)
            }
        }
        r.post("api/v3/callInfo/:id/setContractor") { req, ctx in try await self.api(req, id: Self.id(ctx)) { c in self.setContractor(c) } }
        r.get("api/v3/callRoute") { req, _ in try await self.api(req) { c in self.callRoute(c) } }
        r.get("api/v3/callUserConfig") { req, _ in try await self.api(req) { c in Self.page(self.entities["CallUserConfig"] ?? [], c.params) } }
        r.post("api/v3/callUserConfig") { req, _ in try await self.api(req) { c in self.saveConfig(c, existing: nil) } }
        r.get("api/v3/callUserConfig/Employee/:id") { req, ctx in
            try await self.api(req, id: Self.id(ctx)) { c in
                guard let cfg = self.config(employeeId: c.id) else { return Self.notFound() }
                return Self.envelope(.object(cfg))
            }
        }
        r.delete("api/v3/callUserConfig/Employee/:id") { req, ctx in
            try await self.api(req, id: Self.id(ctx)) { c in
                guard let cfg = self.config(employeeId: c.id) else { return Self.notFound() }
                self.entities["CallUserConfig"]?.removeAll { $0["id"] == cfg["id"] }
                return Self.envelope(.object(cfg))
            }
        }
        r.get("api/v3/callUserConfig/:id") { req, ctx in try await self.api(req, id: Self.id(ctx)) { c in self.get("CallUserConfig", c.id) } }
        r.post("api/v3/callUserConfig/:id") { req, ctx in
            try await self.api(req, id: Self.id(ctx)) { c in
                guard let cfg = self.find("CallUserConfig", c.id) else { return Self.notFound() }
                return self.saveConfig(c, existing: cfg)
            }
        }
    }

    // MARK: lookups

    func config(employeeId: String?) -> Object? {
        entities["CallUserConfig"]?.first { $0["employee"]?["id"]?.string == employeeId }
    }

    /// The extension's digits: "101", or the user part of "sip:101@host".
    static func extensionKey(_ s: String) -> String {
        var s = s
        if s.hasPrefix("sip:") { s = String(s.dropFirst(4)) }
        return digits(String(s.prefix { $0 != "@" }))
    }

    func employee(internalNumber: String?) -> String? {
        guard let n = internalNumber.map(Self.extensionKey), !n.isEmpty else { return nil }
        return entities["CallUserConfig"]?.first { Self.extensionKey($0["internalNumber"]?.string ?? "") == n }?["employee"]?["id"]?.string
    }

    func contractors(phone: String) -> [Object] {
        Self.contractorTypes.flatMap { entities[$0] ?? [] }.filter { o in
            (o["contactInfo"]?.array ?? []).contains { $0["type"] == "phone" && Self.samePhone($0["value"]?.string ?? "", phone) }
        }
    }

    /// The newest call with this provider id (the RAML: "редактироваться будет самый последний звонок").
    func call(providerId: MegaplanJSON) -> Object? {
        entities["CallInfo"]?.last { $0["providerId"]?.string == providerId.string && $0["providerId"] != nil }
    }

    // MARK: callInfo

    func saveCall(_ body: MegaplanJSON, _ c: Call, existing: Object?, history: Bool) -> Response {
        guard let b = body.object else { return Self.failure(422, "Ожидается сущность CallInfo") }
        if let ct = b["contentType"]?.string, ct != "CallInfo" { return Self.failure(422, "Ожидается CallInfo, получен \(ct)", field: "contentType") }
        var call = existing ?? ["contentType": "CallInfo", "id": .string(newId()), "timeCreated": Self.dateTime(Date()),
                                "state": "unknown", "recordLinks": []]
        if let type = b["type"] {
            guard let t = type.string, Self.callTypes.contains(t) else { return Self.failure(422, "Недопустимое значение", field: "type") }
            call["type"] = type
        } else if existing == nil {
            return Self.failure(422, "Поле обязательно для заполнения", field: "type")
        }
        if let state = b["state"] {
            guard let s = state.string, Self.callStates.contains(s) else { return Self.failure(422, "Недопустимое значение", field: "state") }
            call["state"] = state
        }
        if history { call["state"] = "finished" }
        for key in ["fromPhone", "toPhone"] where b[key] != nil {
            guard b[key]!.isNull || b[key]!.string != nil else { return Self.failure(422, "Ожидается строка", field: key) }
            call[key] = b[key]
        }
        if let p = b["providerId"] { call["providerId"] = p }
        for key in ["timeFrom", "timeTo"] where b[key] != nil {
            guard Self.validDateTime(b[key]) else { return Self.failure(422, "Неверная дата", field: key) }
            call[key] = b[key]
        }
        if let links = b["recordLinks"] {
            guard let items = links.array, items.allSatisfy({ $0.string != nil }) else {
                return Self.failure(422, "Ожидается массив ссылок", field: "recordLinks")
            }
            call["recordLinks"] = links
        }
        for key in ["fromUser", "toUser"] {
            let (user, e) = resolve(b[key], field: key, types: ["Employee"] + Self.contractorTypes)
            if let e { return e }
            if let user { call[key] = user }
        }
        autoBind(&call)
        call["timeUpdated"] = Self.dateTime(Date())
        store(call)
        let id = call["id"]!.string!
        if history {
            if !historyCallIds.contains(id) { historyCallIds.append(id) }
        } else if !historyCallIds.contains(id) {
            popUp(call)
        }
        return Self.envelope(.object(find("CallInfo", id)!))
    }

    static func isOutgoing(_ call: Object) -> Bool { ["out", "fail"].contains(call["type"]?.string ?? "") }

    /// Fills what the widget finds by itself: the employee by extension and the client by number, on the sides the
    /// call's direction gives them, unless the provider set them.
    func autoBind(_ call: inout Object) {
        let out = Self.isOutgoing(call)
        let (employeeSide, clientSide) = out ? ("fromUser", "toUser") : ("toUser", "fromUser")
        let employeeNumber = call[out ? "fromPhone" : "toPhone"]?.string
        let clientNumber = call[out ? "toPhone" : "fromPhone"]?.string
        if call[employeeSide] == nil || call[employeeSide]!.isNull, let e = employee(internalNumber: employeeNumber) {
            call[employeeSide] = nested(Self.link("Employee", e))
        }
        if call[clientSide] == nil || call[clientSide]!.isNull, let phone = clientNumber {
            let found = contractors(phone: phone)
            if found.count == 1, let o = found.first { call[clientSide] = nested(Self.link(o["contentType"]!.string!, o["id"]!.string!)) }
        }
    }

    /// The employee's telephony widget shows the call, when the employee is set up for telephony.
    func popUp(_ call: Object) {
        let side = Self.isOutgoing(call) ? "fromUser" : "toUser"
        guard call[side]?["contentType"] == "Employee", let employeeId = call[side]?["id"]?.string else { return }
        if MegaplanSandboxFacts.unmappedEmployeesGetNothing && config(employeeId: employeeId) == nil { return }
        let clientSide = side == "fromUser" ? "toUser" : "fromUser"
        let client = Self.contractorTypes.contains(call[clientSide]?["contentType"]?.string ?? "") ? call[clientSide]?["id"]?.string : nil
        popups.append(.init(callInfoId: call["id"]!.string!, providerId: call["providerId"]?.string, employeeId: employeeId,
                            state: call["state"]?.string ?? "unknown", contractorId: client))
    }

    /// `POST /api/v3/callInfo/history`: an array of calls created (or updated by provider id) as finished, no popup.
    func saveHistory(_ c: Call) -> Response {
        guard let items = c.body.array else { return Self.failure(422, "Ожидается коллекция CallInfo") }
        var out: [MegaplanJSON] = []
        for item in items {
            let existing = item["providerId"].flatMap { call(providerId: $0) }
            let r = saveCall(item, c, existing: existing, history: true)
            guard r.status == .ok else { return r }
            if let id = (existing?["id"] ?? entities["CallInfo"]?.last?["id"])?.string, let saved = find("CallInfo", id) {
                out.append(.object(saved))
            }
        }
        return Self.envelope(.array(out))
    }

    /// Binds a client: `fromUser` for incoming and missed calls, `toUser` for outgoing; and in the communications
    /// linked to the call.
    func setContractor(_ c: Call) -> Response {
        guard var call = find("CallInfo", c.id) else { return Self.notFound() }
        guard c.body["contentType"] != nil else { return Self.failure(422, "Ожидается ContractorHuman|ContractorCompany", field: "contentType") }
        let (client, e) = resolve(c.body, field: "contractor", types: Self.contractorTypes)
        if let e { return e }
        guard let client else { return Self.failure(422, "Ожидается клиент") }
        call[Self.isOutgoing(call) ? "toUser" : "fromUser"] = client
        store(call)
        let link = Self.link("CallInfo", call["id"]!.string!)
        for var t in entities["Todo"] ?? [] where (t["relations"]?.array ?? []).contains(where: { Self.sameLink($0, link) }) {
            var rel = (t["relations"]?.array ?? []).filter { !Self.contractorTypes.contains($0["contentType"]?.string ?? "") }
            rel.append(client)
            t["relations"] = .array(rel)
            store(t)
        }
        return Self.envelope(.object(find("CallInfo", call["id"]!.string!)!))
    }

    // MARK: callRoute, callUserConfig

    /// `GET /api/v3/callRoute?{"phone": ...}`: the clients and employees with the number, and the responsibles of the
    /// client set up for telephony, each with its extension.
    func callRoute(_ c: Call) -> Response {
        guard let phone = c.params["phone"]?.string, !Self.digits(phone).isEmpty else {
            return Self.failure(422, "Поле обязательно для заполнения", field: "phone")
        }
        let clients = contractors(phone: phone)
        let staff = (entities["Employee"] ?? []).filter { e in
            (e["contactInfo"]?.array ?? []).contains { $0["type"] == "phone" && Self.samePhone($0["value"]?.string ?? "", phone) }
        }
        var employees: [MegaplanJSON] = []
        for r in clients.first?["responsibles"]?.array ?? [] {
            guard let id = r["id"]?.string, var e = find("Employee", id), e["fireDay"] == nil else { continue }
            guard let cfg = config(employeeId: id) else { continue }
            e[MegaplanSandboxFacts.callRouteInternalNumberField] = cfg["internalNumber"]
            employees.append(.object(e))
        }
        let users = (clients + staff).map { o in nested(Self.link(o["contentType"]!.string!, o["id"]!.string!)) ?? .null }
        return Self.envelope(["contentType": "CallRoute", "type": .string(MegaplanSandboxFacts.callRouteType),
                              "timeout": .int(MegaplanSandboxFacts.callRouteTimeout), "employees": .array(employees),
                              "users": .array(users)])
    }

    func saveConfig(_ c: Call, existing: Object?) -> Response {
        let (parsed, error) = Self.entityBody(c, "CallUserConfig")
        guard let body = parsed else { return error! }
        var cfg = existing ?? ["contentType": "CallUserConfig", "id": .string(newId()), "settings": "{}"]
        if existing == nil || body["employee"] != nil {
            guard body["employee"] != nil else { return Self.failure(422, "Поле обязательно для заполнения", field: "employee") }
            let (employee, e) = resolve(body["employee"], field: "employee", types: ["Employee"])
            if let e { return e }
            if let other = config(employeeId: employee?["id"]?.string), other["id"] != cfg["id"] {
                return Self.failure(422, "Настройки телефонии для сотрудника уже существуют", field: "employee")
            }
            cfg["employee"] = employee
        }
        for key in ["internalNumber", "settings"] where body[key] != nil {
            guard body[key]!.isNull || body[key]!.string != nil else { return Self.failure(422, "Ожидается строка", field: key) }
            cfg[key] = body[key]
        }
        store(cfg)
        return Self.envelope(.object(cfg))
    }

    // MARK: /sandbox

    func routeSandbox(_ r: Router<BasicRequestContext>) {
        let s = r.group("sandbox")
        s.get("state") { _, _ in Self.response(self.stateJSON()) }
        s.post("outage") { req, _ in
            let b = try await Self.steeringBody(req)
            self.startOutage(status: b["status"]?.int ?? 503, seconds: b["seconds"].flatMap(Self.seconds),
                             requests: b["requests"]?.int)
            return Self.response(["ok": true])
        }
        s.post("expire-tokens") { _, _ in
            self.expireAccessTokens()
            return Self.response(["ok": true])
        }
        // The application that receives event streams: {"url": ..., "models": ["Deal", ...]}.
        s.post("application") { req, _ in
            let b = try await Self.steeringBody(req)
            guard let url = b["url"]?.string else { return Self.response(["error": "url is required"], status: 400) }
            let models = Set((b["models"]?.array ?? ["Deal"]).compactMap(\.string))
            self.lock.withLock {
                self.subscriptions.removeAll { $0.url == url }
                self.subscriptions.append((url, models))
            }
            return Self.response(["ok": true])
        }
        s.post("webphone/call") { req, _ in
            let b = try await Self.steeringBody(req)
            return await self.webPhone(b) { account, employee, number in
                guard let phone = b["phone"]?.string else { return nil }
                return MegaplanSandboxFacts.makeCallBody(account: account, employeeId: employee, internalNumber: number, phone: phone)
            }
        }
        s.post("webphone/dnd") { req, _ in
            let b = try await Self.steeringBody(req)
            guard let enabled = b["enabled"]?.bool, let employee = b["employeeId"]?.string else {
                return Self.response(["error": "employeeId and enabled are required"], status: 400)
            }
            self.lock.withLock { self.dnd[employee] = enabled }
            return await self.webPhone(b) { account, employee, number in
                MegaplanSandboxFacts.dndBody(account: account, employeeId: employee, internalNumber: number, enabled: enabled)
            }
        }
        s.post("webphone/hangup") { req, _ in
            let b = try await Self.steeringBody(req)
            let call: Object? = self.lock.withLock {
                if let id = b["callInfoId"]?.string { return self.find("CallInfo", id) }
                return b["providerId"].flatMap { self.call(providerId: $0) }
            }
            guard let call else { return Self.response(["error": "no such call (callInfoId or providerId)"], status: 404) }
            return await self.webPhone(b) { account, employee, number in
                MegaplanSandboxFacts.hangUpBody(account: account, employeeId: employee, internalNumber: number, callInfo: .object(call))
            }
        }
        // A manager makes a test deal in the interface (guide 001: "создайте тестовую сделку в Megaplan"): {"name", "price",
        // "currency", "programId", "managerId", "contractorId" | "phone", "positions"}; the applications ticking Deal get
        // on_after_create. {"id", "stateId"} moves a deal (on_after_update).
        s.post("deal") { req, _ in
            let b = try await Self.steeringBody(req)
            let answer = self.lock.withLock { self.testDeal(b) }
            self.deliverPending()
            return answer
        }
        // Sends an event-stream delivery for an entity now: {"model": "Deal", "id": ..., "event": "on_after_update"}.
        s.post("event") { req, _ in
            let b = try await Self.steeringBody(req)
            let found: Bool = self.lock.withLock {
                guard let o = self.find(b["model"]?.string ?? "Deal", b["id"]?.string) else { return false }
                self.emit(b["event"]?.string ?? "on_after_update", o)
                return true
            }
            guard found else { return Self.response(["error": "no such entity"], status: 404) }
            self.deliverPending()
            return Self.response(["ok": true])
        }
    }

    func stateJSON() -> MegaplanJSON {
        MegaplanJSON.parse((try? JSONEncoder().encode(snapshot())) ?? Data()) ?? .null
    }

    static func seconds(_ v: MegaplanJSON) -> Double? {
        if case let .double(d) = v { return d }
        return v.int.map(Double.init)
    }

    static func steeringBody(_ req: Request) async throws -> MegaplanJSON {
        var buffer = try await req.body.collect(upTo: 1 << 20)
        return MegaplanJSON.parse(Data(buffer.readBytes(length: buffer.readableBytes) ?? [])) ?? [:]
    }

    /// Sends a web phone command for `employeeId` to `url` and answers with the status Switchboard gave.
    func webPhone(_ b: MegaplanJSON, _ make: (String, String, String?) -> MegaplanJSON?) async -> Response {
        guard let url = b["url"]?.string, let employee = b["employeeId"]?.string else {
            return Self.response(["error": "url and employeeId are required"], status: 400)
        }
        let number: String? = lock.withLock { config(employeeId: employee)?["internalNumber"]?.string }
        guard let body = make("\(seed.accountName).megaplan.ru", employee, number) else {
            return Self.response(["error": "missing command fields"], status: 400)
        }
        let kind = body["command"]?.string ?? "command"
        let status = await send(kind: kind, url: url, body: body)
        return Self.response(["sent": body, "status": status.map { .int($0) } ?? .null])
    }
}
