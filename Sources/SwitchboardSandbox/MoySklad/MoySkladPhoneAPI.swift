import Foundation
import Hummingbird

/// Phone API 1.0: calls created and updated (by id or by the provider's externalId), popup events (SHOW, STARTTIME,
/// HIDE, HIDE_ALL) and the employees that have extensions. References are bare meta objects here, unlike the JSON API.
/// Runs under the sandbox's lock.
extension MoySkladSandbox {
    static let eventTypes = ["SHOW", "STARTTIME", "HIDE", "HIDE_ALL"]

    func phone(method: HTTPRequest.Method, path: [String], query: Parameters, body: Any?, base: String) -> Reply {
        let item = body as? [String: Any] ?? [:]
        switch (method, path) {
        case (.get, ["employee"]):
            return phoneEmployees(query: query, base: base)
        case (.post, ["call"]):
            return createCall(item, base: base)
        case (.put, let p) where p.count == 2 && p[0] == "call":
            return updateCall(index: calls.lastIndex { $0.id == p[1] }, key: p[1], item, base: base)
        case (.put, let p) where p.count == 3 && p[0] == "call" && p[1] == "extid":
            return updateCall(index: calls.lastIndex { $0.externalId == p[2] }, key: p[2], item, base: base)
        case (.post, let p) where p.count == 3 && p[0] == "call" && p[2] == "event":
            return callEvent(index: calls.lastIndex { $0.id == p[1] }, key: p[1], item)
        case (.post, let p) where p.count == 4 && p[0] == "call" && p[1] == "extid" && p[3] == "event":
            return callEvent(index: calls.lastIndex { $0.externalId == p[2] }, key: p[2], item)
        case (_, ["call"]), (_, ["employee"]):
            return Self.error(405, 1039, "Операция \(method.rawValue) не поддерживается для данного ресурса", phone: true)
        default:
            return Self.error(404, 1002, "Неопознанный путь: /api/phone/1.0/" + path.joined(separator: "/"), phone: true)
        }
    }

    static func bareMeta(_ base: String, _ type: String, _ id: String) -> [String: Any] {
        ["href": "\(base)/api/remap/1.2/entity/\(type)/\(id)", "type": type, "mediaType": "application/json"]
    }

    /// `{"employees":[{"meta":…, "extention":"101"}]}` for employees with an extension; `filter=extention=101`.
    func phoneEmployees(query: Parameters, base: String) -> Reply {
        var chosen = seed.employees.filter { !($0.extension ?? "").isEmpty }
        if let filter = query["filter"].map(String.init), !filter.isEmpty {
            guard let conds = MoySkladWire.conditions(filter), conds.allSatisfy({ $0.field == "extention" }) else {
                return Self.error(400, 1040, "Неверно заданы параметры запроса", parameter: "filter", phone: true)
            }
            chosen = chosen.filter { MoySkladWire.matches(conds, ["extention": $0.extension]) }
        }
        return Reply(body: ["employees": chosen.map { e -> [String: Any] in
            var meta = Self.bareMeta(base, "employee", e.id)
            meta["metadataHref"] = "\(base)/api/remap/1.2/entity/employee/metadata"
            return ["meta": meta, "extention": e.extension ?? ""]
        }])
    }

    /// The employee id a Phone API reference names, bare (`{"href":…}`) or wrapped (`{"meta":{"href":…}}`).
    static func phoneRef(_ value: Any?) -> String? {
        guard let object = value as? [String: Any] else { return nil }
        let href = (object["href"] as? String) ?? ((object["meta"] as? [String: Any])?["href"] as? String)
        return href.map(MoySkladWire.lastComponent)
    }

    func employee(byExtension ext: String?) -> MoySkladSeedEmployee? {
        guard let ext, !ext.isEmpty else { return nil }
        return seed.employees.first { $0.extension == ext }
    }

    /// MoySklad resolves the number to a counterparty; the sandbox matches the last ten digits.
    func counterparty(byNumber number: String) -> MoySkladSandboxSnapshot.Counterparty? {
        let key = String(number.filter(\.isNumber).suffix(10))
        guard key.count == 10 else { return nil }
        return counterparties.first { String(($0.phone ?? "").filter(\.isNumber).suffix(10)) == key }
    }

    func callJSON(_ c: MoySkladSandboxSnapshot.Call, base: String) -> [String: Any] {
        var j: [String: Any] = [
            "meta": ["href": "\(base)/api/phone/1.0/call/\(c.id)", "type": "call", "mediaType": "application/json"],
            "id": c.id, "externalId": c.externalId, "number": c.number, "isIncoming": c.isIncoming, "startTime": c.startTime,
            "endTime": c.endTime ?? NSNull(), "duration": c.duration ?? NSNull(), "recordUrl": c.recordUrl,
        ]
        if let ext = c.extension { j["extension"] = ext }
        if let e = c.employeeId { j["employee"] = Self.bareMeta(base, "employee", e) }
        if let comment = c.comment { j["comment"] = comment }
        if let cid = c.counterpartyId, let cp = counterparties.first(where: { $0.id == cid }) {
            j["counterparty"] = Self.bareMeta(base, "counterparty", cid)
            var owner: [String: Any] = ["meta": Self.bareMeta(base, "employee", cp.ownerId)]
            if let ext = employee(cp.ownerId)?.extension { owner["extention"] = ext }
            j["counterpartyowner"] = owner
        }
        return j
    }

    /// A time in MoySklad's format, or the error reply for it.
    static func phoneTime(_ value: Any?, field: String) -> Result<String?, Reply> {
        guard let value, !(value is NSNull) else { return .success(nil) }
        guard let text = value as? String, let date = MoySkladWire.parse(text) else {
            return .failure(error(400, 2016, "Ошибка формата: значение поля '\(field)' не соответствует типу дата-время",
                                  parameter: field, phone: true))
        }
        return .success(MoySkladWire.format(date))
    }

    static func milliseconds(from start: String, to end: String) -> Int? {
        guard let s = MoySkladWire.parse(start), let e = MoySkladWire.parse(end) else { return nil }
        return Int((e.timeIntervalSince(s) * 1000).rounded())
    }

    func createCall(_ item: [String: Any], base: String) -> Reply {
        guard let externalId = item["externalId"] as? String, !externalId.isEmpty else { return Self.required("externalId", phone: true) }
        guard let number = item["number"] as? String, !number.isEmpty else { return Self.required("number", phone: true) }
        guard let isIncoming = item["isIncoming"] as? Bool else { return Self.required("isIncoming", phone: true) }
        guard item["startTime"] != nil else { return Self.required("startTime", phone: true) }
        var call = MoySkladSandboxSnapshot.Call(id: newId(), externalId: externalId, number: number, isIncoming: isIncoming,
                                                startTime: "", endTime: nil, duration: nil, extension: nil, employeeId: nil,
                                                counterpartyId: nil, recordUrl: [], comment: nil, events: [])
        switch Self.phoneTime(item["startTime"], field: "startTime") {
        case .failure(let r): return r
        case .success(let t): call.startTime = t ?? ""
        }
        if let cid = Self.phoneRef(item["counterparty"]), counterparties.contains(where: { $0.id == cid }) {
            call.counterpartyId = cid
        } else {
            call.counterpartyId = counterparty(byNumber: number)?.id
        }
        if let error = apply(item, to: &call) { return error }
        calls.append(call)
        return Reply(body: callJSON(call, base: base))
    }

    /// Filled fields stay (except comment); recordUrl adds; employee wins over extension; endTime wins over duration.
    func apply(_ item: [String: Any], to call: inout MoySkladSandboxSnapshot.Call) -> Reply? {
        // An update fills a counterparty the call has not got yet (a caller made a counterparty during the call).
        if call.counterpartyId == nil, let cid = Self.phoneRef(item["counterparty"]), counterparties.contains(where: { $0.id == cid }) {
            call.counterpartyId = cid
        }
        if call.employeeId == nil {
            if let id = Self.phoneRef(item["employee"]), employee(id) != nil {
                call.employeeId = id
                call.extension = call.extension ?? employee(id)?.extension
            } else if let ext = item["extension"] as? String, !ext.isEmpty {
                call.extension = call.extension ?? ext
                call.employeeId = employee(byExtension: ext)?.id
            }
        }
        if call.endTime == nil && call.duration == nil {
            switch Self.phoneTime(item["endTime"], field: "endTime") {
            case .failure(let r): return r
            case .success(let end?):
                call.endTime = end
                call.duration = Self.milliseconds(from: call.startTime, to: end)
            case .success(nil):
                if let ms = item["duration"] as? Int, let start = MoySkladWire.parse(call.startTime) {
                    call.duration = ms
                    call.endTime = MoySkladWire.format(start.addingTimeInterval(Double(ms) / 1000))
                }
            }
        }
        if let urls = item["recordUrl"] {
            guard let list = urls as? [String] else {
                return Self.error(400, 2016, "Ошибка формата: значение поля 'recordUrl' не соответствует типу массив",
                                  parameter: "recordUrl", phone: true)
            }
            call.recordUrl += list
        }
        if let comment = item["comment"] as? String {
            guard comment.count <= 4096 else {
                return Self.error(400, 3008, "Ошибка сохранения объекта: значение поля 'comment' превышает максимально допустимое значение",
                                  parameter: "comment", phone: true)
            }
            call.comment = comment
        }
        for e in item["events"] as? [[String: Any]] ?? [] {
            if let error = addEvent(e, to: &call) { return error }
        }
        return nil
    }

    func updateCall(index: Int?, key: String, _ item: [String: Any], base: String) -> Reply {
        guard let i = index else { return Self.notFound("call", key, phone: true) }
        var call = calls[i]
        if let error = apply(item, to: &call) { return error }
        calls[i] = call
        return Reply(body: callJSON(call, base: base))
    }

    func callEvent(index: Int?, key: String, _ item: [String: Any]) -> Reply {
        guard let i = index else { return Self.notFound("call", key, phone: true) }
        var call = calls[i]
        if let error = addEvent(item, to: &call) { return error }
        calls[i] = call
        return Reply(status: .noContent)
    }

    /// Records a popup event and moves the cards: SHOW shows the call to an extension, STARTTIME starts its timer,
    /// HIDE hides it from one extension, HIDE_ALL from everyone.
    func addEvent(_ e: [String: Any], to call: inout MoySkladSandboxSnapshot.Call) -> Reply? {
        guard let type = e["eventType"] as? String else { return Self.required("eventType", phone: true) }
        guard Self.eventTypes.contains(type) else {
            return Self.error(400, 2029, "Ошибка формата: неверное значение '\(type)' поля 'eventType'. Допустимые значения: "
                + Self.eventTypes.joined(separator: ", "), parameter: "eventType", phone: true)
        }
        guard let sequence = e["sequence"] as? Int else { return Self.required("sequence", phone: true) }
        let employeeId = Self.phoneRef(e["employee"])
        let ext = (e["extension"] as? String) ?? employeeId.flatMap { employee($0)?.extension }
        if type != "HIDE_ALL" && (ext ?? "").isEmpty { return Self.required("extension", phone: true) }
        call.events.append(.init(eventType: type, extension: ext, sequence: sequence,
                                 employeeId: employeeId ?? employee(byExtension: ext)?.id))
        let id = call.id
        switch type {
        case "SHOW":
            if let ext, !(popups[ext] ?? []).contains(id) { popups[ext, default: []].append(id) }
        case "STARTTIME":
            if let ext, !(timers[ext] ?? []).contains(id) { timers[ext, default: []].append(id) }
        case "HIDE":
            if let ext {
                popups[ext]?.removeAll { $0 == id }
                timers[ext]?.removeAll { $0 == id }
            }
        default:
            for k in popups.keys { popups[k]?.removeAll { $0 == id } }
            for k in timers.keys { timers[k]?.removeAll { $0 == id } }
        }
        popups = popups.filter { !$0.value.isEmpty }
        timers = timers.filter { !$0.value.isEmpty }
        return nil
    }
}

typealias MoySkladSeedEmployee = MoySkladSandboxSeed.Employee
