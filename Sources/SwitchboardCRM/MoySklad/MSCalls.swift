import Foundation
import NIOHTTP1
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// How MoySklad sees one call, decided from the neutral call and the settings (pure).
public enum MSCallRules {
    /// The MoySklad employee responsible for what a call makes: incoming answered → the first or last mapped talker;
    /// incoming missed → the default responsible; outgoing → the dialler; anyone unmapped gives way to the default.
    public static func responsible(_ facts: CallFacts, settings: MSSettings) -> String? {
        CallRuleKit.employeeOfCall(facts, choice: settings.responsibleTalker == .last ? .last : .first) ?? settings.defaultResponsible
    }

    /// Who talked (or dialled) is the call's employee in the Phone API; a missed incoming call has none.
    public static func callEmployee(_ facts: CallFacts, responsible: String) -> String? {
        facts.direction == .outbound ? CallRuleKit.dialler(facts) ?? responsible : facts.answered ? facts.talkerUsers.last : nil
    }

    /// What a finished call does in MoySklad (MS-3, CORE-7…CORE-13). Pure. `caller` is nil when the counterparties
    /// cannot be reached (an internal call, no JSON API access): then only the Phone API call is closed.
    public static func plan(_ facts: CallFacts, _ caller: CallerKnowledge<NoKnowledge>?, _ settings: MSSettings) -> Plan<MSStep> {
        guard let responsible = responsible(facts, settings: settings) else { return Plan(reasons: [MSSays.noResponsible.phrase]) }
        var steps: [PlanStep<MSStep>] = []
        var reasons: [Phrase] = []
        if facts.direction == .inbound && facts.answered && facts.talkerUsers.isEmpty { reasons.append(MSSays.noTalkerMapped.phrase) }
        let comment = summary(direction: facts.direction, result: facts.result, talkSec: facts.talkSec)
        if let client = facts.client, client.last10 != nil, facts.direction != .internal, settings.ignores(client: client) {
            reasons.append(MSSays.numberWithoutEntities(client.display).phrase)
        } else if let caller, let client = facts.client {
            let rule = settings.rule(direction: facts.direction, answered: facts.answered)
            let extra = settings.extraValues(line: facts.virtualNumber, client: client)
            if !caller.isKnown && rule.createCounterparty {
                steps.append(.common(.createContact(responsible: responsible, fields: extra, tags: [])))
            } else if caller.isKnown, settings.extraFieldsUpdateAlways, !extra.isEmpty {
                steps.append(.common(.updateContactFields(extra)))
            } else if !caller.isKnown {
                reasons.append(MSSays.noCounterpartyRuleMakesNone(client.display).phrase)
            }
            if rule.createOrder { steps.append(.own(.customerOrder(owner: responsible))) }
            if rule.createTask {
                let text = (facts.direction == .outbound ? "Связаться с клиентом: " : "Перезвонить: ")
                    + "\(comment), \(client.display) (\(marker(facts.callId)))"
                steps.append(.common(.createTask(responsible: responsible, text: text, dueMinutes: settings.taskDueMinutes)))
            }
        }
        steps.append(.own(.closeCall(employee: callEmployee(facts, responsible: responsible), comment: comment)))
        return Plan(steps: steps, reasons: reasons)
    }

    /// What the call was, in the words MoySklad users read (the Phone API has no field for the result).
    public static func summary(direction: CallDirection, result: CallResult, talkSec: Int) -> String {
        let kind = direction == .outbound ? "Исходящий" : direction == .internal ? "Внутренний" : "Входящий"
        if result == .answered { return "\(kind) звонок, разговор \(talkSec) с" }
        switch result {
        case .busy: return "\(kind) звонок, занято"
        case .notFound: return "\(kind) звонок, неверный номер"
        default: return direction == .outbound ? "\(kind) звонок, клиент не ответил" : "\(kind) звонок, пропущен"
        }
    }

    /// The text Switchboard puts on what it makes for a call: the marker a retry searches for.
    public static func marker(_ callId: String) -> String { "Switchboard \(callId)" }
}

/// What only MoySklad does for a finished call; the counterparty, its fields and the task are common steps.
public enum MSStep: Codable, Sendable, Equatable, StepDescribing {
    /// A customer order for the counterparty (MS-3), owned by `owner`.
    case customerOrder(owner: String)
    /// The Phone API call closed: its end, its employee, the counterparty, the recording, every card hidden.
    case closeCall(employee: String?, comment: String)

    public var summary: Phrase {
        switch self {
        case .customerOrder(let owner):
            return Phrase(code: "ms.plan.order", en: "plan: create a customer order, owner \(owner)", ru: "план: создать заказ покупателя, владелец \(owner)")
        case .closeCall(let employee, let comment):
            return Phrase(code: "ms.plan.closeCall", en: "plan: close the call (\(comment)), employee \(employee ?? "—")",
                          ru: "план: закрыть звонок («\(comment)»), сотрудник \(employee ?? "—")")
        }
    }
}

/// What MoySklad knew of the caller when the call ended; kept, so a retry decides the same way.
struct MSCaller: Codable {
    var id: String?
    var ownerId: String?
    var name: String?

    var knowledge: CallerKnowledge<NoKnowledge> { CallerKnowledge(contact: id, owner: ownerId, own: NoKnowledge()) }
}

/// The call jobs of MoySklad: the Phone API call with its popups, the counterparty, order and task by the rules.
struct MSCallJobs {
    let connector: MSConnector

    func context(_ job: Job, _ payload: CallJobPayload, log: AttemptLog) async throws -> IntegrationContext<MSSettings>? {
        try await IntegrationContext<MSSettings>.load(tenantId: job.tenantId, integrationId: payload.integrationId, crm: MoySklad.title,
                                                      db: connector.env.db, vault: connector.env.vault, log: log)
    }

    /// The call's writes in this integration (`afterWrite` is the connector's test seam).
    func ledger(_ ctx: IntegrationContext<MSSettings>, _ call: Call) async throws -> WriteLedger {
        try await WriteLedger.open(store: connector.entities, owner: ctx.integration.id, scope: call.id, afterWrite: connector.afterWrite)
    }

    /// Whether this integration logs the call at all (CORE-11 lines, MS-5 internal calls); the reason when not.
    static func skipReason(_ call: Call, _ settings: MSSettings) -> MSSkip? {
        if !settings.takes(line: call.lineNumber) { return .notOnLine(call.lineNumber ?? "?") }
        switch call.direction {
        case .inbound, .outbound: break
        case .internal where settings.showInternalCalls: break
        case .internal: return .internalOff
        case .unknown: return .unknownDirection
        }
        guard let raw = call.client?.raw, !raw.filter(\.isNumber).isEmpty else { return .numberHidden }
        return nil
    }

    /// The number MoySklad shows: E.164 for a client, the extension for a colleague.
    static func number(_ call: Call) -> String { call.client?.e164 ?? call.client?.raw ?? "" }

    /// The extension a popup goes to: the mapped employee's in the PBX directory (the guide has the tenant enter the
    /// same numbers in MoySklad's telephony application), else the leg's.
    static func ext(login: String, call: Call, user: String?, ctx: IntegrationContext<MSSettings>) -> String {
        if let user, let e = ctx.employeeByUser[user]?.extension_, !e.isEmpty { return e }
        let leg = call.legs.first { $0.id == login || $0.employeeLogin == login }
        return leg?.extension_ ?? login
    }

    /// A Phone API reference: bare `{href, type, mediaType}`.
    static func bare(_ api: MoySkladClient, _ type: String, _ id: String) -> [String: Any] {
        api.ref(type, id)["meta"] as? [String: Any] ?? [:]
    }

    /// The next popup event's `sequence` for this call, kept before it is used.
    static func nextSequence(_ ledger: inout WriteLedger) async throws -> Int {
        let next = (ledger["seq"].flatMap { Int($0) } ?? 0) + 1
        try await ledger.keep(["seq": String(next)])
        return next
    }

    static func event(_ type: String, ext: String?, sequence: Int, employee: [String: Any]?) -> [String: Any] {
        var e: [String: Any] = ["eventType": type, "sequence": sequence]
        if let ext { e["extension"] = ext }
        if let employee { e["employee"] = employee }
        return e
    }

    /// One popup event on a call MoySklad already has (the next `sequence`), kept under `mark` once sent.
    static func post(_ type: String, ext: String, employee: String?, call: Call, api: MoySkladClient, ledger: inout WriteLedger,
                     mark: String, what: MSRequest) async throws {
        let sequence = try await nextSequence(&ledger)
        _ = try await api.phone(.POST, path(call) + "/event",
                                event(type, ext: ext, sequence: sequence, employee: employee.map { bare(api, "employee", $0) }), what: what)
        try await ledger.keep([mark: employee ?? "1"])
    }

    static func path(_ call: Call) -> String {
        "/call/extid/" + (call.id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? call.id)
    }

    /// The Phone API call, created once (its MoySklad id kept); `extra` fields go into the creation.
    func ensureCall(_ call: Call, api: MoySkladClient, ledger: inout WriteLedger, extra: [String: Any], keep: [String: String]) async throws
        -> String? {
        // The Phone API lists no calls, so an attempt cut off after MoySklad made the call cannot look for it.
        try await ledger.once("call", find: { _ in nil }, write: {
            var body: [String: Any] = ["externalId": call.id, "number": Self.number(call), "isIncoming": call.direction != .outbound,
                                       "startTime": MSTime.format(call.createdAt)]
            body.merge(extra) { _, new in new }
            let made = try await api.phone(.POST, "/call", body, what: .createCall)
            guard let id = made.object["id"] as? String else { throw DeliveryError.retryable(MSSays.noCallId.phrase) }
            return keep.merging(["call": id]) { a, _ in a }
        })
    }

    // MARK: entities (MS-3, CORE-7…CORE-13)

    /// The counterparty with this number: `search=` finds it however the number is written, the last ten digits decide.
    func counterparty(_ client: PhoneNumber, api: MoySkladClient) async throws -> MSCaller? {
        guard let last10 = client.last10 else { return nil }
        let found = try await api.json(.GET, "/entity/counterparty?search=\(last10)&limit=100", what: .findCaller)
        for row in found.rows {
            let phones = [row["phone"] as? String] + ((row["contactpersons"] as? [[String: Any]])?.map { $0["phone"] as? String } ?? [])
            if phones.compactMap({ $0 }).contains(where: { String($0.filter(\.isNumber).suffix(10)) == last10 }) {
                return MSCaller(id: row["id"] as? String, ownerId: MoySkladClient.id(of: row["owner"]), name: row["name"] as? String)
            }
        }
        return nil
    }

    static func attributes(_ values: [String: String], api: MoySkladClient) -> [[String: Any]] {
        values.keys.sorted().map { id in
            ["meta": ["href": "\(api.root)/api/remap/1.2/entity/counterparty/metadata/attributes/\(id)", "type": "attributemetadata",
                      "mediaType": "application/json"], "value": values[id] ?? ""]
        }
    }

    /// A value the integration needs once (the organization, a status's id), kept per integration.
    func remembered(_ kind: String, integrationId: String, fetch: () async throws -> String?) async throws -> String? {
        let scope = "moysklad"
        if let known = try await connector.entities.all(integrationId: integrationId, scope: scope)[kind] { return known }
        guard let value = try await fetch() else { return nil }
        try await connector.entities.remember(integrationId: integrationId, scope: scope, kind: kind, crmId: value)
        return value
    }

    func organization(ctx: IntegrationContext<MSSettings>, api: MoySkladClient) async throws -> String? {
        try await organization(integrationId: ctx.integration.id, configured: ctx.settings.order.organizationId, api: api)
    }

    /// The legal entity of an order: the configured one, else the account's first (read once per integration).
    func organization(integrationId: String, configured: String?, api: MoySkladClient) async throws -> String? {
        if let id = configured, !id.isEmpty { return id }
        return try await remembered("organization", integrationId: integrationId) {
            try await api.json(.GET, "/entity/organization?limit=1", what: .readOrganization).rows.first?["id"] as? String
        }
    }

    func stateId(ctx: IntegrationContext<MSSettings>, api: MoySkladClient) async throws -> String? {
        try await stateId(integrationId: ctx.integration.id, name: ctx.settings.order.state, api: api)
    }

    /// The id of the order status named `name` (read once per integration and name).
    func stateId(integrationId: String, name: String?, api: MoySkladClient) async throws -> String? {
        guard let name, !name.isEmpty else { return nil }
        return try await remembered("state:" + name, integrationId: integrationId) {
            let meta = try await api.json(.GET, "/entity/customerorder/metadata", what: .readOrderStatuses)
            return (meta.object["states"] as? [[String: Any]])?.first { ($0["name"] as? String) == name }?["id"] as? String
        }
    }

    /// A customer order's `state` reference.
    static func stateRef(_ api: MoySkladClient, _ id: String) -> [String: Any] {
        ["meta": ["href": "\(api.root)/api/remap/1.2/entity/customerorder/metadata/states/\(id)", "type": "state", "mediaType": "application/json"]]
    }

    /// The id of the row whose description carries the call's marker (what an earlier attempt made).
    static func marked(_ rows: [[String: Any]], _ marker: String) -> String? {
        rows.first { ($0["description"] as? String)?.contains(marker) == true }.flatMap { $0["id"] as? String }
    }

    /// The plan's counterparty, extra fields, order and task, each at most once; the counterparty's id.
    func entities(_ plan: Plan<MSStep>, _ call: Call, client: PhoneNumber, caller: MSCaller, ctx: IntegrationContext<MSSettings>,
                  api: MoySkladClient, ledger: inout WriteLedger, log: AttemptLog) async throws -> String? {
        let settings = ctx.settings
        var counterpartyId = caller.id ?? ledger["counterparty"]
        let what = MSCallRules.summary(direction: call.direction, result: call.result, talkSec: call.talkSec ?? 0)
        let marker = MSCallRules.marker(call.id)
        for step in plan.steps {
            switch step {
            case .common(.createContact(let owner, let extra, _)):
                guard let responsible = owner else { continue }
                counterpartyId = try await ledger.once("counterparty", find: { _ in
                    try await counterparty(client, api: api)?.id.map { ["counterparty": $0] }
                }, write: {
                    var body: [String: Any] = ["name": client.display, "phone": client.display, "companyType": "individual",
                                               "owner": api.ref("employee", responsible),
                                               "description": "Создан по звонку (\(marker))"]
                    if !extra.isEmpty { body["attributes"] = Self.attributes(extra, api: api) }
                    let made = try await api.json(.POST, "/entity/counterparty", body, what: .createCounterparty)
                    guard let id = made.object["id"] as? String else { throw DeliveryError.retryable(MSSays.noId("counterparty").phrase) }
                    return ["counterparty": id]
                }) ?? counterpartyId

            case .common(.updateContactFields(let extra)):
                guard let existing = caller.id else { continue }
                try await ledger.once("extra", find: { _ in nil }, write: {
                    _ = try await api.json(.PUT, "/entity/counterparty/\(existing)", ["attributes": Self.attributes(extra, api: api)],
                                           what: .updateExtraFields)
                    return ["extra": "1"]
                })

            case .own(.customerOrder(let responsible)):
                guard let agent = counterpartyId else {
                    log.note(MSSays.noOrderNoCounterparty)
                    continue
                }
                guard let organization = try await organization(ctx: ctx, api: api) else {
                    throw DeliveryError.permanent(MSSays.noOrganization.phrase)
                }
                let state = try await stateId(ctx: ctx, api: api)
                if settings.order.state != nil && state == nil {
                    log.note(MSSays.noOrderStatus(settings.order.state ?? ""))
                }
                let agentHref = "\(api.root)/api/remap/1.2/entity/counterparty/\(agent)"
                try await ledger.once("order", find: { _ in
                    Self.marked(try await api.json(.GET, "/entity/customerorder?filter=agent=\(agentHref)", what: .findCallOrder).rows,
                                marker).map { ["order": $0] }
                }, write: {
                    var body: [String: Any] = ["organization": api.ref("organization", organization), "agent": api.ref("counterparty", agent),
                                               "owner": api.ref("employee", responsible),
                                               "description": "\(what), \(client.display) (\(marker))"]
                    if let state { body["state"] = Self.stateRef(api, state) }
                    let made = try await api.json(.POST, "/entity/customerorder", body, what: .createOrder)
                    guard let id = made.object["id"] as? String else { throw DeliveryError.retryable(MSSays.noId("order").phrase) }
                    return ["order": id]
                })

            case .common(.createTask(let assignee, let text, let dueMinutes)):
                guard let responsible = assignee else { continue }
                try await ledger.once("task", find: { _ in
                    Self.marked(try await api.json(.GET, "/entity/task?search=\(call.id)", what: .findCallTask).rows, marker)
                        .map { ["task": $0] }
                }, write: {
                    var body: [String: Any] = ["description": text, "assignee": api.ref("employee", responsible), "done": false,
                                               "dueToDate": MSTime.format(Date().addingTimeInterval(Double(dueMinutes) * 60))]
                    if let agent = counterpartyId { body["agent"] = api.ref("counterparty", agent) }
                    let made = try await api.json(.POST, "/entity/task", body, what: .createTask)
                    guard let id = made.object["id"] as? String else { throw DeliveryError.retryable(MSSays.noId("task").phrase) }
                    return ["task": id]
                })

            case .own(.closeCall), .common(.logCall), .common(.tag), .common(.notify):
                // The call itself is closed after the entities; the MoySklad rules make no other step.
                continue
            }
        }
        return counterpartyId
    }
}

/// CORE-4: the caller's card for the employee whose phone rings (or who dials out): the Phone API call is created at the
/// first ring with a SHOW event; each further ringing extension gets its own SHOW.
struct MSRingingHandler: JobHandler {
    let jobs: MSCallJobs

    func run(_ job: Job, log: AttemptLog) async throws {
        let payload = try JSON.decode(CallJobPayload.self, from: job.payload)
        guard let ctx = try await jobs.context(job, payload, log: log),
              let call = try await jobs.connector.calls.get(tenantId: job.tenantId, id: payload.callId) else { return }
        guard !call.isOver else { return log.note(CallSkip.cardTooLate) }
        if let why = MSCallJobs.skipReason(call, ctx.settings) { return log.note(MSSays.noCard(why)) }
        guard let login = payload.employeeLogin, let user = ctx.userByLogin[login] else {
            return log.note(MSSays.cardUnmapped(login: payload.employeeLogin ?? "?"))
        }
        let api = jobs.connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log)
        var ledger = try await jobs.ledger(ctx, call)
        let ext = MSCallJobs.ext(login: login, call: call, user: user, ctx: ctx)
        if ledger["show.\(ext)"] != nil { return }
        guard ledger["call"] == nil else {
            return try await MSCallJobs.post("SHOW", ext: ext, employee: user, call: call, api: api, ledger: &ledger, mark: "show.\(ext)",
                                             what: .show(ext: ext))
        }
        let sequence = try await MSCallJobs.nextSequence(&ledger)
        let show = MSCallJobs.event("SHOW", ext: ext, sequence: sequence, employee: MSCallJobs.bare(api, "employee", user))
        _ = try await jobs.ensureCall(call, api: api, ledger: &ledger, extra: ["events": [show]], keep: ["show.\(ext)": user])
    }
}

/// The answering extension's card starts its timer (STARTTIME); the cards of the others who rang close (HIDE).
struct MSAnsweredHandler: JobHandler {
    let jobs: MSCallJobs

    func run(_ job: Job, log: AttemptLog) async throws {
        let payload = try JSON.decode(CallJobPayload.self, from: job.payload)
        guard let ctx = try await jobs.context(job, payload, log: log),
              let call = try await jobs.connector.calls.get(tenantId: job.tenantId, id: payload.callId) else { return }
        guard !call.isOver else { return log.note(MSSays.callOver) }
        var ledger = try await jobs.ledger(ctx, call)
        guard ledger["call"] != nil, let login = payload.employeeLogin else { return log.note(MSSays.noCardShown) }
        let api = jobs.connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log)
        let user = ctx.userByLogin[login]
        let ext = MSCallJobs.ext(login: login, call: call, user: user, ctx: ctx)
        if let user, ledger["start.\(ext)"] == nil {
            try await MSCallJobs.post("STARTTIME", ext: ext, employee: user, call: call, api: api, ledger: &ledger, mark: "start.\(ext)",
                                      what: .startTimer(ext: ext))
        }
        let shown = ledger.kept.keys.filter { $0.hasPrefix("show.") }.map { String($0.dropFirst("show.".count)) }.sorted()
        for other in shown where other != ext && ledger["hide.\(other)"] == nil && ledger["start.\(other)"] == nil {
            try await MSCallJobs.post("HIDE", ext: other, employee: nil, call: call, api: api, ledger: &ledger, mark: "hide.\(other)",
                                      what: .hide(ext: other))
        }
    }
}

/// MS-3/MS-4: the finished call: the counterparty, order and task by the rules, then the Phone API call closed with its
/// end, result, responsible, counterparty and recording, and every card hidden.
struct MSFinishedHandler: JobHandler {
    let jobs: MSCallJobs

    func run(_ job: Job, log: AttemptLog) async throws {
        let connector = jobs.connector
        guard var run = try await FinishedCallJob<MSSettings>.load(
            job, crm: MoySklad.title, db: connector.env.db, vault: connector.env.vault, log: log, afterWrite: connector.afterWrite,
            skip: { call, settings in MSCallJobs.skipReason(call, settings).map { MSSays.nothingSent($0).phrase } }) else { return }
        let (ctx, call, facts) = (run.context, run.call, run.facts)
        if run.ledger["end"] != nil { return }
        let api = connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log)

        // The counterparties are reached for a client's number, through the JSON API; what MoySklad knew is kept.
        var caller: MSCaller?
        if call.direction != .internal, let client = call.client, client.last10 != nil, !ctx.settings.ignores(client: client) {
            if try await api.hasJSONAccess() {
                caller = try await run.knowledge(MSCaller.self) { try await jobs.counterparty(client, api: api) ?? MSCaller() }
            } else {
                log.note(MSSays.noJSONForEntities)
            }
        }
        let plan = MSCallRules.plan(facts, caller?.knowledge, ctx.settings)
        run.journal(plan, log: log)
        guard let close = plan.steps.lazy.compactMap({ step -> (employee: String?, comment: String)? in
            if case .own(.closeCall(let employee, let comment)) = step { return (employee, comment) } else { return nil }
        }).first else {
            throw DeliveryError.permanent(MSSays.noResponsible.phrase)
        }
        var ledger = run.ledger
        var counterpartyId: String?
        if let caller, let client = call.client {
            counterpartyId = try await jobs.entities(plan, call, client: client, caller: caller, ctx: ctx, api: api, ledger: &ledger, log: log)
        }

        let employee = close.employee
        var end: [String: Any] = [
            "endTime": MSTime.format(call.endedAt ?? Date()),
            "comment": close.comment,
        ]
        if let employee {
            end["employee"] = MSCallJobs.bare(api, "employee", employee)
            if let ext = ctx.employeeByUser[employee]?.extension_, !ext.isEmpty { end["extension"] = ext }
        }
        if let counterpartyId { end["counterparty"] = MSCallJobs.bare(api, "counterparty", counterpartyId) }
        if let url = call.recordingURL, !url.isEmpty { end["recordUrl"] = [url] }
        if ledger["call"] == nil {
            // Nobody's card was shown: the call is made whole at once.
            _ = try await jobs.ensureCall(call, api: api, ledger: &ledger, extra: end, keep: ["end": "1"])
            return
        }
        if ledger.kept.keys.contains(where: { $0.hasPrefix("show.") }) {
            end["events"] = [MSCallJobs.event("HIDE_ALL", ext: nil, sequence: try await MSCallJobs.nextSequence(&ledger), employee: nil)]
        }
        try await ledger.once("end", find: { _ in nil }, write: {
            _ = try await api.phone(.PUT, MSCallJobs.path(call), end, what: .finishCall)
            return ["end": "1"]
        })
    }
}
