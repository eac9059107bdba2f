import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// How Megaplan sees one call, decided from the neutral call and the settings (pure).
public enum MegaplanCallRules {
    /// The rule kind of a finished call; nil for internal calls and calls of unknown direction.
    public static func kind(direction: CallDirection, answered: Bool) -> MegaplanSettings.CallKind? {
        let status: MegaplanSettings.CallKind.Status = answered ? .answered : .missed
        switch direction {
        case .inbound: return .init(.incoming, status)
        case .outbound: return .init(.outgoing, status)
        default: return nil
        }
    }

    /// MP-4: with the filter on, only calls on the chosen virtual numbers pass; an outgoing call that names no virtual
    /// number passes (it has none to filter by).
    public static func passesLineFilter(line: String?, direction: CallDirection, settings: MegaplanSettings) -> Bool {
        guard settings.lineFilter.enabled else { return true }
        let digits = (line ?? "").filter(\.isNumber)
        if digits.isEmpty { return direction == .outbound }
        return settings.lineFilter.numbers.contains { String($0.filter(\.isNumber).suffix(10)) == String(digits.suffix(10)) }
    }

    /// CORE-11: a client number for which no entities are created.
    public static func numberFiltered(_ client: PhoneNumber, settings: MegaplanSettings) -> Bool {
        guard let last10 = client.last10 else { return false }
        return settings.numberFilter.contains { PhoneNumber.parse($0, region: "RU").last10 == last10 }
    }

    /// The Megaplan employee of the call: incoming answered, the first or last mapped talker (CORE-8); outgoing, the
    /// dialler; nil when no mapped employee talked or dialled.
    public static func callUser(direction: CallDirection, answered: Bool, talkerUsers: [String], dialler: String?,
                                settings: MegaplanSettings) -> String? {
        if direction == .outbound { return dialler ?? talkerUsers.first }
        guard answered else { return nil }
        return settings.createClient.responsibleTalker == .last ? talkerUsers.last : talkerUsers.first
    }

    /// Who is responsible for a todo or a process: as chosen, falling back to the default responsible (CORE-7).
    public static func responsible(_ choice: MegaplanSettings.Responsible, callUser: String?, clientResponsible: String?,
                                   settings: MegaplanSettings) -> String? {
        if let fixed = choice.employeeId { return fixed }
        if choice == .client { return clientResponsible ?? callUser ?? settings.defaultResponsible }
        return callUser ?? settings.defaultResponsible
    }
}

/// What Megaplan knew of the caller when the call was handled; kept in the call's ledger so a retry decides the same.
struct MegaplanClientRef: Codable, Equatable {
    var contentType: String
    var id: String
    var responsible: String?

    var link: [String: Any] { ["contentType": contentType, "id": id] }
    var path: String { MegaplanFacts.clientPath(contentType) + "/" + id }
}

/// The call jobs of Megaplan (MP-2, MP-5…MP-8): a call card (`callInfo`) for each mapped employee whose phone rings,
/// moved to talking on the answer, finished with its result and recording; then the client, its fields, the
/// communication, the todo and the process, each at most once (`WriteLedger`).
struct MegaplanCallJobs {
    let connector: MegaplanConnector

    func context(_ job: Job, _ payload: CallJobPayload, log: AttemptLog) async throws -> IntegrationContext<MegaplanSettings>? {
        try await IntegrationContext<MegaplanSettings>.load(tenantId: job.tenantId, integrationId: payload.integrationId, crm: "Megaplan",
                                                            db: connector.env.db, vault: connector.env.vault, log: log)
    }

    /// A card job's employee (mapped to a Megaplan employee), context and call; nil when there is nothing to do.
    func cardJob(_ job: Job, log: AttemptLog) async throws
        -> (user: String, ctx: IntegrationContext<MegaplanSettings>, call: Call, api: MegaplanClient, ledger: WriteLedger)? {
        let payload = try JSON.decode(CallJobPayload.self, from: job.payload)
        guard let ctx = try await context(job, payload, log: log),
              let call = try await connector.calls.get(tenantId: job.tenantId, id: payload.callId) else { return nil }
        guard let login = payload.employeeLogin, let user = ctx.userByLogin[login] else {
            log.note("no card: employee \(payload.employeeLogin ?? "?") is not mapped to a Megaplan employee (MP-2)")
            return nil
        }
        let ledger = try await WriteLedger.open(store: connector.entities, owner: ctx.integration.id, scope: call.id,
                                                afterWrite: connector.afterWrite)
        return (user, ctx, call, connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log), ledger)
    }

    /// The Megaplan employee who dialled an outgoing call (its first leg).
    static func dialler(of call: Call, userByLogin: [String: String]) -> String? {
        guard call.direction == .outbound, let leg = call.legs.min(by: { $0.startedAt < $1.startedAt }) else { return nil }
        return [leg.employeeLogin, leg.extension_, leg.id, call.final?.employeeLogin].lazy.compactMap { $0 }
            .compactMap { userByLogin[$0] }.first
    }

    static func employee(_ id: String) -> [String: Any] { ["contentType": "Employee", "id": id] }

    /// A call card's fields: direction, the two numbers, the employee on the side the direction gives them.
    static func card(_ call: Call, client: PhoneNumber, user: String?, employeeNumber: String?) -> [String: Any] {
        let out = call.direction == .outbound
        let clientNumber = client.digits
        let ours = employeeNumber ?? call.lineNumber ?? ""
        var body: [String: Any] = ["contentType": "CallInfo", "providerId": call.id, "type": out ? "out" : "in",
                                   "fromPhone": out ? ours : clientNumber, "toPhone": out ? clientNumber : ours,
                                   "timeFrom": MegaplanFacts.dateTime(call.createdAt)]
        if let user { body[out ? "fromUser" : "toUser"] = employee(user) }
        return body
    }

    /// The card made for `user` by an earlier attempt, found by our call id (Megaplan answers the newest card).
    func findCard(_ api: MegaplanClient, call: Call, user: String?) async throws -> [String: String]? {
        let found = try await api.get("callInfo/provider", ["providerId": call.id], what: "find the call card", accept: [404])
        guard found.status == 200, let card = found.object, let id = card["id"].map({ "\($0)" }) else { return nil }
        let side = call.direction == .outbound ? "fromUser" : "toUser"
        let owner = (card[side] as? [String: Any])?["id"].map { "\($0)" }
        guard owner == user else { return nil }
        return ["callInfo.\(user ?? "none")": id]
    }

    /// CORE-4: the card for the employee whose phone rings, once per employee and call.
    func ring(_ call: Call, client: PhoneNumber, user: String, ctx: IntegrationContext<MegaplanSettings>, api: MegaplanClient,
              ledger: inout WriteLedger) async throws {
        var body = Self.card(call, client: client, user: user, employeeNumber: ctx.employeeByUser[user]?.extension_)
        body["state"] = "calling"
        try await ledger.once("callInfo.\(user)", find: { _ in try await findCard(api, call: call, user: user) }, write: {
            let answer = try await api.post("callInfo", body, what: "show the call card")
            guard let id = answer.object?["id"].map({ "\($0)" }) else {
                throw DeliveryError.retryable("Megaplan's answer to callInfo has no id")
            }
            return ["callInfo.\(user)": id]
        })
    }

    /// The caller as Megaplan knows them: a client whose phone ends in the same 10 digits, else one made for this
    /// number by an earlier call of the integration (Megaplan's search may not list a client made a moment ago).
    func findClient(_ api: MegaplanClient, _ client: PhoneNumber, integrationId: String) async throws -> MegaplanClientRef? {
        guard let last10 = client.last10 else { return nil }
        let found = try await api.get(MegaplanFacts.clientSearchPath, ["q": last10, "limit": 50], what: "find the client by phone")
        for o in found.list {
            guard let type = o["contentType"] as? String, let id = o["id"].map({ "\($0)" }) else { continue }
            let phones = (o["contactInfo"] as? [[String: Any]])?.filter { $0["type"] as? String == "phone" }
                .compactMap { $0["value"] as? String } ?? []
            // A collection may leave contactInfo out: then the search's own match stands.
            guard phones.isEmpty || phones.contains(where: { PhoneNumber.parse($0, region: "RU").last10 == last10 }) else { continue }
            let responsible = ((o["responsibles"] as? [[String: Any]])?.first?["id"]).map { "\($0)" }
            return MegaplanClientRef(contentType: type, id: id, responsible: responsible)
        }
        if let made = try await connector.entities.all(integrationId: integrationId, scope: MegaplanConnector.clientScope(last10))["client"],
           let ref = try? JSON.decode(MegaplanClientRef.self, from: made) {
            return ref
        }
        return nil
    }

    /// A process (a deal in `program`) made once; a retry finds it among the scheme's newest deals by the marker in its
    /// description.
    static func process(_ body: [String: Any], program: String, marker: String, of what: String, api: MegaplanClient,
                        ledger: inout WriteLedger) async throws {
        try await ledger.once("process", find: { _ in
            let deals = try await api.get("deal", ["program": ["contentType": "Program", "id": program], "limit": 50,
                                                   "sortBy": [["contentType": "SortField", "fieldName": "timeCreated", "desc": true]]],
                                          what: "find the process of \(what)")
            return deals.list.first { ($0["description"] as? String)?.contains(marker) == true }?["id"].map { ["process": "\($0)"] }
        }, write: {
            let answer = try await api.post("deal", body, what: "create the process")
            guard let id = answer.object?["id"].map({ "\($0)" }) else { throw DeliveryError.retryable("Megaplan's answer to deal has no id") }
            return ["process": id]
        })
    }

    /// A todo category's id by its master type (`call` for communications, `todo` for todos), once per job.
    func category(_ masterType: String, api: MegaplanClient, cache: inout [String: String?]) async throws -> String? {
        if let known = cache[masterType] { return known }
        let list = try await api.get(MegaplanFacts.todoCategoryPath, [:], what: "list the todo categories", accept: [404])
        let id = list.list.first { $0["masterType"] as? String == masterType }?["id"].map { "\($0)" }
        cache[masterType] = id
        return id
    }
}

/// CORE-4: the caller's card for the employee whose phone rings.
struct MegaplanRingingHandler: JobHandler {
    let jobs: MegaplanCallJobs

    func run(_ job: Job, log: AttemptLog) async throws {
        guard let found = try await jobs.cardJob(job, log: log) else { return }
        let (user, ctx, call, api) = (found.user, found.ctx, found.call, found.api)
        var ledger = found.ledger
        guard !call.isOver else {
            log.note("no card: the call ended before it could be shown (it goes to Megaplan as history)")
            return
        }
        guard call.direction == .inbound || call.direction == .outbound else {
            log.note("internal calls are not sent to Megaplan")
            return
        }
        guard MegaplanCallRules.passesLineFilter(line: call.lineNumber, direction: call.direction, settings: ctx.settings) else {
            log.note("no card: virtual number \(call.lineNumber ?? "?") is not among the integration's numbers (MP-4)")
            return
        }
        guard let client = call.client, client.last10 != nil else {
            log.note("no card: the caller's number is hidden")
            return
        }
        try await jobs.ring(call, client: client, user: user, ctx: ctx, api: api, ledger: &ledger)
    }
}

/// The card moves to "talking" when its employee answers.
struct MegaplanAnsweredHandler: JobHandler {
    let jobs: MegaplanCallJobs

    func run(_ job: Job, log: AttemptLog) async throws {
        guard let found = try await jobs.cardJob(job, log: log) else { return }
        let (user, call, api) = (found.user, found.call, found.api)
        var ledger = found.ledger
        guard let card = ledger["callInfo.\(user)"], ledger["finish.\(user)"] == nil, !call.isOver else {
            log.note("no card to move to talking")
            return
        }
        try await ledger.once("talking.\(user)", find: { _ in nil }, write: {
            _ = try await api.post("callInfo/\(card)", ["contentType": "CallInfo", "state": "talking"], what: "move the card to talking")
            return ["talking.\(user)": "1"]
        })
    }
}

/// MP-2, MP-5…MP-8: the finished call's cards, client, fields, communication, todo and process.
struct MegaplanFinishedHandler: JobHandler {
    let jobs: MegaplanCallJobs

    func run(_ job: Job, log: AttemptLog) async throws {
        let payload = try JSON.decode(CallJobPayload.self, from: job.payload)
        guard let ctx = try await jobs.context(job, payload, log: log) else { return }
        guard let call = try await jobs.connector.calls.get(tenantId: job.tenantId, id: payload.callId) else {
            throw DeliveryError.permanent("call \(payload.callId) not found")
        }
        let answered = call.result == .answered
        guard let kind = MegaplanCallRules.kind(direction: call.direction, answered: answered) else {
            log.note("internal calls are not sent to Megaplan")
            return
        }
        let settings = ctx.settings
        guard MegaplanCallRules.passesLineFilter(line: call.lineNumber, direction: call.direction, settings: settings) else {
            log.note("virtual number \(call.lineNumber ?? "?") is not among the integration's numbers (MP-4): nothing sent")
            return
        }
        guard let client = call.client, client.last10 != nil else {
            log.note("nothing to do: the caller's number is hidden or not a phone number")
            return
        }
        let problems = settings.validate()
        if !problems.isEmpty {
            throw DeliveryError.permanent("the Megaplan settings are incomplete: " + problems.map(\.description).joined(separator: "; "))
        }
        let connector = jobs.connector
        let api = connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log)
        var ledger = try await WriteLedger.open(store: connector.entities, owner: ctx.integration.id, scope: call.id,
                                                afterWrite: connector.afterWrite)
        let talkerUsers = call.talkers.compactMap { ctx.userByLogin[$0] }
        let dialler = MegaplanCallJobs.dialler(of: call, userByLogin: ctx.userByLogin)
        let callUser = MegaplanCallRules.callUser(direction: call.direction, answered: answered, talkerUsers: talkerUsers,
                                                  dialler: dialler, settings: settings)
        let filtered = MegaplanCallRules.numberFiltered(client, settings: settings)
        if filtered { log.note("\(client.display) is in the number filter (CORE-11): no client, communication, todo or process") }

        // What Megaplan knew of the caller; kept, so a retry decides the same way.
        var caller: MegaplanClientRef?
        if let kept = ledger["caller"] {
            caller = kept == "none" ? nil : try? JSON.decode(MegaplanClientRef.self, from: kept)
        } else {
            caller = try await jobs.findClient(api, client, integrationId: ctx.integration.id)
            try await ledger.keep(["caller": caller.map { JSON.string($0) } ?? "none"])
        }
        let fields = settings.extraFieldValues(line: call.lineNumber)

        // MP-5: a new client, responsible the talker (first or last), the dialler, or the default responsible.
        if caller == nil, settings.createClient.enabled, !filtered {
            let responsible = callUser ?? settings.defaultResponsible
            var body: [String: Any] = ["contentType": MegaplanFacts.newClientType, "firstName": client.display,
                                       "contactInfo": [["contentType": "ContactInfo", "type": "phone", "value": client.e164 ?? client.display,
                                                        "isMain": true]]]
            if let responsible { body["responsibles"] = [MegaplanCallJobs.employee(responsible)] }
            for (k, v) in fields { body[k] = v }
            let path = MegaplanFacts.clientPath(MegaplanFacts.newClientType)
            let made = try await ledger.once("client", find: { _ in
                try await jobs.findClient(api, client, integrationId: ctx.integration.id).map { ["client": JSON.string($0)] }
            }, write: {
                let answer = try await api.post(path, body, what: "create the client")
                guard let id = answer.object?["id"].map({ "\($0)" }) else {
                    throw DeliveryError.retryable("Megaplan's answer to \(path) has no id")
                }
                return ["client": JSON.string(MegaplanClientRef(contentType: MegaplanFacts.newClientType, id: id, responsible: responsible))]
            })
            caller = made.flatMap { try? JSON.decode(MegaplanClientRef.self, from: $0) }
            if let caller, let last10 = client.last10 {
                try await connector.entities.rememberFirst(integrationId: ctx.integration.id, scope: MegaplanConnector.clientScope(last10),
                                                           kind: "client", value: JSON.string(caller))
            }
        } else if let known = caller, ledger["client"] == nil, settings.extraFields.updateAlways, !fields.isEmpty, !filtered {
            // CORE-13 "update always": the fields are written on repeat calls too.
            var body: [String: Any] = ["contentType": known.contentType]
            for (k, v) in fields { body[k] = v }
            try await ledger.once("fields", find: { _ in nil }, write: {
                _ = try await api.post(known.path, body, what: "update the client's fields")
                return ["fields": "1"]
            })
        }

        // The cards: each employee's is finished; a call that showed none goes to the history, without a popup.
        let outgoing = call.direction == .outbound
        let cards = ledger.kept.keys.filter { $0.hasPrefix("callInfo.") && !$0.hasSuffix(".intent") }
            .map { String($0.dropFirst("callInfo.".count)) }.sorted()
        let main = callUser.flatMap { cards.contains($0) ? $0 : nil } ?? talkerUsers.last(where: cards.contains) ?? cards.last
        let ended = MegaplanFacts.dateTime(call.endedAt ?? Date())
        let records = call.recordingURL.map { [$0] } ?? []
        var mainCard: String?
        if cards.isEmpty {
            var body = MegaplanCallJobs.card(call, client: client, user: callUser,
                                             employeeNumber: callUser.flatMap { ctx.employeeByUser[$0]?.extension_ })
            body["type"] = MegaplanFacts.callType(outgoing: outgoing, talked: answered)
            body["state"] = "finished"
            body["timeTo"] = ended
            body["recordLinks"] = records
            mainCard = try await ledger.once("history", find: { _ in
                try await jobs.findCard(api, call: call, user: callUser)?.values.first.map { ["history": $0] }
            }, write: {
                let answer = try await api.post("callInfo/history", [body], what: "log the call in the history")
                guard let id = answer.list.first?["id"].map({ "\($0)" }) else {
                    throw DeliveryError.retryable("Megaplan's answer to callInfo/history has no id")
                }
                return ["history": id]
            })
        } else {
            for user in cards {
                guard let id = ledger["callInfo.\(user)"] else { continue }
                if user == main { mainCard = id }
                let talked = answered && talkerUsers.contains(user)
                var body: [String: Any] = ["contentType": "CallInfo", "state": "finished", "timeTo": ended,
                                           "type": MegaplanFacts.callType(outgoing: outgoing, talked: talked)]
                if user == main { body["recordLinks"] = records }
                try await ledger.once("finish.\(user)", find: { _ in nil }, write: {
                    _ = try await api.post("callInfo/\(id)", body, what: "finish the call card")
                    return ["finish.\(user)": "1"]
                })
            }
        }
        guard let card = mainCard else { throw DeliveryError.retryable("the call has no card in Megaplan yet") }

        // The client on the call (and on the communications linked to it).
        if let caller, !filtered {
            try await ledger.once("bound", find: { _ in nil }, write: {
                _ = try await api.post("callInfo/\(card)/setContractor", caller.link, what: "bind the client to the call")
                return ["bound": caller.id]
            })
        }
        guard !filtered else { return }
        let name = "\(outgoing ? "Исходящий" : "Входящий") звонок \(client.display)"
        let start = call.final?.startedAt ?? call.createdAt
        var categories: [String: String?] = [:]

        // MP-6: a communication of type "call", its end = start + the duration setting.
        if settings.communication.enabled, settings.communication.kinds.contains(kind) {
            let category = try await jobs.category("call", api: api, cache: &categories)
            var body: [String: Any] = ["contentType": "Todo", "name": name,
                                       "when": MegaplanFacts.interval(from: start,
                                                                      to: start.addingTimeInterval(Double(settings.communication.minutes) * 60)),
                                       "description": answered ? "Разговор \(call.talkSec ?? 0) с" : "Звонок не состоялся"]
            if let category { body["category"] = ["contentType": "TodoCategory", "id": category] }
            if let who = callUser ?? settings.defaultResponsible { body["responsible"] = MegaplanCallJobs.employee(who) }
            if let caller { body["relations"] = [caller.link] }
            try await todo("communication", body, card: card, api: api, ledger: &ledger)
        }

        // MP-7: a todo after the call.
        if settings.todo.enabled, settings.todo.kinds.contains(kind) {
            let category = try await jobs.category("todo", api: api, cache: &categories)
            let who = MegaplanCallRules.responsible(settings.todo.responsible, callUser: callUser, clientResponsible: caller?.responsible,
                                                    settings: settings)
            var body: [String: Any] = ["contentType": "Todo", "name": (answered ? "Обработать звонок " : "Перезвонить ") + client.display,
                                       "when": MegaplanFacts.interval(from: Date(), to: Date().addingTimeInterval(3_600))]
            if let category { body["category"] = ["contentType": "TodoCategory", "id": category] }
            if let who { body["responsible"] = MegaplanCallJobs.employee(who) }
            if let caller { body["relations"] = [caller.link] }
            try await todo("todo", body, card: card, api: api, ledger: &ledger)
        }

        // MP-8: a process (a deal in the chosen scheme).
        if settings.process.enabled, settings.process.kinds.contains(kind), let program = settings.process.programId {
            let who = MegaplanCallRules.responsible(settings.process.responsible, callUser: callUser, clientResponsible: caller?.responsible,
                                                    settings: settings)
            let marker = "Switchboard: \(call.id)"
            var body: [String: Any] = ["contentType": "Deal", "program": ["contentType": "Program", "id": program],
                                       "name": name, "description": "\(name)\n\(marker)"]
            if let who { body["manager"] = MegaplanCallJobs.employee(who) }
            if let caller { body["contractor"] = caller.link }
            try await MegaplanCallJobs.process(body, program: program, marker: marker, of: "the call", api: api, ledger: &ledger)
        }
    }

    /// A todo linked to the call (`callInfo/{id}/todos`), made once; a retry finds it among the call's todos by name.
    func todo(_ kind: String, _ body: [String: Any], card: String, api: MegaplanClient, ledger: inout WriteLedger) async throws {
        let name = body["name"] as? String ?? ""
        let category = (body["category"] as? [String: Any])?["id"].map { "\($0)" }
        try await ledger.once(kind, find: { _ in
            let list = try await api.get("callInfo/\(card)/todos", [:], what: "find the call's \(kind)")
            return list.list.first { t in
                t["name"] as? String == name && ((t["category"] as? [String: Any])?["id"]).map { "\($0)" } == category
            }?["id"].map { [kind: "\($0)"] }
        }, write: {
            let answer = try await api.post("callInfo/\(card)/todos", body, what: "create the \(kind)")
            guard let id = answer.object?["id"].map({ "\($0)" }) else { throw DeliveryError.retryable("Megaplan's answer to todos has no id") }
            return [kind: id]
        })
    }
}
