import Foundation

/// A call registered with `telephony.externalCall.register` (or by the portal for click-to-call).
struct B24Call {
    var id: String
    var externalId: String?
    var userId: Int
    var phone: String
    var type: Int
    var line: String?
    var start: Date
    var registeredAt: Date
    var crmType: String
    var crmId: Int?
    var createdEntities: [(type: String, id: Int)]
    var createdLead: Int?
    var shownTo: Set<Int>
    var addToChat: Bool
    var byPortal: Bool
    var finished: [String: Any]?
    var record: [String: Any]?

    var json: [String: Any] {
        var j: [String: Any] = ["CALL_ID": id, "EXTERNAL_CALL_ID": externalId ?? NSNull(), "USER_ID": userId, "PHONE_NUMBER": phone,
                                "TYPE": type, "LINE_NUMBER": line ?? NSNull(), "CRM_ENTITY_TYPE": crmType,
                                "CRM_ENTITY_ID": crmId ?? NSNull(), "CRM_CREATED_LEAD": createdLead ?? NSNull(),
                                "CRM_CREATED_ENTITIES": createdEntities.map { ["ENTITY_TYPE": $0.type, "ENTITY_ID": $0.id] },
                                "SHOWN_TO": shownTo.sorted(), "REGISTERED_BY_PORTAL": byPortal]
        if let finished { j["FINISH"] = finished }
        if let record { j["RECORD"] = record }
        return j
    }
}

extension B24Sandbox {
    /// Methods that work only in an application's context (OAuth), not through an incoming webhook.
    static let applicationOnly: Set<String> = [
        "telephony.externalcall.register", "telephony.externalcall.finish", "telephony.externalline.add",
        "telephony.externalline.get", "telephony.externalline.update", "telephony.externalline.delete",
        "event.bind", "event.get", "event.unbind",
    ]

    /// The scope a method needs.
    static func scope(of method: String) -> String? {
        for (prefix, scope) in [("crm.", "crm"), ("telephony.", "telephony"), ("user.", "user"), ("im.", "im"), ("tasks.", "task")]
        where method.hasPrefix(prefix) { return scope }
        return nil
    }

    func call(_ method: String, _ p: B24Params, _ caller: B24Caller, inBatch: Bool) throws -> B24Answer {
        if let scope = Self.scope(of: method), !seed.scope.split(separator: ",").contains(Substring(scope)) {
            throw B24Error(status: 401, code: "insufficient_scope",
                           description: "The request requires higher privileges than provided by the access token")
        }
        if caller.viaWebhook && Self.applicationOnly.contains(method) { throw B24Error.wrongAuthType }
        switch method {
        case "batch":
            if inBatch { throw B24Error(status: 405, code: "ERROR_BATCH_METHOD_NOT_ALLOWED", description: "Method is not allowed for batch usage") }
            return try batch(p, caller)
        case "profile": return profile(caller)
        case "app.info": return appInfo()
        case "scope": return B24Answer(seed.scope.split(separator: ",").map(String.init))
        case "user.get": return userGet(p)
        case "user.current":
            return B24Answer(seed.users.first { $0.id == caller.userId }.map(userJSON) ?? NSNull())
        case "crm.settings.mode.get": return B24Answer(crmMode)
        case "crm.status.list": return statusList(p)
        case "crm.contact.add": return try crmAdd("CONTACT", p, caller)
        case "crm.contact.get": return try crmGet("CONTACT", p)
        case "crm.contact.list": return crmList("CONTACT", p)
        case "crm.contact.update": return try crmUpdate("CONTACT", p, caller)
        case "crm.company.add": return try crmAdd("COMPANY", p, caller)
        case "crm.company.get": return try crmGet("COMPANY", p)
        case "crm.company.list": return crmList("COMPANY", p)
        case "crm.lead.add":
            if crmMode == 2 { throw B24Error.crm("Leads are disabled in the simple CRM mode") }
            return try crmAdd("LEAD", p, caller)
        case "crm.lead.get": return try crmGet("LEAD", p)
        case "crm.lead.list": return crmList("LEAD", p)
        case "crm.lead.update": return try crmUpdate("LEAD", p, caller)
        case "crm.deal.add": return try crmAdd("DEAL", p, caller)
        case "crm.deal.get": return try crmGet("DEAL", p)
        case "crm.deal.list": return crmList("DEAL", p)
        case "crm.deal.update": return try crmUpdate("DEAL", p, caller)
        case "crm.deal.productrows.get": return try productRowsGet(p)
        case "crm.deal.productrows.set": return try productRowsSet(p)
        case "crm.category.list": return try categoryList(p)
        case "crm.activity.add": return try crmAdd("ACTIVITY", p, caller)
        case "crm.activity.get": return try crmGet("ACTIVITY", p)
        case "crm.activity.list": return crmList("ACTIVITY", p)
        case "crm.duplicate.findbycomm": return try findByComm(p)
        case "crm.timeline.comment.add": return try timelineCommentAdd(p, caller)
        case "crm.timeline.comment.list": return crmList("TIMELINE_COMMENT", p)
        case "telephony.externalline.add": return try lineAdd(p)
        case "telephony.externalline.get": return B24Answer(lines)
        case "telephony.externalline.update": return try lineUpdate(p)
        case "telephony.externalline.delete": return try lineDelete(p)
        case "telephony.externalcall.register": return try register(p, byPortal: false)
        case "telephony.externalcall.show": return try showHide(p, show: true)
        case "telephony.externalcall.hide": return try showHide(p, show: false)
        case "telephony.externalcall.finish": return try finish(p)
        case "telephony.externalcall.attachrecord": return try attachRecord(p)
        case "telephony.externalcall.searchcrmentities": return try searchCrmEntities(p)
        case "tasks.task.add": return try taskAdd(p, caller)
        case "im.notify", "im.notify.system.add", "im.notify.personal.add": return try notify(p, method: method, caller)
        case "event.bind": return try eventBind(p)
        case "event.get": return B24Answer(handlers.map { ["event": $0.event, "handler": $0.handler, "auth_type": String($0.authType), "offline": 0] })
        case "event.unbind": return eventUnbind(p)
        default:
            throw B24Error(status: 404, code: "ERROR_METHOD_NOT_FOUND", description: "Method not found!")
        }
    }

    // MARK: batch

    func batch(_ p: B24Params, _ caller: B24Caller) throws -> B24Answer {
        let commands: [(String, String)]
        switch p["cmd"] {
        case let d as [String: Any]:
            commands = d.map { ($0.key, B24Params.scalar($0.value) ?? "") }
                .sorted { (Int($0.0) ?? Int.max, $0.0) < (Int($1.0) ?? Int.max, $1.0) }
        case let a as [Any]:
            commands = a.enumerated().map { (String($0.offset), B24Params.scalar($0.element) ?? "") }
        default:
            commands = []
        }
        if commands.count > 50 {
            throw B24Error(status: 400, code: "ERROR_BATCH_LENGTH_EXCEEDED", description: "Max batch length exceeded")
        }
        let halt = p.flag("halt", default: false)
        var results: [(String, Any)] = [], errors: [(String, Any)] = [], totals: [(String, Any)] = []
        var nexts: [(String, Any)] = [], times: [(String, Any)] = []
        var done: [String: Any] = [:]
        for (key, command) in commands {
            let start = Date()
            let parts = command.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            var method = String(parts.first ?? "").lowercased()
            if method.hasSuffix(".json") { method.removeLast(5) }
            let query = parts.count > 1 ? String(parts[1]) : ""
            let params = B24Params(Self.substitute(B24Params.parseQuery(query), results: done) as? [String: Any] ?? [:])
            requests[method, default: 0] += 1
            do {
                let answer = try call(method, params, caller, inBatch: true)
                results.append((key, answer.result))
                done[key] = answer.result
                if let t = answer.total { totals.append((key, t)) }
                if let n = answer.next { nexts.append((key, n)) }
                times.append((key, time(start)))
            } catch let e as B24Error {
                errors.append((key, ["error": e.code, "error_description": e.description]))
                times.append((key, time(start)))
                if halt { break }
            }
        }
        return B24Answer(["result": B24Params.phpArray(results), "result_error": B24Params.phpArray(errors),
                          "result_total": B24Params.phpArray(totals), "result_next": B24Params.phpArray(nexts),
                          "result_time": B24Params.phpArray(times)])
    }

    /// Replaces `$result[key][field]…` in a command's values with earlier commands' results, as batch does.
    static func substitute(_ value: Any, results: [String: Any]) -> Any {
        switch value {
        case let d as [String: Any]: return d.mapValues { substitute($0, results: results) }
        case let s as String where s.contains("$result["):
            guard let regex = try? NSRegularExpression(pattern: #"\$result\[([^\]]+)\]((?:\[[^\]]*\])*)"#) else { return s }
            var out = s
            for m in regex.matches(in: s, range: NSRange(s.startIndex..., in: s)).reversed() {
                guard let whole = Range(m.range, in: s), let keyRange = Range(m.range(at: 1), in: s),
                      let pathRange = Range(m.range(at: 2), in: s) else { continue }
                var node: Any? = results[String(s[keyRange])]
                for segment in B24Params.path(of: "x" + s[pathRange]).dropFirst() {
                    if let d = node as? [String: Any] { node = d[segment] } else if let a = node as? [Any], let i = Int(segment), a.indices.contains(i) {
                        node = a[i]
                    } else { node = nil }
                }
                out.replaceSubrange(whole, with: B24Params.scalar(node) ?? "")
            }
            return out
        default: return value
        }
    }

    // MARK: portal and users

    func profile(_ caller: B24Caller) -> B24Answer {
        guard let u = seed.users.first(where: { $0.id == caller.userId }) else { return B24Answer(NSNull()) }
        return B24Answer(["ID": String(u.id), "ADMIN": u.admin, "NAME": u.name, "LAST_NAME": u.last_name, "PERSONAL_GENDER": "",
                          "PERSONAL_PHOTO": "", "TIME_ZONE": "", "TIME_ZONE_OFFSET": seed.utc_offset])
    }

    func appInfo() -> B24Answer {
        B24Answer(["ID": 7, "CODE": seed.client_id, "VERSION": 1, "STATUS": "L", "INSTALLED": true, "PAYMENT_EXPIRED": "N",
                   "DAYS": NSNull(), "LANGUAGE_ID": "ru", "LICENSE": "ru_project", "LICENSE_TYPE": "project", "LICENSE_FAMILY": "project"])
    }

    func userJSON(_ u: B24SandboxSeed.User) -> [String: Any] {
        ["ID": String(u.id), "ACTIVE": u.active, "NAME": u.name, "LAST_NAME": u.last_name, "SECOND_NAME": "", "EMAIL": u.email,
         "LAST_LOGIN": date(Date(timeIntervalSince1970: 1_704_067_200)), "DATE_REGISTER": date(Date(timeIntervalSince1970: 1_672_531_200)),
         "TIME_ZONE": "", "IS_ONLINE": "N", "PERSONAL_GENDER": "", "PERSONAL_MOBILE": u.personal_mobile ?? "",
         "WORK_PHONE": u.work_phone ?? "", "WORK_POSITION": "", "UF_EMPLOYMENT_DATE": "", "UF_DEPARTMENT": [1],
         "UF_PHONE_INNER": u.inner_phone ?? "", "USER_TYPE": "employee"]
    }

    /// `user.get`: a FILTER (or top-level filter fields), `sort`/`order`, 50 a page from `start`.
    func userGet(_ p: B24Params) -> B24Answer {
        var filter = p.dict("FILTER")?.raw ?? p.dict("filter")?.raw ?? [:]
        if filter.isEmpty {
            let reserved: Set<String> = ["sort", "order", "start", "auth", "admin_mode", "filter"]
            filter = p.raw.filter { !reserved.contains($0.key.lowercased()) }
        }
        var users = seed.users.map(userJSON).filter { Self.matches($0, filter) }
        if let sort = p.string("sort")?.uppercased() {
            let desc = p.string("order")?.uppercased() == "DESC"
            users.sort { Self.less($0[sort], $1[sort]) != desc }
        }
        return page(users, p)
    }

    /// One 50-item page from `start`; `start=-1` skips counting (no `total`).
    func page(_ items: [[String: Any]], _ p: B24Params) -> B24Answer {
        let start = p.int("start") ?? 0
        if start < 0 { return B24Answer(Array(items.prefix(50))) }
        let slice = Array(items.dropFirst(start).prefix(50))
        let next = start + 50 < items.count ? start + 50 : nil
        return B24Answer(slice, total: items.count, next: next)
    }

    func statusList(_ p: B24Params) -> B24Answer {
        let entity = p.dict("filter")?.string("ENTITY_ID")
        let statuses: [(String, [(String, String)])] = [
            ("SOURCE", [("CALL", "Звонок"), ("EMAIL", "Электронная почта"), ("WEB", "Веб-сайт"), ("ADVERTISING", "Реклама"),
                        ("PARTNER", "Существующий клиент"), ("RECOMMENDATION", "По рекомендации"), ("WEBFORM", "CRM-форма"),
                        ("CALLBACK", "Обратный звонок"), ("OTHER", "Другое")]),
            ("STATUS", [("NEW", "Не обработан"), ("IN_PROCESS", "В работе"), ("PROCESSED", "Обработан"), ("JUNK", "Некачественный лид"),
                        ("CONVERTED", "Качественный лид")]),
            ("DEAL_STAGE", [("NEW", "Новая"), ("PREPARATION", "Подготовка документов"), ("EXECUTING", "В работе"), ("WON", "Сделка успешна"),
                            ("LOSE", "Сделка провалена")]),
        ]
        var out: [[String: Any]] = []
        var id = 1
        for (e, list) in statuses where entity == nil || entity == e {
            for (i, s) in list.enumerated() {
                out.append(["ID": String(id), "ENTITY_ID": e, "STATUS_ID": s.0, "NAME": s.1, "NAME_INIT": s.1, "SORT": String((i + 1) * 10),
                            "SYSTEM": "Y"])
                id += 1
            }
        }
        return B24Answer(out)
    }

    // MARK: CRM records

    static let multifields: Set<String> = ["PHONE", "EMAIL", "WEB", "IM"]

    func multifield(_ type: String, value: String, valueType: String, id: Int? = nil) -> [String: Any] {
        let fieldId: Int
        if let id { fieldId = id } else {
            nextMultifieldId += 1
            fieldId = nextMultifieldId
        }
        return ["ID": String(fieldId), "VALUE_TYPE": valueType, "VALUE": value, "TYPE_ID": type]
    }

    func defaults(_ type: String, id: Int, userId: Int, now: String) -> [String: Any] {
        var r: [String: Any] = ["ID": String(id), "ASSIGNED_BY_ID": String(userId), "CREATED_BY_ID": String(userId),
                                "MODIFY_BY_ID": String(userId), "DATE_CREATE": now, "DATE_MODIFY": now]
        let utm: [String: Any] = ["UTM_SOURCE": NSNull(), "UTM_MEDIUM": NSNull(), "UTM_CAMPAIGN": NSNull(), "UTM_CONTENT": NSNull(),
                                  "UTM_TERM": NSNull()]
        switch type {
        case "CONTACT":
            r.merge(["NAME": NSNull(), "LAST_NAME": NSNull(), "SECOND_NAME": NSNull(), "TYPE_ID": "CLIENT", "SOURCE_ID": NSNull(),
                     "OPENED": "Y", "HAS_PHONE": "N", "HAS_EMAIL": "N", "COMPANY_ID": NSNull()]) { a, _ in a }
            r.merge(utm) { a, _ in a }
        case "COMPANY":
            r.merge(["TITLE": NSNull(), "COMPANY_TYPE": "CUSTOMER", "OPENED": "Y", "HAS_PHONE": "N", "HAS_EMAIL": "N"]) { a, _ in a }
        case "LEAD":
            r.merge(["TITLE": NSNull(), "NAME": NSNull(), "LAST_NAME": NSNull(), "STATUS_ID": "NEW", "STATUS_SEMANTIC_ID": "P",
                     "SOURCE_ID": NSNull(), "SOURCE_DESCRIPTION": NSNull(), "OPENED": "Y", "HAS_PHONE": "N", "HAS_EMAIL": "N",
                     "CONTACT_ID": NSNull(), "COMPANY_ID": NSNull(), "IS_RETURN_CUSTOMER": "N", "OPPORTUNITY": "0.00",
                     "CURRENCY_ID": "RUB"]) { a, _ in a }
            r.merge(utm) { a, _ in a }
        case "DEAL":
            r.merge(["TITLE": NSNull(), "TYPE_ID": "SALE", "STAGE_ID": "NEW", "CATEGORY_ID": "0", "STAGE_SEMANTIC_ID": "P",
                     "PROBABILITY": NSNull(), "CURRENCY_ID": "RUB", "OPPORTUNITY": "0.00", "IS_MANUAL_OPPORTUNITY": "N",
                     "LEAD_ID": NSNull(), "COMPANY_ID": NSNull(), "CONTACT_ID": NSNull(), "OPENED": "Y", "CLOSED": "N",
                     "IS_NEW": "Y", "IS_RETURN_CUSTOMER": "N", "SOURCE_ID": NSNull(), "ORIGINATOR_ID": NSNull(), "ORIGIN_ID": NSNull()]) { a, _ in a }
            r.merge(utm) { a, _ in a }
        case "ACTIVITY":
            r = ["ID": String(id), "OWNER_TYPE_ID": NSNull(), "OWNER_ID": NSNull(), "TYPE_ID": NSNull(), "PROVIDER_ID": NSNull(),
                 "PROVIDER_TYPE_ID": NSNull(), "SUBJECT": NSNull(), "COMPLETED": "N", "DIRECTION": "0", "RESPONSIBLE_ID": String(userId),
                 "AUTHOR_ID": String(userId), "CREATED": now, "LAST_UPDATED": now, "START_TIME": NSNull(), "END_TIME": NSNull(),
                 "DESCRIPTION": NSNull(), "ORIGIN_ID": NSNull()]
        default: break
        }
        return r
    }

    /// Writes `fields` into a record: scalars as strings (as Bitrix24 returns them), lists kept, multifields
    /// (PHONE, EMAIL, …) added, changed by `ID` or removed by an empty `VALUE` on update.
    func apply(_ fields: [String: Any], to record: inout [String: Any], type: String, update: Bool) {
        for (rawKey, value) in fields {
            let key = rawKey.uppercased()
            if key == "ID" { continue }
            if Self.multifields.contains(key) {
                var current = update ? (record[key] as? [[String: Any]] ?? []) : []
                for item in B24Params.list(value) {
                    let f = B24Params(item as? [String: Any] ?? ["VALUE": item])
                    let text = f.string("VALUE") ?? ""
                    if let id = f.string("ID"), let i = current.firstIndex(where: { $0["ID"] as? String == id }) {
                        if text.isEmpty || f.string("DELETE") == "Y" { current.remove(at: i) } else {
                            current[i]["VALUE"] = text
                            if let vt = f.string("VALUE_TYPE") { current[i]["VALUE_TYPE"] = vt }
                        }
                    } else if !text.isEmpty {
                        current.append(multifield(key, value: text, valueType: f.string("VALUE_TYPE") ?? "WORK"))
                    }
                }
                record[key] = current
                record["HAS_\(key)"] = current.isEmpty ? "N" : "Y"
            } else if value is [String: Any] || value is [Any] {
                record[key] = B24Params.list(value).map { $0 is [String: Any] ? $0 : B24Params.scalar($0) ?? "" }
            } else if value is NSNull {
                record[key] = NSNull()
            } else {
                record[key] = B24Params.scalar(value) ?? ""
            }
        }
        if type == "LEAD", !(record["CONTACT_ID"] is NSNull) || !(record["COMPANY_ID"] is NSNull) { record["IS_RETURN_CUSTOMER"] = "Y" }
        if type == "DEAL", record["CONTACT_ID"] is NSNull, let first = (record["CONTACT_IDS"] as? [String])?.first {
            record["CONTACT_ID"] = first
        }
        if type == "DEAL" { Self.dealSemantics(&record) }
    }

    func newId(_ type: String) -> Int {
        let id = (nextIds[type] ?? 0) + 1
        nextIds[type] = id
        return id
    }

    @discardableResult
    func insert(_ type: String, fields: [String: Any], userId: Int) -> Int {
        let id = newId(type)
        var record = defaults(type, id: id, userId: userId, now: date(Date()))
        apply(fields, to: &record, type: type, update: false)
        records[type, default: []].append(record)
        queue("ONCRM\(type)ADD", data: [("FIELDS", [("ID", String(id))] as [(String, Any)])])
        return id
    }

    func crmAdd(_ type: String, _ p: B24Params, _ caller: B24Caller) throws -> B24Answer {
        guard let fields = p.dict("fields")?.raw else { throw B24Error.crm("Parameter 'fields' must be array.") }
        return B24Answer(insert(type, fields: fields, userId: caller.userId))
    }

    func index(_ type: String, _ p: B24Params) throws -> Int {
        guard let id = p.int("id"), id > 0 else { throw B24Error.crm("ID is not defined or invalid.") }
        guard let i = records[type]?.firstIndex(where: { $0["ID"] as? String == String(id) }) else { throw B24Error.crm("Not found") }
        return i
    }

    func crmGet(_ type: String, _ p: B24Params) throws -> B24Answer {
        B24Answer(records[type]![try index(type, p)])
    }

    func crmUpdate(_ type: String, _ p: B24Params, _ caller: B24Caller) throws -> B24Answer {
        let i = try index(type, p)
        guard let fields = p.dict("fields")?.raw else { throw B24Error.crm("Parameter 'fields' must be array.") }
        apply(fields, to: &records[type]![i], type: type, update: true)
        records[type]![i]["DATE_MODIFY"] = date(Date())
        records[type]![i]["MODIFY_BY_ID"] = String(caller.userId)
        queue("ONCRM\(type)UPDATE", data: [("FIELDS", [("ID", records[type]![i]["ID"] as? String ?? "")] as [(String, Any)])])
        return B24Answer(true)
    }

    /// `crm.*.list`: `filter` with Bitrix24's prefix operators, `order`, `select` (`*` is every plain field;
    /// multifields such as PHONE only when named), 50 a page from `start`.
    func crmList(_ type: String, _ p: B24Params) -> B24Answer {
        let filter = p.dict("filter")?.raw ?? [:]
        var items = (records[type] ?? []).filter { Self.matches($0, filter) }
        let order = p.dict("order")?.raw.map { ($0.key.uppercased(), (B24Params.scalar($0.value) ?? "ASC").uppercased() == "DESC") }
            ?? [("ID", false)]
        items.sort { a, b in
            for (field, desc) in order {
                if Self.same(a[field], b[field]) { continue }
                return Self.less(a[field], b[field]) != desc
            }
            return false
        }
        let select = p.list("select").compactMap { B24Params.scalar($0)?.uppercased() }
        let chosen = items.map { r -> [String: Any] in
            if select.isEmpty || select.contains("*") {
                var out = r.filter { !Self.multifields.contains($0.key) }
                for m in select where Self.multifields.contains(m) { out[m] = r[m] ?? [] }
                return out
            }
            var out: [String: Any] = ["ID": r["ID"] ?? NSNull()]
            for field in select { out[field] = r[field] ?? NSNull() }
            return out
        }
        return page(chosen, p)
    }

    static func number(_ v: Any?) -> Double? { B24Params.scalar(v).flatMap { Double($0) } }

    static func same(_ a: Any?, _ b: Any?) -> Bool {
        if let x = number(a), let y = number(b) { return x == y }
        return B24Params.scalar(a) == B24Params.scalar(b)
    }

    static func less(_ a: Any?, _ b: Any?) -> Bool {
        if let x = number(a), let y = number(b) { return x < y }
        return (B24Params.scalar(a) ?? "") < (B24Params.scalar(b) ?? "")
    }

    /// A filter as Bitrix24 reads it: `FIELD`, `=FIELD`, `!FIELD`, `>FIELD`, `>=FIELD`, `<FIELD`, `<=FIELD`, `%FIELD`
    /// (contains), `@FIELD` (in); a list value means any of them. Multifields match any of their values exactly.
    static func matches(_ record: [String: Any], _ filter: [String: Any]) -> Bool {
        for (rawKey, expected) in filter {
            var key = rawKey.uppercased(), op = ""
            for candidate in [">=", "<=", "!=", "!%", "!@", ">", "<", "=", "!", "%", "@"] where key.hasPrefix(candidate) {
                op = candidate
                key.removeFirst(candidate.count)
                break
            }
            let actual: [Any?]
            if let multi = record[key] as? [[String: Any]] { actual = multi.map { $0["VALUE"] } }
            else if let list = record[key] as? [Any] { actual = list }
            else { actual = [record[key]] }
            let wanted = (expected is [Any] || expected is [String: Any]) ? B24Params.list(expected) : [expected]
            func hit(_ a: Any?, _ w: Any) -> Bool {
                let av = a is NSNull ? nil : a
                switch op {
                case ">": return less(w, av) && av != nil
                case "<": return less(av, w) && av != nil
                case ">=": return av != nil && !less(av, w)
                case "<=": return av != nil && !less(w, av)
                case "%", "!%": return (B24Params.scalar(av) ?? "").localizedCaseInsensitiveContains(B24Params.scalar(w) ?? "")
                default:
                    if let b = av as? Bool { return b == B24Params.truthy(B24Params.scalar(w) ?? "") }
                    let ws = B24Params.scalar(w) ?? ""
                    if av == nil { return ws.isEmpty }
                    return same(av, w) || (B24Params.scalar(av) ?? "").caseInsensitiveCompare(ws) == .orderedSame
                }
            }
            let found = actual.contains { a in wanted.contains { hit(a, $0) } }
            if op.hasPrefix("!") ? found : !found { return false }
        }
        return true
    }

    /// CRM records whose phone matches `phone` once both are normalised: contacts, then companies, then leads.
    func crmMatches(phone: String) -> [(type: String, id: Int, record: [String: Any])] {
        let key = B24Params.normalizedPhone(phone)
        guard !key.isEmpty else { return [] }
        var out: [(String, Int, [String: Any])] = []
        for type in ["CONTACT", "COMPANY", "LEAD"] {
            for r in records[type] ?? [] where type != "LEAD" || r["STATUS_ID"] as? String != "CONVERTED" {
                let phones = (r["PHONE"] as? [[String: Any]] ?? []).compactMap { $0["VALUE"] as? String }
                if phones.contains(where: { B24Params.normalizedPhone($0) == key }) {
                    out.append((type, Int(r["ID"] as? String ?? "") ?? 0, r))
                }
            }
        }
        return out
    }

    /// `crm.duplicate.findbycomm`: ids by entity type for up to 20 phones or e-mails, extensions ignored.
    func findByComm(_ p: B24Params) throws -> B24Answer {
        guard let type = p.string("type")?.uppercased(), !type.isEmpty else {
            throw B24Error(status: 400, code: "Communication type is not defined", description: "Parameter 'type' is required.")
        }
        guard type == "PHONE" || type == "EMAIL" else {
            throw B24Error.crm("Communication type '\(type)' is not supported in current context.")
        }
        let values = p.list("values").compactMap { B24Params.scalar($0) }.filter { !$0.isEmpty }
        guard !values.isEmpty else { throw B24Error.crm("Communication values is not defined.") }
        guard values.count <= 20 else { throw B24Error.crm("Too many communication values.") }
        let types = p.string("entity_type").map { [$0.uppercased()] } ?? ["LEAD", "CONTACT", "COMPANY"]
        let keys = Set(values.map { type == "PHONE" ? B24Params.normalizedPhone($0) : $0.lowercased() })
        var out: [(String, Any)] = []
        for t in types {
            let ids = (records[t] ?? []).filter { r in
                (r[type] as? [[String: Any]] ?? []).contains { m in
                    let v = m["VALUE"] as? String ?? ""
                    return keys.contains(type == "PHONE" ? B24Params.normalizedPhone(v) : v.lowercased())
                }
            }.compactMap { Int($0["ID"] as? String ?? "") }
            if !ids.isEmpty { out.append((t, ids)) }
            if ids.count >= 20 { break }
        }
        return B24Answer(B24Params.phpArray(out))
    }

    // MARK: telephony

    func lineAdd(_ p: B24Params) throws -> B24Answer {
        guard let number = p.string("NUMBER"), !number.isEmpty else { throw B24Error.core("NUMBER should not be empty") }
        if lines.contains(where: { $0["NUMBER"] as? String == number }) { throw B24Error.core("Line already exists") }
        let id = lines.count + 1
        lines.append(["ID": id, "NUMBER": number, "NAME": p.string("NAME") ?? number,
                      "CRM_AUTO_CREATE": p.string("CRM_AUTO_CREATE") == "N" ? "N" : "Y"])
        return B24Answer(["ID": id])
    }

    func lineUpdate(_ p: B24Params) throws -> B24Answer {
        guard let number = p.string("NUMBER"), !number.isEmpty else { throw B24Error.core("NUMBER should not be empty") }
        guard let i = lines.firstIndex(where: { $0["NUMBER"] as? String == number }) else { throw B24Error.core("Line is not found") }
        if let name = p.string("NAME") { lines[i]["NAME"] = name }
        if let auto = p.string("CRM_AUTO_CREATE") { lines[i]["CRM_AUTO_CREATE"] = auto == "N" ? "N" : "Y" }
        return B24Answer(["ID": lines[i]["ID"] ?? 0])
    }

    func lineDelete(_ p: B24Params) throws -> B24Answer {
        guard let number = p.string("NUMBER"), !number.isEmpty else { throw B24Error.core("NUMBER should not be empty") }
        lines.removeAll { $0["NUMBER"] as? String == number }
        return B24Answer(NSNull())
    }

    func activeUser(_ p: B24Params) throws -> B24SandboxSeed.User {
        let id = p.int("USER_ID"), inner = p.string("USER_PHONE_INNER")
        guard id != nil || (inner?.isEmpty == false) else { throw B24Error.core("USER_ID or USER_PHONE_INNER should be set") }
        guard let user = seed.users.first(where: { u in (id.map { u.id == $0 } ?? (u.inner_phone == inner)) && u.active }) else {
            throw B24Error.core("User is not found or is not active")
        }
        return user
    }

    static func isoDate(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)
    }

    /// `telephony.externalCall.register`: binds the call to the client found by phone (contact, company, lead),
    /// or creates a lead (classic CRM) or a contact and a deal (simple CRM) when `CRM_CREATE=1` finds none.
    /// The same call registered again within 30 minutes gets its CALL_ID back.
    func register(_ p: B24Params, byPortal: Bool) throws -> B24Answer {
        let user = try activeUser(p)
        guard let type = p.int("TYPE"), (1...5).contains(type) else { throw B24Error.core("Unknown TYPE") }
        var start = Date()
        if let s = p.string("CALL_START_DATE"), !s.isEmpty {
            guard let d = Self.isoDate(s) else { throw B24Error.core("CALL_START_DATE should be in the ISO-8601 format") }
            start = d
        }
        let phone = p.string("PHONE_NUMBER") ?? ""
        guard !B24Params.normalizedPhone(phone).isEmpty else { throw B24Error.core("Unsupported phone number format") }
        let line = p.string("LINE_NUMBER").flatMap { $0.isEmpty ? nil : $0 }
        let external = p.string("EXTERNAL_CALL_ID").flatMap { $0.isEmpty ? nil : $0 }
        let now = Date()
        if let again = calls.first(where: { c in
            c.finished == nil && now.timeIntervalSince(c.registeredAt) < 1800 && c.phone == phone && c.type == type &&
                c.userId == user.id && (line == nil || c.line == line) && (external == nil || c.externalId == external)
        }) {
            return registerAnswer(again)
        }
        var crmType = "", crmId: Int?
        var created: [(type: String, id: Int)] = [], createdLead: Int?
        if let t = p.string("CRM_ENTITY_TYPE")?.uppercased(), !t.isEmpty, let id = p.int("CRM_ENTITY_ID") {
            crmType = t
            crmId = id
        } else if let found = crmMatches(phone: phone).first {
            crmType = found.type
            crmId = found.id
        } else {
            let lineAllows = type != 1 || line.flatMap { l in lines.first { $0["NUMBER"] as? String == l } }?["CRM_AUTO_CREATE"] as? String != "N"
            if p.flag("CRM_CREATE", default: false) && lineAllows {
                let incoming = type != 1
                let title = (incoming ? "Входящий звонок " : "Исходящий звонок ") + phone
                let source = p.string("CRM_SOURCE") ?? "CALL"
                let phoneField: [String: Any] = ["PHONE": [["VALUE": phone, "VALUE_TYPE": "WORK"]]]
                if crmMode == 1 {
                    let id = insert("LEAD", fields: phoneField.merging(["TITLE": title, "SOURCE_ID": source,
                                                                        "ASSIGNED_BY_ID": user.id]) { a, _ in a }, userId: user.id)
                    created = [("LEAD", id)]
                    createdLead = id
                    crmType = "LEAD"
                    crmId = id
                } else {
                    let contact = insert("CONTACT", fields: phoneField.merging(["NAME": phone, "SOURCE_ID": source,
                                                                                "ASSIGNED_BY_ID": user.id]) { a, _ in a }, userId: user.id)
                    let deal = insert("DEAL", fields: ["TITLE": title, "SOURCE_ID": source, "CONTACT_ID": contact,
                                                       "ASSIGNED_BY_ID": user.id], userId: user.id)
                    created = [("CONTACT", contact), ("DEAL", deal)]
                    crmType = "CONTACT"
                    crmId = contact
                }
            }
        }
        let call = B24Call(id: "externalCall.\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()).\(Int(now.timeIntervalSince1970))",
                           externalId: external, userId: user.id, phone: phone, type: type, line: line, start: start, registeredAt: now,
                           crmType: crmType, crmId: crmId, createdEntities: created, createdLead: createdLead,
                           shownTo: p.flag("SHOW", default: true) ? [user.id] : [], addToChat: p.flag("ADD_TO_CHAT", default: true),
                           byPortal: byPortal)
        calls.append(call)
        return registerAnswer(call)
    }

    func registerAnswer(_ c: B24Call) -> B24Answer {
        let lead: Any = c.createdLead.map { $0 as Any } ?? NSNull()
        return B24Answer(["CALL_ID": c.id, "CRM_CREATED_LEAD": lead,
                   "CRM_CREATED_ENTITIES": c.createdEntities.map { ["ENTITY_TYPE": $0.type, "ENTITY_ID": $0.id] },
                   "CRM_ENTITY_TYPE": c.crmType, "CRM_ENTITY_ID": c.crmId ?? NSNull()])
    }

    func showHide(_ p: B24Params, show: Bool) throws -> B24Answer {
        guard let id = p.string("CALL_ID"), let i = calls.firstIndex(where: { $0.id == id && $0.finished == nil }) else {
            return B24Answer(false)
        }
        var users = p.list("USER_ID").compactMap { B24Params.scalar($0).flatMap { Int($0) } }
        if users.isEmpty { users = [calls[i].userId] }
        for u in users {
            if show { calls[i].shownTo.insert(u) } else { calls[i].shownTo.remove(u) }
        }
        return B24Answer(true)
    }

    static let ownerTypeIds = ["LEAD": "1", "DEAL": "2", "CONTACT": "3", "COMPANY": "4"]

    /// `telephony.externalCall.finish`: hides the card, writes the call to statistics, creates the call activity,
    /// makes the finishing user responsible for entities the call created, posts the chat message (ADD_TO_CHAT).
    func finish(_ p: B24Params) throws -> B24Answer {
        guard let id = p["CALL_ID"] as? String ?? p.string("CALL_ID"), !id.isEmpty else {
            throw B24Error(status: 400, code: "INVALID_ARGUMENT", description: "CALL_ID must be a string")
        }
        guard let i = calls.firstIndex(where: { $0.id == id && $0.finished == nil }) else {
            throw B24Error.core("Call is not found (call should be registered prior to finishing)")
        }
        let user = try activeUser(p)
        let duration = p.int("DURATION") ?? 0
        let status = p.string("STATUS_CODE").flatMap { $0.isEmpty ? nil : $0 } ?? (duration > 0 ? "200" : "304")
        let call = calls[i]
        let incoming = call.type != 1
        for e in call.createdEntities {
            if let r = records[e.type]?.firstIndex(where: { $0["ID"] as? String == String(e.id) }) {
                records[e.type]![r]["ASSIGNED_BY_ID"] = String(user.id)
            }
        }
        var activityId: Any = NSNull()
        if let owner = call.crmId, let ownerType = Self.ownerTypeIds[call.crmType] {
            let answered = status == "200"
            let subject = (incoming ? (answered ? "Входящий звонок" : "Пропущенный звонок") : "Исходящий звонок") + " " + call.phone
            var bindings = [["OWNER_TYPE_ID": ownerType, "OWNER_ID": String(owner)]]
            for e in call.createdEntities where e.id != owner || e.type != call.crmType {
                bindings.append(["OWNER_TYPE_ID": Self.ownerTypeIds[e.type] ?? "", "OWNER_ID": String(e.id)])
            }
            activityId = insert("ACTIVITY", fields: [
                "OWNER_TYPE_ID": ownerType, "OWNER_ID": owner, "TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL",
                "PROVIDER_TYPE_ID": "CALL", "SUBJECT": subject, "DIRECTION": incoming ? "1" : "2",
                "COMPLETED": answered || !incoming ? "Y" : "N", "RESPONSIBLE_ID": user.id, "ORIGIN_ID": "VI_\(call.id)",
                "START_TIME": date(call.start), "END_TIME": date(call.start.addingTimeInterval(Double(duration))),
                "COMMUNICATIONS": [["VALUE": call.phone, "TYPE": "PHONE", "ENTITY_TYPE_ID": ownerType, "ENTITY_ID": String(owner)]],
                "BINDINGS": bindings,
            ], userId: user.id)
        }
        let statisticId = nextStatisticId
        nextStatisticId += 1
        let result: [String: Any] = [
            "CALL_ID": call.id, "EXTERNAL_CALL_ID": call.externalId ?? NSNull(), "PORTAL_USER_ID": user.id, "PHONE_NUMBER": call.phone,
            "PORTAL_NUMBER": call.line ?? "", "INCOMING": String(call.type), "CALL_DURATION": duration,
            "CALL_START_DATE": [String: Any](), "CALL_STATUS": status == "200" ? 1 : 0, "CALL_VOTE": p.int("VOTE") ?? NSNull(),
            "COST": Double(p.string("COST") ?? "") ?? 0, "COST_CURRENCY": p.string("COST_CURRENCY") ?? "", "CALL_FAILED_CODE": status,
            "CALL_FAILED_REASON": p.string("FAILED_REASON") ?? "", "REST_APP_ID": "7", "REST_APP_NAME": "Switchboard",
            "CRM_ACTIVITY_ID": activityId, "COMMENT": NSNull(), "CRM_ENTITY_TYPE": call.crmType, "CRM_ENTITY_ID": call.crmId ?? NSNull(),
            "ID": statisticId,
        ]
        calls[i].finished = result.merging(["RECORD_URL": p.string("RECORD_URL") ?? NSNull(), "FINISHED_BY": user.id]) { a, _ in a }
        calls[i].shownTo = []
        if p.flag("ADD_TO_CHAT", default: call.addToChat) {
            let verb = incoming ? (status == "200" ? "Входящий звонок" : "Пропущенный звонок") : "Исходящий звонок"
            chat.append(["USER_ID": user.id, "CALL_ID": call.id, "MESSAGE": "\(verb) \(call.phone), \(duration) с"])
        }
        return B24Answer(result)
    }

    /// `telephony.externalCall.attachRecord`: after finish only; a file (FILENAME + FILE_CONTENT) or a URL attaches
    /// at once, FILENAME alone answers with an upload address.
    func attachRecord(_ p: B24Params) throws -> B24Answer {
        guard let id = p.string("CALL_ID"), let i = calls.firstIndex(where: { $0.id == id && $0.finished != nil }) else {
            throw B24Error.core("Call is not found in the statistic table. It looks like it is not finished yet.")
        }
        let url = p.string("RECORD_URL").flatMap { $0.isEmpty ? nil : $0 }
        let name = p.string("FILENAME").flatMap { $0.isEmpty ? nil : $0 }
        guard url != nil || name != nil else {
            throw B24Error.core("Required parameters are not set. Request should contain either URL or FILENAME parameter")
        }
        if let name, !["wav", "mp3"].contains((name as NSString).pathExtension.lowercased()) {
            throw B24Error.core("Wrong file extension. Only wav and mp3 are allowed")
        }
        if let content = p.string("FILE_CONTENT") {
            guard let bytes = Data(base64Encoded: content, options: .ignoreUnknownCharacters), !bytes.isEmpty else {
                throw B24Error.core("File content is not properly encoded. Base64 encoding is expected.")
            }
            let fileId = 9_000 + i
            calls[i].record = ["FILE_ID": fileId, "FILENAME": name ?? "record.mp3", "BYTES": bytes.count]
            return B24Answer(["FILE_ID": fileId])
        }
        if let url {
            let fileId = 9_000 + i
            calls[i].record = ["FILE_ID": fileId, "FILENAME": name ?? (url as NSString).lastPathComponent, "RECORD_URL": url]
            return B24Answer(["FILE_ID": fileId])
        }
        calls[i].record = ["FILENAME": name ?? "", "PENDING_UPLOAD": true]
        let token = Data("telephony|callId=\(id)".utf8).base64EncodedString()
        return B24Answer(["uploadUrl": "\(baseURL)/rest/upload.json?token=\(B24Params.escape(token))", "fieldName": "file"])
    }

    /// `telephony.externalCall.searchCrmEntities`: the clients with this phone and their responsible employees.
    func searchCrmEntities(_ p: B24Params) throws -> B24Answer {
        guard let phone = p.string("PHONE_NUMBER"), !phone.isEmpty else { throw B24Error.core("PHONE_NUMBER is empty") }
        return B24Answer(crmMatches(phone: phone).map { m -> [String: Any] in
            let assigned = Int(m.record["ASSIGNED_BY_ID"] as? String ?? "") ?? 0
            let u = seed.users.first { $0.id == assigned }
            let name = [m.record["NAME"], m.record["LAST_NAME"]].compactMap { $0 as? String }.joined(separator: " ")
            return ["CRM_ENTITY_TYPE": m.type, "CRM_ENTITY_ID": m.id, "ASSIGNED_BY_ID": assigned,
                    "NAME": name.isEmpty ? (m.record["TITLE"] as? String ?? "") : name,
                    "ASSIGNED_BY": ["ID": String(assigned), "TIMEMAN_STATUS": u?.timeman_status ?? "NOT_INSTALLED",
                                    "USER_PHONE_INNER": u?.inner_phone ?? NSNull(), "WORK_PHONE": u?.work_phone ?? NSNull(),
                                    "PERSONAL_PHONE": NSNull(), "PERSONAL_MOBILE": u?.personal_mobile ?? NSNull()] as [String: Any]]
        })
    }

    // MARK: tasks, notifications, events

    /// `crm.timeline.comment.add`: a comment (`COMMENT`) in the timeline of a lead, deal, contact or company
    /// (`ENTITY_TYPE`, `ENTITY_ID`, which must exist); its id. Listed by `crm.timeline.comment.list` with a `filter`.
    func timelineCommentAdd(_ p: B24Params, _ caller: B24Caller) throws -> B24Answer {
        guard let fields = p.dict("fields") else { throw B24Error.crm("Parameter 'fields' must be array.") }
        let type = (fields.string("ENTITY_TYPE") ?? "").uppercased()
        guard ["LEAD", "DEAL", "CONTACT", "COMPANY"].contains(type), let entity = fields.int("ENTITY_ID"),
              records[type]?.contains(where: { $0["ID"] as? String == String(entity) }) == true else {
            throw B24Error.crm("Entity not found.")
        }
        guard let comment = fields.string("COMMENT"), !comment.isEmpty else { throw B24Error.crm("Empty comment message.") }
        let id = newId("TIMELINE_COMMENT")
        records["TIMELINE_COMMENT", default: []].append([
            "ID": String(id), "CREATED": date(Date()), "ENTITY_ID": String(entity), "ENTITY_TYPE": type.lowercased(),
            "AUTHOR_ID": String(fields.int("AUTHOR_ID") ?? caller.userId), "COMMENT": comment, "FILES": [String](),
        ])
        return B24Answer(id)
    }

    func taskAdd(_ p: B24Params, _ caller: B24Caller) throws -> B24Answer {
        let fields = p.dict("fields") ?? B24Params()
        guard let title = fields.string("TITLE"), !title.isEmpty else {
            throw B24Error(status: 400, code: "ERROR_CORE", description: "Не задано название задачи")
        }
        guard let responsible = fields.int("RESPONSIBLE_ID") else {
            throw B24Error(status: 400, code: "ERROR_CORE", description: "Не указан ответственный")
        }
        let id = tasks.count + 1
        let task: [String: Any] = ["id": String(id), "title": title, "description": fields.string("DESCRIPTION") ?? "",
                                   "responsibleId": String(responsible), "createdBy": String(fields.int("CREATED_BY") ?? caller.userId),
                                   "deadline": fields.string("DEADLINE") ?? NSNull(), "status": "2", "createdDate": date(Date()),
                                   "ufCrmTask": fields.list("UF_CRM_TASK").compactMap { B24Params.scalar($0) }]
        tasks.append(task)
        return B24Answer(["task": task])
    }

    func notify(_ p: B24Params, method: String, _ caller: B24Caller) throws -> B24Answer {
        guard let user = p.int("USER_ID"), user > 0 else { throw B24Error(status: 400, code: "USER_ID_EMPTY", description: "User ID can't be empty") }
        guard let message = p.string("MESSAGE"), !message.isEmpty else {
            throw B24Error(status: 400, code: "MESSAGE_EMPTY", description: "Message can't be empty")
        }
        let type = method == "im.notify.system.add" ? "SYSTEM" : method == "im.notify.personal.add" ? "USER" : (p.string("TYPE") ?? "USER")
        if let tag = p.string("TAG") { notifications.removeAll { $0["TAG"] as? String == tag } }
        let id = 12_000 + notifications.count + 1
        notifications.append(["ID": id, "USER_ID": user, "MESSAGE": message, "TYPE": type, "TAG": p.string("TAG") ?? NSNull(),
                              "FROM_USER_ID": caller.userId])
        return B24Answer(id)
    }

    func eventBind(_ p: B24Params) throws -> B24Answer {
        let event = (p.string("event") ?? "").uppercased()
        guard Self.knownEvents.contains(event) else {
            throw B24Error(status: 400, code: "ERROR_EVENT_NOT_FOUND", description: "Event not found")
        }
        guard let handler = p.string("handler"), !handler.isEmpty else { throw B24Error.crm("Handler not found") }
        if p.string("event_type")?.lowercased() == "offline" {
            throw B24Error(status: 403, code: "ACCESS_DENIED", description: "Access denied! Offline events are not supported by the sandbox")
        }
        let authType = p.int("auth_type") ?? 0
        if handlers.contains(where: { $0.event == event && $0.handler == handler && $0.authType == authType }) {
            throw B24Error.crm("Handler already binded")
        }
        handlers.append((nextHandlerId, event, handler, authType))
        nextHandlerId += 1
        return B24Answer(true)
    }

    func eventUnbind(_ p: B24Params) -> B24Answer {
        let event = (p.string("event") ?? "").uppercased()
        let handler = p.string("handler")
        let before = handlers.count
        handlers.removeAll { $0.event == event && (handler == nil || $0.handler == handler) }
        return B24Answer(["count": before - handlers.count])
    }
}
