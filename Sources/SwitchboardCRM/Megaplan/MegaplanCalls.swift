import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// How Megaplan sees one call, decided from the neutral call and the settings (pure).
public enum MegaplanCallRules {
    /// The rule kind of a finished call; nil for internal calls and calls of unknown direction.
    public static func kind(direction: CallDirection, answered: Bool) -> MegaplanSettings.CallKind? {
        DirectionOutcome.of(direction: direction, answered: answered)
    }

    /// MP-4: with the filter on, only calls on the chosen virtual numbers pass; an outgoing call that names no virtual
    /// number passes (it has none to filter by).
    public static func passesLineFilter(line: String?, direction: CallDirection, settings: MegaplanSettings) -> Bool {
        guard settings.lineFilter.enabled else { return true }
        let lineless = direction == .outbound
        // A switched-on filter with no numbers (refused by validation) lets through only what has no line.
        guard !settings.lineFilter.numbers.isEmpty else { return (line ?? "").filter(\.isNumber).isEmpty && lineless }
        return CallRuleKit.onLines(line, settings.lineFilter.numbers, lineless: lineless)
    }

    /// CORE-11: a client number for which no entities are created.
    public static func numberFiltered(_ client: PhoneNumber, settings: MegaplanSettings) -> Bool {
        client.last10 != nil && CallRuleKit.isFiltered(client, settings.numberFilter)
    }

    /// The Megaplan employee of the call: incoming answered, the first or last mapped talker (CORE-8); outgoing, the
    /// dialler; nil when no mapped employee talked or dialled.
    public static func callUser(_ facts: CallFacts, settings: MegaplanSettings) -> String? {
        CallRuleKit.employeeOfCall(facts, choice: settings.createClient.responsibleTalker == .last ? .last : .first)
    }

    /// Who is responsible for a todo or a process: as chosen, falling back to the default responsible (CORE-7).
    public static func responsible(_ choice: MegaplanSettings.Responsible, callUser: String?, clientResponsible: String?,
                                   settings: MegaplanSettings) -> String? {
        if let fixed = choice.employeeId { return fixed }
        if choice == .client { return clientResponsible ?? callUser ?? settings.defaultResponsible }
        return callUser ?? settings.defaultResponsible
    }
}

/// What only Megaplan knows of the caller: the kind of client record (`ContractorHuman`, `ContractorCompany`).
public struct MegaplanCallerOwn: Codable, Sendable, Equatable {
    public var contentType: String?
    public init(contentType: String? = nil) { self.contentType = contentType }
}

/// What only Megaplan does for a finished call; the client, its fields and the todo are common steps.
public enum MegaplanStep: Codable, Sendable, Equatable, StepDescribing {
    /// The call's cards finished (each one's type by whether its employee talked; the recording on the main one); a call
    /// that showed no card goes to the history as `user`'s call.
    case finishCall(user: String?)
    /// The client on the call card (`setContractor`), and so on the communications linked to it.
    case bindClient
    /// MP-6: a communication of type "call", its end `minutes` after the start.
    case communication(responsible: String?, minutes: Int)
    /// MP-8: a process (a deal) in the scheme.
    case process(programId: String, responsible: String?)

    public var summary: Phrase {
        switch self {
        case .finishCall(let user):
            return Phrase(code: "mp.plan.finishCall", en: "plan: finish the call cards (or log the call in the history), employee \(user ?? "—")",
                          ru: "план: завершить карточки звонка (или записать звонок в историю), сотрудник \(user ?? "—")")
        case .bindClient:
            return Phrase(code: "mp.plan.bindClient", en: "plan: bind the client to the call", ru: "план: привязать клиента к звонку")
        case .communication(let who, let minutes):
            return Phrase(code: "mp.plan.communication", en: "plan: create a communication of \(minutes) min, responsible \(who ?? "—")",
                          ru: "план: создать коммуникацию на \(minutes) мин, ответственный \(who ?? "—")")
        case .process(let program, let who):
            return Phrase(code: "mp.plan.process", en: "plan: create a process in scheme \(program), responsible \(who ?? "—")",
                          ru: "план: создать процесс по схеме \(program), ответственный \(who ?? "—")")
        }
    }
}

extension MegaplanCallRules {
    /// What a finished call makes in Megaplan (MP-5…MP-8, CORE-11, CORE-13). Pure.
    public static func plan(_ facts: CallFacts, _ caller: CallerKnowledge<MegaplanCallerOwn>, _ settings: MegaplanSettings)
        -> Plan<MegaplanStep> {
        guard let client = facts.client, let kind = DirectionOutcome.of(facts) else { return Plan() }
        var steps: [PlanStep<MegaplanStep>] = []
        var reasons: [Phrase] = []
        let callUser = callUser(facts, settings: settings)
        let filtered = numberFiltered(client, settings: settings)
        if filtered { reasons.append(MPSays.numberFiltered(client.display).phrase) }
        let fields = settings.extraFieldValues(line: facts.virtualNumber)
        // MP-5: a new client, responsible the talker (first or last), the dialler, or the default responsible.
        let creates = !caller.isKnown && settings.createClient.enabled && !filtered
        if creates {
            steps.append(.common(.createContact(responsible: callUser ?? settings.defaultResponsible, fields: fields, tags: [])))
        } else if caller.isKnown, settings.extraFields.updateAlways, !fields.isEmpty, !filtered {
            // CORE-13 "update always": the fields are written on repeat calls too.
            steps.append(.common(.updateContactFields(fields)))
        }
        steps.append(.own(.finishCall(user: callUser)))
        guard !filtered else { return Plan(steps: steps, reasons: reasons) }
        if caller.isKnown || creates { steps.append(.own(.bindClient)) }
        // A client made by this call is its own responsible's.
        let clientResponsible = caller.isKnown ? caller.owner : creates ? callUser ?? settings.defaultResponsible : nil
        if settings.communication.enabled, settings.communication.kinds.contains(kind) {
            steps.append(.own(.communication(responsible: callUser ?? settings.defaultResponsible, minutes: settings.communication.minutes)))
        }
        if settings.todo.enabled, settings.todo.kinds.contains(kind) {
            let who = responsible(settings.todo.responsible, callUser: callUser, clientResponsible: clientResponsible, settings: settings)
            steps.append(.common(.createTask(responsible: who, text: (facts.answered ? "Обработать звонок " : "Перезвонить ") + client.display,
                                             dueMinutes: 60)))
        }
        if settings.process.enabled, settings.process.kinds.contains(kind), let program = settings.process.programId {
            let who = responsible(settings.process.responsible, callUser: callUser, clientResponsible: clientResponsible, settings: settings)
            steps.append(.own(.process(programId: program, responsible: who)))
        }
        return Plan(steps: steps, reasons: reasons)
    }
}

/// What Megaplan knew of the caller when the call was handled; kept in the call's ledger so a retry decides the same.
struct MegaplanClientRef: Codable, Equatable {
    var contentType: String
    var id: String
    var responsible: String?

    var link: [String: Any] { ["contentType": contentType, "id": id] }
    var knowledge: CallerKnowledge<MegaplanCallerOwn> {
        CallerKnowledge(contact: id, owner: responsible, own: MegaplanCallerOwn(contentType: contentType))
    }
    var path: String { MegaplanFacts.clientPath(contentType) + "/" + id }
}

/// The call jobs of Megaplan (MP-2, MP-5…MP-8): a call card (`callInfo`) for each mapped employee whose phone rings,
/// moved to talking on the answer, finished with its result and recording; then the client, its fields, the
/// communication, the todo and the process, each at most once (`WriteLedger`).
struct MegaplanCallJobs {
    let connector: MegaplanConnector

    func context(_ job: Job, _ payload: CallJobPayload, log: AttemptLog) async throws -> IntegrationContext<MegaplanSettings>? {
        try await IntegrationContext<MegaplanSettings>.load(tenantId: job.tenantId, integrationId: payload.integrationId, crm: Megaplan.title,
                                                            db: connector.env.db, vault: connector.env.vault, log: log)
    }

    /// A card job's employee (mapped to a Megaplan employee), context and call; nil when there is nothing to do.
    func cardJob(_ job: Job, log: AttemptLog) async throws
        -> (user: String, ctx: IntegrationContext<MegaplanSettings>, call: Call, api: MegaplanClient, ledger: WriteLedger)? {
        let payload = try JSON.decode(CallJobPayload.self, from: job.payload)
        guard let ctx = try await context(job, payload, log: log),
              let call = try await connector.calls.get(tenantId: job.tenantId, id: payload.callId) else { return nil }
        guard let login = payload.employeeLogin, let user = ctx.userByLogin[login] else {
            log.note(MPSays.cardUnmapped(login: payload.employeeLogin ?? "?"))
            return nil
        }
        let ledger = try await WriteLedger.open(store: connector.entities, owner: ctx.integration.id, scope: call.id,
                                                afterWrite: connector.afterWrite)
        return (user, ctx, call, connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log), ledger)
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
        let found = try await api.get("callInfo/provider", ["providerId": call.id], what: .findCallCard, accept: [404])
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
            let answer = try await api.post("callInfo", body, what: .showCallCard)
            guard let id = answer.object?["id"].map({ "\($0)" }) else {
                throw DeliveryError.retryable(MPSays.noId("callInfo").phrase)
            }
            return ["callInfo.\(user)": id]
        })
    }

    /// The caller as Megaplan knows them: a client whose phone ends in the same 10 digits, else one made for this
    /// number by an earlier call of the integration (Megaplan's search may not list a client made a moment ago).
    func findClient(_ api: MegaplanClient, _ client: PhoneNumber, integrationId: String) async throws -> MegaplanClientRef? {
        guard let last10 = client.last10 else { return nil }
        let found = try await api.get(MegaplanFacts.clientSearchPath, ["q": last10, "limit": 50], what: .findClientByPhone)
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
    static func process(_ body: [String: Any], program: String, marker: String, of what: MPRequest, api: MegaplanClient,
                        ledger: inout WriteLedger) async throws {
        try await ledger.once("process", find: { _ in
            let deals = try await api.get("deal", ["program": ["contentType": "Program", "id": program], "limit": 50,
                                                   "sortBy": [["contentType": "SortField", "fieldName": "timeCreated", "desc": true]]],
                                          what: what)
            return deals.list.first { ($0["description"] as? String)?.contains(marker) == true }?["id"].map { ["process": "\($0)"] }
        }, write: {
            let answer = try await api.post("deal", body, what: .createProcess)
            guard let id = answer.object?["id"].map({ "\($0)" }) else { throw DeliveryError.retryable(MPSays.noId("deal").phrase) }
            return ["process": id]
        })
    }

    /// A todo category's id by its master type (`call` for communications, `todo` for todos), once per job.
    func category(_ masterType: String, api: MegaplanClient, cache: inout [String: String?]) async throws -> String? {
        if let known = cache[masterType] { return known }
        let list = try await api.get(MegaplanFacts.todoCategoryPath, [:], what: .listTodoCategories, accept: [404])
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
            log.note(MPSays.cardTooLate)
            return
        }
        guard call.direction == .inbound || call.direction == .outbound else {
            log.note(CallSkip.internalCall(crm: Megaplan.title))
            return
        }
        guard MegaplanCallRules.passesLineFilter(line: call.lineNumber, direction: call.direction, settings: ctx.settings) else {
            log.note(MPSays.cardNotOnLines(call.lineNumber ?? "?"))
            return
        }
        guard let client = call.client, client.last10 != nil else {
            log.note(CallSkip.cardNumberHidden)
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
            log.note(MPSays.noCardToTalk)
            return
        }
        try await ledger.once("talking.\(user)", find: { _ in nil }, write: {
            _ = try await api.post("callInfo/\(card)", ["contentType": "CallInfo", "state": "talking"], what: .moveCardToTalking)
            return ["talking.\(user)": "1"]
        })
    }
}

/// MP-2, MP-5…MP-8: the finished call's cards, client, fields, communication, todo and process.
struct MegaplanFinishedHandler: JobHandler {
    let jobs: MegaplanCallJobs

    func run(_ job: Job, log: AttemptLog) async throws {
        let connector = jobs.connector
        guard var run = try await FinishedCallJob<MegaplanSettings>.load(
            job, crm: Megaplan.title, db: connector.env.db, vault: connector.env.vault, log: log, afterWrite: connector.afterWrite,
            skip: { call, settings in
                guard MegaplanCallRules.kind(direction: call.direction, answered: call.result == .answered) != nil else {
                    return CallSkip.internalCall(crm: Megaplan.title).phrase
                }
                guard MegaplanCallRules.passesLineFilter(line: call.lineNumber, direction: call.direction, settings: settings) else {
                    return MPSays.notOnLines(call.lineNumber ?? "?").phrase
                }
                guard let client = call.client, client.last10 != nil else { return CallSkip.numberHidden.phrase }
                return nil
            }) else { return }
        let (ctx, call, facts, settings) = (run.context, run.call, run.facts, run.settings)
        guard let client = call.client else { return }
        let answered = facts.answered
        let api = connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log)
        let talkerUsers = facts.talkerUsers

        // What Megaplan knew of the caller; kept, so a retry decides the same way.
        var caller = try await run.knowledge(MegaplanClientRef.self, none: "none") {
            try await jobs.findClient(api, client, integrationId: ctx.integration.id)
        }
        let plan = MegaplanCallRules.plan(facts, caller?.knowledge ?? CallerKnowledge(own: MegaplanCallerOwn()), settings)
        run.journal(plan, log: log)
        var ledger = run.ledger
        let outgoing = call.direction == .outbound
        let name = CallRuleKit.callName(facts)
        let start = call.final?.startedAt ?? call.createdAt
        var categories: [String: String?] = [:]
        var card: String?

        for step in plan.steps {
            switch step {
            case .common(.createContact(let responsible, let fields, _)):
                // MP-5: a new client, responsible the talker (first or last), the dialler, or the default responsible.
                var body: [String: Any] = ["contentType": MegaplanFacts.newClientType, "firstName": client.display,
                                           "contactInfo": [["contentType": "ContactInfo", "type": "phone", "value": client.e164 ?? client.display,
                                                            "isMain": true]]]
                if let responsible { body["responsibles"] = [MegaplanCallJobs.employee(responsible)] }
                for (k, v) in fields { body[k] = v }
                let path = MegaplanFacts.clientPath(MegaplanFacts.newClientType)
                let made = try await ledger.once("client", find: { _ in
                    try await jobs.findClient(api, client, integrationId: ctx.integration.id).map { ["client": JSON.string($0)] }
                }, write: {
                    let answer = try await api.post(path, body, what: .createClient)
                    guard let id = answer.object?["id"].map({ "\($0)" }) else {
                        throw DeliveryError.retryable(MPSays.noId(path).phrase)
                    }
                    return ["client": JSON.string(MegaplanClientRef(contentType: MegaplanFacts.newClientType, id: id, responsible: responsible))]
                })
                caller = made.flatMap { try? JSON.decode(MegaplanClientRef.self, from: $0) }
                if let caller, let last10 = client.last10 {
                    try await connector.entities.rememberFirst(integrationId: ctx.integration.id, scope: MegaplanConnector.clientScope(last10),
                                                               kind: "client", value: JSON.string(caller))
                }

            case .common(.updateContactFields(let fields)):
                // CORE-13 "update always": the fields are written on repeat calls too.
                guard let known = caller, ledger["client"] == nil else { continue }
                var body: [String: Any] = ["contentType": known.contentType]
                for (k, v) in fields { body[k] = v }
                try await ledger.once("fields", find: { _ in nil }, write: {
                    _ = try await api.post(known.path, body, what: .updateClientFields)
                    return ["fields": "1"]
                })

            case .own(.finishCall(let callUser)):
                // The cards: each employee's is finished; a call that showed none goes to the history, without a popup.
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
                        let answer = try await api.post("callInfo/history", [body], what: .logHistory)
                        guard let id = answer.list.first?["id"].map({ "\($0)" }) else {
                            throw DeliveryError.retryable(MPSays.noId("callInfo/history").phrase)
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
                            _ = try await api.post("callInfo/\(id)", body, what: .finishCallCard)
                            return ["finish.\(user)": "1"]
                        })
                    }
                }
                guard let made = mainCard else { throw DeliveryError.retryable(MPSays.noCardYet.phrase) }
                card = made

            case .own(.bindClient):
                // The client on the call (and on the communications linked to it).
                guard let caller, let card else { continue }
                try await ledger.once("bound", find: { _ in nil }, write: {
                    _ = try await api.post("callInfo/\(card)/setContractor", caller.link, what: .bindClient)
                    return ["bound": caller.id]
                })

            case .own(.communication(let who, let minutes)):
                // MP-6: a communication of type "call", its end = start + the duration setting.
                guard let card else { continue }
                let category = try await jobs.category("call", api: api, cache: &categories)
                var body: [String: Any] = ["contentType": "Todo", "name": name,
                                           "when": MegaplanFacts.interval(from: start, to: start.addingTimeInterval(Double(minutes) * 60)),
                                           "description": answered ? "Разговор \(call.talkSec ?? 0) с" : "Звонок не состоялся"]
                if let category { body["category"] = ["contentType": "TodoCategory", "id": category] }
                if let who { body["responsible"] = MegaplanCallJobs.employee(who) }
                if let caller { body["relations"] = [caller.link] }
                try await todo(.communication, body, card: card, api: api, ledger: &ledger)

            case .common(.createTask(let who, let text, let dueMinutes)):
                // MP-7: a todo after the call.
                guard let card else { continue }
                let category = try await jobs.category("todo", api: api, cache: &categories)
                var body: [String: Any] = ["contentType": "Todo", "name": text,
                                           "when": MegaplanFacts.interval(from: Date(), to: Date().addingTimeInterval(Double(dueMinutes) * 60))]
                if let category { body["category"] = ["contentType": "TodoCategory", "id": category] }
                if let who { body["responsible"] = MegaplanCallJobs.employee(who) }
                if let caller { body["relations"] = [caller.link] }
                try await todo(.todo, body, card: card, api: api, ledger: &ledger)

            case .own(.process(let program, let who)):
                // MP-8: a process (a deal in the chosen scheme).
                let marker = "Switchboard: \(call.id)"
                var body: [String: Any] = ["contentType": "Deal", "program": ["contentType": "Program", "id": program],
                                           "name": name, "description": "\(name)\n\(marker)"]
                if let who { body["manager"] = MegaplanCallJobs.employee(who) }
                if let caller { body["contractor"] = caller.link }
                try await MegaplanCallJobs.process(body, program: program, marker: marker, of: .findProcess(ofCall: true), api: api,
                                                   ledger: &ledger)

            case .common(.logCall), .common(.tag), .common(.notify):
                // The Megaplan rules make none of these: the call cards are the call's log.
                continue
            }
        }
    }

    /// A todo linked to the call (`callInfo/{id}/todos`), made once; a retry finds it among the call's todos by name.
    func todo(_ kind: MPRequest.TodoKind, _ body: [String: Any], card: String, api: MegaplanClient, ledger: inout WriteLedger) async throws {
        let name = body["name"] as? String ?? ""
        let category = (body["category"] as? [String: Any])?["id"].map { "\($0)" }
        try await ledger.once(kind.rawValue, find: { _ in
            let list = try await api.get("callInfo/\(card)/todos", [:], what: .findCallTodo(kind))
            return list.list.first { t in
                t["name"] as? String == name && ((t["category"] as? [String: Any])?["id"]).map { "\($0)" } == category
            }?["id"].map { [kind.rawValue: "\($0)"] }
        }, write: {
            let answer = try await api.post("callInfo/\(card)/todos", body, what: .createCallTodo(kind))
            guard let id = answer.object?["id"].map({ "\($0)" }) else { throw DeliveryError.retryable(MPSays.noId("todos").phrase) }
            return [kind.rawValue: id]
        })
    }
}
