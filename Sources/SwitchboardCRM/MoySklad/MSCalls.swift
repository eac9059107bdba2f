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
    public static func responsible(direction: CallDirection, answered: Bool, talkerUsers: [String], dialler: String?,
                                   settings: MSSettings) -> String? {
        if direction == .outbound { return dialler ?? talkerUsers.first ?? settings.defaultResponsible }
        guard answered, !talkerUsers.isEmpty else { return settings.defaultResponsible }
        return (settings.responsibleTalker == .last ? talkerUsers.last : talkerUsers.first) ?? settings.defaultResponsible
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

/// What MoySklad knew of the caller when the call ended; kept, so a retry decides the same way.
struct MSCaller: Codable {
    var id: String?
    var ownerId: String?
    var name: String?
}

/// The call jobs of MoySklad: the Phone API call with its popups, the counterparty, order and task by the rules.
struct MSCallJobs {
    let connector: MSConnector

    func context(_ job: Job, _ payload: CallJobPayload, log: AttemptLog) async throws -> IntegrationContext<MSSettings>? {
        try await IntegrationContext<MSSettings>.load(tenantId: job.tenantId, integrationId: payload.integrationId, crm: "MoySklad",
                                                      db: connector.env.db, vault: connector.env.vault, log: log)
    }

    /// The call's writes in this integration (`afterWrite` is the connector's test seam).
    func ledger(_ ctx: IntegrationContext<MSSettings>, _ call: Call) async throws -> WriteLedger {
        try await WriteLedger.open(store: connector.entities, owner: ctx.integration.id, scope: call.id, afterWrite: connector.afterWrite)
    }

    /// Whether this integration logs the call at all (CORE-11 lines, MS-5 internal calls); the reason when not.
    static func skipReason(_ call: Call, _ settings: MSSettings) -> String? {
        if !settings.takes(line: call.lineNumber) {
            return "the call came on \(call.lineNumber ?? "?"), not on a line of this integration (CORE-11)"
        }
        switch call.direction {
        case .inbound, .outbound: break
        case .internal where settings.showInternalCalls: break
        case .internal: return "internal calls are not logged (\"Показывать внутренние звонки\" is off, MS-5)"
        case .unknown: return "the call's direction is unknown"
        }
        guard let raw = call.client?.raw, !raw.filter(\.isNumber).isEmpty else { return "the other party's number is hidden" }
        return nil
    }

    /// The number MoySklad shows: E.164 for a client, the extension for a colleague.
    static func number(_ call: Call) -> String { call.client?.e164 ?? call.client?.raw ?? "" }

    /// The MoySklad employee of the employee who dialled an outgoing call (its first leg).
    static func dialler(of call: Call, userByLogin: [String: String]) -> String? {
        guard call.direction == .outbound, let leg = call.legs.min(by: { $0.startedAt < $1.startedAt }) else { return nil }
        return [leg.employeeLogin, leg.extension_, leg.id, call.final?.employeeLogin].lazy.compactMap { $0 }
            .compactMap { userByLogin[$0] }.first
    }

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
                     mark: String, what: String) async throws {
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
            let made = try await api.phone(.POST, "/call", body, what: "create the call")
            guard let id = made.object["id"] as? String else { throw DeliveryError.retryable("MoySklad's answer to POST /call has no id") }
            return keep.merging(["call": id]) { a, _ in a }
        })
    }

    // MARK: entities (MS-3, CORE-7…CORE-13)

    /// The counterparty with this number: `search=` finds it however the number is written, the last ten digits decide.
    func counterparty(_ client: PhoneNumber, api: MoySkladClient) async throws -> MSCaller? {
        guard let last10 = client.last10 else { return nil }
        let found = try await api.json(.GET, "/entity/counterparty?search=\(last10)&limit=100", what: "find the caller")
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
            try await api.json(.GET, "/entity/organization?limit=1", what: "read the organization").rows.first?["id"] as? String
        }
    }

    func stateId(ctx: IntegrationContext<MSSettings>, api: MoySkladClient) async throws -> String? {
        try await stateId(integrationId: ctx.integration.id, name: ctx.settings.order.state, api: api)
    }

    /// The id of the order status named `name` (read once per integration and name).
    func stateId(integrationId: String, name: String?, api: MoySkladClient) async throws -> String? {
        guard let name, !name.isEmpty else { return nil }
        return try await remembered("state:" + name, integrationId: integrationId) {
            let meta = try await api.json(.GET, "/entity/customerorder/metadata", what: "read the order statuses")
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

    /// Counterparty, extra fields, order and task for a finished call, each at most once; the counterparty's id.
    func entities(_ call: Call, client: PhoneNumber, responsible: String, ctx: IntegrationContext<MSSettings>, api: MoySkladClient,
                  ledger: inout WriteLedger, log: AttemptLog) async throws -> String? {
        let settings = ctx.settings
        let rule = settings.rule(direction: call.direction, answered: call.result == .answered)
        let caller: MSCaller
        if let stored = ledger["caller"], let known = try? JSON.decode(MSCaller.self, from: stored) {
            caller = known
        } else {
            caller = try await counterparty(client, api: api) ?? MSCaller()
            try await ledger.keep(["caller": JSON.string(caller)])
        }
        let extra = settings.extraValues(line: call.lineNumber, client: client)
        var counterpartyId = caller.id ?? ledger["counterparty"]
        if caller.id == nil && rule.createCounterparty {
            counterpartyId = try await ledger.once("counterparty", find: { _ in
                try await counterparty(client, api: api)?.id.map { ["counterparty": $0] }
            }, write: {
                var body: [String: Any] = ["name": client.display, "phone": client.display, "companyType": "individual",
                                           "owner": api.ref("employee", responsible),
                                           "description": "Создан по звонку (\(MSCallRules.marker(call.id)))"]
                if !extra.isEmpty { body["attributes"] = Self.attributes(extra, api: api) }
                let made = try await api.json(.POST, "/entity/counterparty", body, what: "create the counterparty")
                guard let id = made.object["id"] as? String else { throw DeliveryError.retryable("MoySklad's answer has no counterparty id") }
                return ["counterparty": id]
            }) ?? counterpartyId
        } else if let existing = caller.id, settings.extraFieldsUpdateAlways, !extra.isEmpty {
            try await ledger.once("extra", find: { _ in nil }, write: {
                _ = try await api.json(.PUT, "/entity/counterparty/\(existing)", ["attributes": Self.attributes(extra, api: api)],
                                       what: "update the counterparty's extra fields")
                return ["extra": "1"]
            })
        } else if caller.id == nil {
            log.note("MoySklad has no counterparty for \(client.display) and the rule makes none")
        }
        let what = MSCallRules.summary(direction: call.direction, result: call.result, talkSec: call.talkSec ?? 0)
        let marker = MSCallRules.marker(call.id)
        if rule.createOrder {
            if let agent = counterpartyId {
                guard let organization = try await organization(ctx: ctx, api: api) else {
                    throw DeliveryError.permanent("the MoySklad account has no organization for the order")
                }
                let state = try await stateId(ctx: ctx, api: api)
                if settings.order.state != nil && state == nil {
                    log.note("MoySklad has no order status \"\(settings.order.state ?? "")\": the order gets none")
                }
                let agentHref = "\(api.root)/api/remap/1.2/entity/counterparty/\(agent)"
                try await ledger.once("order", find: { _ in
                    Self.marked(try await api.json(.GET, "/entity/customerorder?filter=agent=\(agentHref)", what: "look for the call's order").rows,
                                marker).map { ["order": $0] }
                }, write: {
                    var body: [String: Any] = ["organization": api.ref("organization", organization), "agent": api.ref("counterparty", agent),
                                               "owner": api.ref("employee", responsible),
                                               "description": "\(what), \(client.display) (\(marker))"]
                    if let state { body["state"] = Self.stateRef(api, state) }
                    let made = try await api.json(.POST, "/entity/customerorder", body, what: "create the order")
                    guard let id = made.object["id"] as? String else { throw DeliveryError.retryable("MoySklad's answer has no order id") }
                    return ["order": id]
                })
            } else {
                log.note("no order: the caller has no counterparty in MoySklad")
            }
        }
        if rule.createTask {
            let text = (call.direction == .outbound ? "Связаться с клиентом: " : "Перезвонить: ") + "\(what), \(client.display) (\(marker))"
            try await ledger.once("task", find: { _ in
                Self.marked(try await api.json(.GET, "/entity/task?search=\(call.id)", what: "look for the call's task").rows, marker)
                    .map { ["task": $0] }
            }, write: {
                var body: [String: Any] = ["description": text, "assignee": api.ref("employee", responsible), "done": false,
                                           "dueToDate": MSTime.format(Date().addingTimeInterval(Double(settings.taskDueMinutes) * 60))]
                if let agent = counterpartyId { body["agent"] = api.ref("counterparty", agent) }
                let made = try await api.json(.POST, "/entity/task", body, what: "create the task")
                guard let id = made.object["id"] as? String else { throw DeliveryError.retryable("MoySklad's answer has no task id") }
                return ["task": id]
            })
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
        guard !call.isOver else { return log.note("no card: the call ended before it could be shown") }
        if let why = MSCallJobs.skipReason(call, ctx.settings) { return log.note("no card: " + why) }
        guard let login = payload.employeeLogin, let user = ctx.userByLogin[login] else {
            return log.note("no card: employee \(payload.employeeLogin ?? "?") is not mapped to a MoySklad employee (CORE-3)")
        }
        let api = jobs.connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log)
        var ledger = try await jobs.ledger(ctx, call)
        let ext = MSCallJobs.ext(login: login, call: call, user: user, ctx: ctx)
        if ledger["show.\(ext)"] != nil { return }
        guard ledger["call"] == nil else {
            return try await MSCallJobs.post("SHOW", ext: ext, employee: user, call: call, api: api, ledger: &ledger, mark: "show.\(ext)",
                                             what: "show the call to \(ext)")
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
        guard !call.isOver else { return log.note("the call is over: its end closes the cards") }
        var ledger = try await jobs.ledger(ctx, call)
        guard ledger["call"] != nil, let login = payload.employeeLogin else { return log.note("no card was shown for this call") }
        let api = jobs.connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log)
        let user = ctx.userByLogin[login]
        let ext = MSCallJobs.ext(login: login, call: call, user: user, ctx: ctx)
        if let user, ledger["start.\(ext)"] == nil {
            try await MSCallJobs.post("STARTTIME", ext: ext, employee: user, call: call, api: api, ledger: &ledger, mark: "start.\(ext)",
                                      what: "start the call's timer for \(ext)")
        }
        let shown = ledger.kept.keys.filter { $0.hasPrefix("show.") }.map { String($0.dropFirst("show.".count)) }.sorted()
        for other in shown where other != ext && ledger["hide.\(other)"] == nil && ledger["start.\(other)"] == nil {
            try await MSCallJobs.post("HIDE", ext: other, employee: nil, call: call, api: api, ledger: &ledger, mark: "hide.\(other)",
                                      what: "hide the call from \(other)")
        }
    }
}

/// MS-3/MS-4: the finished call: the counterparty, order and task by the rules, then the Phone API call closed with its
/// end, result, responsible, counterparty and recording, and every card hidden.
struct MSFinishedHandler: JobHandler {
    let jobs: MSCallJobs

    func run(_ job: Job, log: AttemptLog) async throws {
        let payload = try JSON.decode(CallJobPayload.self, from: job.payload)
        guard let ctx = try await jobs.context(job, payload, log: log) else { return }
        guard let call = try await jobs.connector.calls.get(tenantId: job.tenantId, id: payload.callId) else {
            throw DeliveryError.permanent("call \(payload.callId) not found")
        }
        if let why = MSCallJobs.skipReason(call, ctx.settings) { return log.note("nothing sent to MoySklad: " + why) }
        let problems = ctx.settings.validate()
        if !problems.isEmpty {
            throw DeliveryError.permanent("the MoySklad settings are incomplete: " + problems.map(\.description).joined(separator: "; "))
        }
        let api = jobs.connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log)
        var ledger = try await jobs.ledger(ctx, call)
        if ledger["end"] != nil { return }
        let answered = call.result == .answered
        let talkers = call.talkers.compactMap { ctx.userByLogin[$0] }
        let dialler = MSCallJobs.dialler(of: call, userByLogin: ctx.userByLogin)
        guard let responsible = MSCallRules.responsible(direction: call.direction, answered: answered, talkerUsers: talkers,
                                                        dialler: dialler, settings: ctx.settings) else {
            throw DeliveryError.permanent("no MoySklad employee is responsible for this call: set the default responsible")
        }
        if call.direction == .inbound && answered && talkers.isEmpty {
            log.note("no talker is mapped to a MoySklad employee: the call goes to the default responsible")
        }

        var counterpartyId: String?
        if call.direction != .internal, let client = call.client, client.last10 != nil {
            if ctx.settings.ignores(client: client) {
                log.note("\(client.display) is in the list of numbers without entities (CORE-11): only the call is logged")
            } else if try await !api.hasJSONAccess() {
                log.note("the credentials have no JSON API access: counterparties, orders and tasks are not made")
            } else {
                counterpartyId = try await jobs.entities(call, client: client, responsible: responsible, ctx: ctx, api: api,
                                                         ledger: &ledger, log: log)
            }
        }

        // Who talked (or dialled) is the call's employee; a missed incoming call has none.
        let employee = call.direction == .outbound ? dialler ?? responsible : answered ? talkers.last : nil
        var end: [String: Any] = [
            "endTime": MSTime.format(call.endedAt ?? Date()),
            "comment": MSCallRules.summary(direction: call.direction, result: call.result, talkSec: call.talkSec ?? 0),
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
            _ = try await api.phone(.PUT, MSCallJobs.path(call), end, what: "finish the call")
            return ["end": "1"]
        })
    }
}
