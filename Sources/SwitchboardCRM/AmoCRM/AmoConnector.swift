import AsyncHTTPClient
import Foundation
import Logging
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardOutbound
import SwitchboardPBX
import SwitchboardStorage

/// The amoCRM connector: job handlers for calls, and the personal-manager lookup.
public struct AmoConnector: Sendable {
    let credentials: CredentialStore
    let integrations: IntegrationStore
    let pbx: PBXStore
    let calls: CallStore
    let entities: CRMEntityStore
    let oauth: @Sendable () -> AmoOAuthApp?
    let http: OutboundHTTP
    /// Counts amoCRM answers by status for the metrics.
    let observe: @Sendable (String) -> Void

    /// `oauth` gives the installation's OAuth application (it knows the public address only once the server listens).
    public init(db: any Database, vault: CredentialVault, http: OutboundHTTP,
                observe: @escaping @Sendable (String) -> Void = { _ in }, oauth: @escaping @Sendable () -> AmoOAuthApp?) {
        self.observe = observe
        self.credentials = CredentialStore(db: db, vault: vault)
        self.integrations = IntegrationStore(db: db)
        self.pbx = PBXStore(db: db, vault: vault)
        self.calls = CallStore(db: db)
        self.entities = CRMEntityStore(db: db)
        self.oauth = oauth
        self.http = http
    }

    public var handlers: [String: any JobHandler] {
        [CallJobKind.finished(.amocrm): AmoCallFinishedHandler(connector: self),
         CallJobKind.ringing(.amocrm): AmoRingingHandler(connector: self)]
    }

    public func client(tenantId: String, credential: CRMCredential, log: AttemptLog?) -> AmoClient {
        AmoClient(tenantId: tenantId, credential: credential, credentials: credentials, oauth: oauth(), http: http, log: log,
                  observe: observe)
    }

    /// Everything a call job needs, read when it runs (so a switched-off integration stops at once).
    struct Context {
        let integration: Integration
        let settings: AmoSettings
        let api: AmoAPI
        /// PBX login → amoCRM user id, through the employee mapping.
        let userByLogin: [String: Int]
    }

    func context(_ job: Job, _ payload: CallJobPayload, log: AttemptLog) async throws -> Context? {
        guard let integration = try await integrations.get(tenantId: job.tenantId, id: payload.integrationId) else {
            log.note("the integration was deleted; nothing to do")
            return nil
        }
        guard integration.active else {
            log.note("the integration is switched off (CORE-2); nothing sent to amoCRM")
            return nil
        }
        guard let credentialId = integration.credentialId,
              let credential = try await credentials.get(tenantId: job.tenantId, id: credentialId) else {
            throw DeliveryError.permanent("the integration has no amoCRM credentials")
        }
        let settings: AmoSettings
        do {
            settings = try JSON.decode(AmoSettings.self, from: JSON.string(integration.settings))
        } catch {
            throw DeliveryError.permanent("the amoCRM settings cannot be read: \(error)")
        }
        let employees = try await pbx.employees(tenantId: job.tenantId)
        var userByLogin: [String: Int] = [:]
        for m in try await integrations.mappings(tenantId: job.tenantId, integrationId: integration.id) {
            if let e = employees.first(where: { $0.id == m.employeeId }), let uid = Int(m.crmUserId) {
                userByLogin[e.login] = uid
                if let ext = e.extension_ { userByLogin[ext] = userByLogin[ext] ?? uid }
            }
        }
        return Context(integration: integration, settings: settings,
                       api: AmoAPI(client: client(tenantId: job.tenantId, credential: credential, log: log)),
                       userByLogin: userByLogin)
    }

    /// Asks amoCRM to tell `destination` when a contact changes (its responsible user above all), so the
    /// routing cache never answers with a manager who no longer has the client.
    public func subscribeWebhook(integration: Integration, destination: String) async throws {
        guard let credentialId = integration.credentialId,
              let credential = try await credentials.get(tenantId: integration.tenantId, id: credentialId) else { return }
        _ = try await client(tenantId: integration.tenantId, credential: credential, log: nil)
            .call(.POST, "/api/v4/webhooks", json: ["destination": destination, "settings": ["responsible_contact", "update_contact"]],
                  what: "subscribe to contact changes")
    }

    /// The personal-manager lookup (AMO-5) for routing.
    public func managerLookup() -> any ManagerLookup { AmoManagerLookup(connector: self) }
}

/// CORE-4: the incoming-call notification for the employee whose phone rings.
struct AmoRingingHandler: JobHandler {
    let connector: AmoConnector

    func run(_ job: Job, log: AttemptLog) async throws {
        let payload = try JSON.decode(CallJobPayload.self, from: job.payload)
        guard let ctx = try await connector.context(job, payload, log: log),
              let call = try await connector.calls.get(tenantId: job.tenantId, id: payload.callId) else { return }
        guard !call.isOver else {
            log.note("no card: the call ended before it could be shown")
            return
        }
        guard let login = payload.employeeLogin, let user = ctx.userByLogin[login] else {
            log.note("no card: employee \(payload.employeeLogin ?? "?") is not mapped to an amoCRM user (CORE-3)")
            return
        }
        guard let phone = call.client?.e164 else {
            log.note("no card: the caller's number is hidden")
            return
        }
        _ = try await ctx.api.client.call(.POST, "/api/v2/events", json: [
            "add": [["type": "phone_call", "phone_number": phone, "users": [user]]],
        ], what: "show the incoming call to the employee")
    }
}

/// A finished call: find the caller, decide by the rules, make the entities, log the call, set the task.
struct AmoCallFinishedHandler: JobHandler {
    let connector: AmoConnector

    func run(_ job: Job, log: AttemptLog) async throws {
        let payload = try JSON.decode(CallJobPayload.self, from: job.payload)
        guard let ctx = try await connector.context(job, payload, log: log) else { return }
        guard let call = try await connector.calls.get(tenantId: job.tenantId, id: payload.callId) else {
            throw DeliveryError.permanent("call \(payload.callId) not found")
        }
        guard let client = call.client, client.last10 != nil else {
            log.note("nothing to do: the caller's number is hidden or not a phone number")
            return
        }
        guard call.direction == .inbound || call.direction == .outbound else {
            log.note("internal calls are not sent to amoCRM")
            return
        }
        let problems = ctx.settings.validate()
        if !problems.isEmpty {
            throw DeliveryError.permanent("the amoCRM settings are incomplete: " + problems.map(\.description).joined(separator: "; "))
        }
        let scope = call.id
        var made = try await connector.entities.all(integrationId: ctx.integration.id, scope: scope)
        func remember(_ kind: String, _ id: Int) async throws {
            made[kind] = String(id)
            try await connector.entities.remember(integrationId: ctx.integration.id, scope: scope, kind: kind, crmId: String(id))
        }

        // What amoCRM knew of the caller when the call ended; kept, so a retry decides the same way.
        let caller: AmoCallerInfo
        if let stored = made["caller"], let info = try? JSON.decode(AmoCallerInfo.self, from: stored) {
            caller = info
        } else {
            var info = AmoCallerInfo()
            if let contact = try await ctx.api.contact(byPhone: client) {
                info = AmoCallerInfo(contactId: contact.id, contactResponsibleUserId: contact.responsibleUserId,
                                     openLeadId: try await ctx.api.openLead(among: contact.leadIds))
            }
            caller = info
            try await connector.entities.remember(integrationId: ctx.integration.id, scope: scope, kind: "caller", crmId: JSON.string(info))
        }

        let facts = AmoCallFacts(callId: call.id, direction: call.direction, answered: call.result == .answered, client: client,
                                 talkerUserIds: call.talkers.compactMap { ctx.userByLogin[$0] }, startedAt: call.createdAt,
                                 talkSec: call.talkSec ?? 0, recordingURL: call.recordingURL, result: call.result)
        let plan = AmoRules.plan(call: facts, caller: caller, settings: ctx.settings)
        for reason in plan.reasons { log.note(reason) }

        var contactId = caller.contactId ?? made["contact"].flatMap { Int($0) }
        var leadId = caller.openLeadId.flatMap { open in plan.steps.contains(.reuseLead(leadId: open)) ? open : nil }
            ?? made["lead"].flatMap { Int($0) }
        let name = "\(call.direction == .outbound ? "Исходящий" : "Входящий") звонок \(client.display)"

        for step in plan.steps {
            switch step {
            case .createContact(let responsible, let tags):
                if made["contact"] != nil { continue }
                let answer = try await ctx.api.client.call(.POST, "/api/v4/contacts", json: [
                    Self.contactBody(client, responsible: responsible, tags: tags, requestId: "contact"),
                ], what: "create the contact")
                let id = try Self.firstId(answer, "contacts")
                try await remember("contact", id)
                contactId = id

            case .createLead(let pipeline, let status, let responsible, let tags, let withNewContact):
                if made["lead"] != nil { continue }
                var lead: [String: Any] = ["name": name, "pipeline_id": pipeline, "status_id": status,
                                           "responsible_user_id": responsible, "request_id": "lead"]
                var embedded: [String: Any] = [:]
                if !tags.isEmpty { embedded["tags"] = tags.map { ["name": $0] } }
                if withNewContact {
                    embedded["contacts"] = [Self.contactBody(client, responsible: responsible, tags: tags, requestId: nil)]
                    lead["_embedded"] = embedded
                    // One request makes both: the deal with its new contact.
                    let answer = try await ctx.api.client.call(.POST, "/api/v4/leads/complex", json: [lead],
                                                               what: "create the contact and the deal")
                    guard let first = (answer.json as? [[String: Any]])?.first, let id = first["id"] as? Int else {
                        throw DeliveryError.retryable("amoCRM's answer to leads/complex has no id")
                    }
                    if let c = first["contact_id"] as? Int {
                        try await remember("contact", c)
                        contactId = c
                    }
                    try await remember("lead", id)
                    leadId = id
                } else {
                    if let contactId { embedded["contacts"] = [["id": contactId]] }
                    lead["_embedded"] = embedded
                    let answer = try await ctx.api.client.call(.POST, "/api/v4/leads", json: [lead], what: "create the deal")
                    let id = try Self.firstId(answer, "leads")
                    try await remember("lead", id)
                    leadId = id
                }

            case .createUnsorted(let pipeline, let responsible):
                if made["unsorted"] != nil { continue }
                let ids = try await unsorted(ctx, call: call, client: client, pipeline: pipeline, responsible: responsible,
                                             contactId: contactId, name: name)
                try await remember("unsorted", ids.lead)
                leadId = ids.lead
                contactId = ids.contact

            case .reuseLead(let id):
                leadId = id

            case .logCall(let responsible, let fallback):
                if made["call"] != nil { continue }
                let answer = try await ctx.api.client.call(.POST, "/api/v4/calls", json: [[
                    "direction": call.direction == .outbound ? "outbound" : "inbound",
                    "uniq": call.id, "duration": facts.talkSec, "source": "Switchboard", "link": call.recordingURL ?? "",
                    "phone": client.display, "call_status": Self.callStatus(call.result), "call_result": Self.resultText(call.result),
                    "call_responsible": responsible, "responsible_user_id": responsible, "created_by": responsible,
                    "created_at": Int(call.createdAt.timeIntervalSince1970), "request_id": "call",
                ]], what: "log the call", accept: [400])
                if answer.status == 400 && !AmoClient.explain(answer).contains("Entity not found") {
                    throw DeliveryError.permanent("amoCRM refused to log the call: \(AmoClient.explain(answer))")
                }
                if let id = Self.firstIdOrNil(answer, "calls") {
                    try await remember("call", id)
                } else if fallback {
                    log.note("amoCRM has no contact for \(client.display): the call goes to Unsorted")
                    let ids = try await unsorted(ctx, call: call, client: client, pipeline: nil, responsible: responsible,
                                                 contactId: nil, name: name)
                    try await remember("call", ids.lead)
                    try await remember("unsorted", ids.lead)
                    leadId = ids.lead
                    contactId = ids.contact
                } else {
                    log.note("the call is not logged: amoCRM has no contact for \(client.display)")
                }

            case .createTask(let responsible):
                if made["task"] != nil { continue }
                var task: [String: Any] = ["text": "Обработать звонок \(client.display)", "task_type_id": 1,
                                           "complete_till": Int(Date().addingTimeInterval(86_400).timeIntervalSince1970),
                                           "responsible_user_id": responsible, "request_id": "task"]
                if let leadId { task["entity_type"] = "leads"; task["entity_id"] = leadId }
                else if let contactId { task["entity_type"] = "contacts"; task["entity_id"] = contactId }
                let answer = try await ctx.api.client.call(.POST, "/api/v4/tasks", json: [task], what: "create the task")
                try await remember("task", try Self.firstId(answer, "tasks"))
            }
        }
    }

    func unsorted(_ ctx: AmoConnector.Context, call: Call, client: PhoneNumber, pipeline: Int?, responsible: Int, contactId: Int?,
                  name: String) async throws -> (lead: Int, contact: Int) {
        let employee = call.legs.first { call.talkers.first == $0.id } ?? call.legs.first
        var item: [String: Any] = [
            "source_uid": call.id, "source_name": "Switchboard", "created_at": Int(call.createdAt.timeIntervalSince1970),
            "metadata": [
                // The caller in both fields: amoCRM swaps `from` and `phone` in the note after acceptance (api-notes A3.3).
                "uniq": call.id, "from": client.display, "phone": employee?.extension_ ?? client.display,
                "called_at": Int(call.createdAt.timeIntervalSince1970), "duration": call.talkSec ?? 0,
                "link": call.recordingURL ?? "", "service_code": "switchboard", "is_call_event_needed": true,
            ] as [String: Any],
            "_embedded": [
                "leads": [["name": name, "responsible_user_id": responsible]],
                "contacts": [contactId.map { ["id": $0] as [String: Any] }
                    ?? Self.contactBody(client, responsible: responsible, tags: [], requestId: nil)],
            ],
            "request_id": "unsorted",
        ]
        if let pipeline { item["pipeline_id"] = pipeline }
        let answer = try await ctx.api.client.call(.POST, "/api/v4/leads/unsorted/sip", json: [item], what: "create the Unsorted entry")
        guard let entry = ((answer.json as? [String: Any])?["_embedded"] as? [String: Any])?["unsorted"] as? [[String: Any]],
              let embedded = entry.first?["_embedded"] as? [String: Any],
              let lead = (embedded["leads"] as? [[String: Any]])?.first?["id"] as? Int else {
            throw DeliveryError.retryable("amoCRM's answer to leads/unsorted/sip has no lead")
        }
        let contact = (embedded["contacts"] as? [[String: Any]])?.first?["id"] as? Int ?? contactId ?? 0
        return (lead, contact)
    }

    static func contactBody(_ client: PhoneNumber, responsible: Int, tags: [String], requestId: String?) -> [String: Any] {
        var c: [String: Any] = ["name": client.display, "responsible_user_id": responsible,
                                "custom_fields_values": [["field_code": "PHONE", "values": [["value": client.display, "enum_code": "WORK"]]]]]
        if !tags.isEmpty { c["_embedded"] = ["tags": tags.map { ["name": $0] }] }
        if let requestId { c["request_id"] = requestId }
        return c
    }

    static func firstIdOrNil(_ answer: AmoClient.Answer, _ key: String) -> Int? {
        (((answer.json as? [String: Any])?["_embedded"] as? [String: Any])?[key] as? [[String: Any]])?.first?["id"] as? Int
    }

    static func firstId(_ answer: AmoClient.Answer, _ key: String) throws -> Int {
        guard let id = firstIdOrNil(answer, key) else {
            throw DeliveryError.retryable("amoCRM's answer has no \(key) id")
        }
        return id
    }

    /// amoCRM's call_status codes (api-notes A3.1).
    static func callStatus(_ r: CallResult) -> Int {
        switch r {
        case .answered: return 4
        case .busy: return 7
        case .notFound: return 5
        default: return 6
        }
    }

    static func resultText(_ r: CallResult) -> String {
        switch r {
        case .answered: return "Разговор состоялся"
        case .busy: return "Номер занят"
        case .notFound: return "Неверный номер"
        default: return "Не дозвонился"
        }
    }
}

/// AMO-5: the caller's personal manager is the responsible user of their contact.
struct AmoManagerLookup: ManagerLookup {
    let connector: AmoConnector

    func responsible(for phone: PhoneNumber, integration: Integration) async throws -> ResponsibleUser? {
        guard let credentialId = integration.credentialId,
              let credential = try await connector.credentials.get(tenantId: integration.tenantId, id: credentialId) else {
            return nil
        }
        let api = AmoAPI(client: connector.client(tenantId: integration.tenantId, credential: credential, log: nil))
        guard let contact = try await api.contact(byPhone: phone) else { return nil }
        return ResponsibleUser(crmUserId: String(contact.responsibleUserId), contactName: contact.name)
    }
}
