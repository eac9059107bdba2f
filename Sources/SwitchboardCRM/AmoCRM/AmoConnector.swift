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
    let db: any Database
    let vault: CredentialVault
    let credentials: CredentialStore
    let integrations: IntegrationStore
    let calls: CallStore
    let entities: CRMEntityStore
    /// A test-only seam, nil in production: called with a write's kind after amoCRM answered it and before its id is
    /// kept (a crash at the worst moment). See `WriteLedger`.
    var afterWrite: (@Sendable (String) throws -> Void)? = nil
    let oauth: @Sendable () -> AmoOAuthApp?
    let http: OutboundHTTP
    /// Counts amoCRM answers by status for the metrics.
    let observe: @Sendable (String) -> Void
    /// Paces requests per amoCRM account (shared across instances on PostgreSQL).
    let limiter: any RateLimiter

    /// `oauth` gives the installation's OAuth application (it knows the public address only once the server listens).
    public init(db: any Database, vault: CredentialVault, http: OutboundHTTP,
                observe: @escaping @Sendable (String) -> Void = { _ in }, limiter: (any RateLimiter)? = nil,
                oauth: @escaping @Sendable () -> AmoOAuthApp?) {
        self.db = db
        self.vault = vault
        self.observe = observe
        self.limiter = limiter ?? RateLimiters.make(for: db)
        self.credentials = CredentialStore(db: db, vault: vault)
        self.integrations = IntegrationStore(db: db)
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
                  observe: observe, limiter: limiter)
    }

    /// Everything a call job needs, read when it runs (so a switched-off integration stops at once).
    struct Context {
        let integration: Integration
        let settings: AmoSettings
        let api: AmoAPI
        /// PBX login → amoCRM user id, through the employee mapping.
        let userByLogin: [String: Int]
        /// The same mapping as the neutral call facts read it.
        let userIds: [String: String]
    }

    func context(_ job: Job, _ payload: CallJobPayload, log: AttemptLog) async throws -> Context? {
        guard let ctx = try await IntegrationContext<AmoSettings>.load(tenantId: job.tenantId, integrationId: payload.integrationId,
                                                                       crm: AmoCRM.title, db: db, vault: vault, log: log) else { return nil }
        return context(ctx, log: log)
    }

    func context(_ ctx: IntegrationContext<AmoSettings>, log: AttemptLog) -> Context {
        Context(integration: ctx.integration, settings: ctx.settings,
                api: AmoAPI(client: client(tenantId: ctx.integration.tenantId, credential: ctx.credential, log: log)),
                userByLogin: ctx.userByLogin.compactMapValues { Int($0) },
                userIds: ctx.userByLogin.filter { Int($0.value) != nil })
    }

    /// Asks amoCRM to tell `destination` when a contact changes (its responsible user above all), so the
    /// routing cache never answers with a manager who no longer has the client; and, with `deals`, when a lead is
    /// added or changes (CORE-16). One subscription per destination holds both.
    public func subscribeWebhook(integration: Integration, destination: String, contacts: Bool = true, deals: Bool = false) async throws {
        guard let credentialId = integration.credentialId,
              let credential = try await credentials.get(tenantId: integration.tenantId, id: credentialId) else { return }
        let settings = (contacts ? ["responsible_contact", "update_contact"] : []) + (deals ? Self.leadWebhookSettings : [])
        guard !settings.isEmpty else { return }
        _ = try await client(tenantId: integration.tenantId, credential: credential, log: nil)
            .call(.POST, "/api/v4/webhooks", json: ["destination": destination, "settings": settings],
                  what: deals ? .subscribeContactsAndDeals : .subscribeContacts)
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
            log.note(CallSkip.cardTooLate)
            return
        }
        guard let login = payload.employeeLogin, let user = ctx.userByLogin[login] else {
            log.note(AmoSays.cardUnmapped(login: payload.employeeLogin ?? "?"))
            return
        }
        guard let phone = call.client?.e164 else {
            log.note(CallSkip.cardNumberHidden)
            return
        }
        _ = try await ctx.api.client.call(.POST, "/api/v2/events", json: [
            "add": [["type": "phone_call", "phone_number": phone, "users": [user]]],
        ], what: .showCall)
        // The call journal reads the cards shown from here, as it does for every CRM.
        try await connector.entities.remember(integrationId: ctx.integration.id, scope: call.id, kind: "shown.\(user)", crmId: "1")
    }
}

/// A finished call: find the caller, decide by the rules, make the entities, log the call, set the task.
struct AmoCallFinishedHandler: JobHandler {
    let connector: AmoConnector

    func run(_ job: Job, log: AttemptLog) async throws {
        // The integration, the call, the skips (hidden number, internal call), the settings checked and the call's
        // ledger: every write is made at most once per call, across crashes: an intent before, the ids after, and on a
        // retry that finds an intent without ids, a look in amoCRM (AmoReconcile) before writing again (decision 0004).
        guard var run = try await FinishedCallJob<AmoSettings>.load(
            job, crm: AmoCRM.title, db: connector.db, vault: connector.vault, log: log, afterWrite: connector.afterWrite,
            skip: FinishedCallJob.hiddenOrInternal(crm: AmoCRM.title)) else { return }
        let call = run.call
        guard let client = call.client else { return }
        let ctx = connector.context(run.context, log: log)

        // What amoCRM knew of the caller when the call ended; kept, so a retry decides the same way.
        let caller = try await run.knowledge(AmoCallerInfo.self) {
            guard let contact = try await ctx.api.contact(byPhone: client) else { return AmoCallerInfo() }
            return AmoCallerInfo(contactId: contact.id, contactResponsibleUserId: contact.responsibleUserId,
                                 openLeadId: try await ctx.api.openLead(among: contact.leadIds))
        }
        var ledger = run.ledger

        let facts = CallFacts.make(call, userByLogin: ctx.userIds)
        let plan = AmoRules.plan(facts, caller.knowledge, ctx.settings)
        run.journal(plan, log: log)

        var contactId = caller.contactId ?? (ledger["contact"] ?? ledger["unsorted.contact"]).flatMap { Int($0) }
        var leadId = caller.openLeadId.flatMap { open in plan.steps.contains(.own(.reuseLead(leadId: open))) ? open : nil }
            ?? (ledger["lead"] ?? ledger["unsorted"]).flatMap { Int($0) }
        let name = CallRuleKit.callName(facts)
        let look = AmoReconcile(api: ctx.api, client: client, callId: call.id)

        for step in plan.steps {
            switch step {
            case .common(.createContact(let who, _, let tags)):
                guard let responsible = who.flatMap({ Int($0) }) else { continue }
                let id = try await ledger.once("contact", find: { _ in try await look.contact() }, write: {
                    let answer = try await ctx.api.client.call(.POST, "/api/v4/contacts", json: [
                        Self.contactBody(client, responsible: responsible, tags: tags, requestId: "contact"),
                    ], what: .createContact)
                    return ["contact": String(try Self.firstId(answer, "contacts"))]
                })
                contactId = id.flatMap { Int($0) } ?? contactId

            case .own(.createLead(let pipeline, let status, let responsible, let tags, let withNewContact)):
                var lead: [String: Any] = ["name": name, "pipeline_id": pipeline, "status_id": status,
                                           "responsible_user_id": responsible, "request_id": "lead"]
                var embedded: [String: Any] = [:]
                if !tags.isEmpty { embedded["tags"] = tags.map { ["name": $0] } }
                let existing = withNewContact ? nil : contactId
                let id = try await ledger.once("lead", find: { since in
                    try await look.lead(contactId: existing, name: name, pipeline: pipeline, since: since)
                }, write: {
                    if withNewContact {
                        embedded["contacts"] = [Self.contactBody(client, responsible: responsible, tags: tags, requestId: nil)]
                        lead["_embedded"] = embedded
                        // One request makes both: the deal with its new contact.
                        let answer = try await ctx.api.client.call(.POST, "/api/v4/leads/complex", json: [lead],
                                                                   what: .createContactAndDeal)
                        guard let first = (answer.json as? [[String: Any]])?.first, let id = first["id"] as? Int else {
                            throw DeliveryError.retryable(AmoSays.noId("leads/complex").phrase)
                        }
                        var ids = ["lead": String(id)]
                        if let c = first["contact_id"] as? Int { ids["contact"] = String(c) }
                        return ids
                    }
                    if let existing { embedded["contacts"] = [["id": existing]] }
                    lead["_embedded"] = embedded
                    let answer = try await ctx.api.client.call(.POST, "/api/v4/leads", json: [lead], what: .createDeal)
                    return ["lead": String(try Self.firstId(answer, "leads"))]
                })
                leadId = id.flatMap { Int($0) } ?? leadId
                if withNewContact { contactId = ledger["contact"].flatMap { Int($0) } ?? contactId }

            case .own(.createUnsorted(let pipeline, let responsible)):
                try await ledger.once("unsorted", find: { _ in try await look.unsorted(pipeline: pipeline) }, write: {
                    try await unsorted(ctx, call: call, client: client, pipeline: pipeline, responsible: responsible,
                                       contactId: contactId, name: name)
                })
                leadId = ledger["unsorted"].flatMap { Int($0) } ?? leadId
                contactId = ledger["unsorted.contact"].flatMap { Int($0) } ?? contactId

            case .own(.reuseLead(let id)):
                leadId = id

            case .common(.logCall), .own(.logCallOrUnsorted):
                guard let (responsible, fallback) = Self.callLog(step) else { continue }
                if ledger["call"] != nil { continue }
                // An attempt that already fell back to Unsorted goes on there (the entry's own lookup finds it).
                let fellBack = fallback && ledger.intent("unsorted") != nil
                let logged = fellBack ? nil : try await ledger.once("call", find: { _ in try await look.callNote() }, write: {
                    let answer = try await ctx.api.client.call(.POST, "/api/v4/calls", json: [[
                        "direction": call.direction == .outbound ? "outbound" : "inbound",
                        "uniq": call.id, "duration": call.talkSec ?? 0, "source": "Switchboard", "link": call.recordingURL ?? "",
                        "phone": client.display, "call_status": Self.callStatus(call.result), "call_result": Self.resultText(call.result),
                        "call_responsible": responsible, "responsible_user_id": responsible, "created_by": responsible,
                        "created_at": Int(call.createdAt.timeIntervalSince1970), "request_id": "call",
                    ]], what: .logCall, accept: [400])
                    if answer.status == 400 && !AmoClient.explain(answer).contains("Entity not found") {
                        throw DeliveryError.permanent(AmoSays.refusedToLogCall(AmoClient.explain(answer)).phrase)
                    }
                    // No contact with the number: amoCRM made nothing.
                    return Self.firstIdOrNil(answer, "calls").map { ["call": String($0)] } ?? [:]
                })
                if logged != nil { continue }
                if fallback {
                    log.note(AmoSays.noContactUnsorted(number: client.display))
                    try await ledger.once("unsorted", find: { _ in try await look.unsorted(pipeline: nil) }, write: {
                        try await unsorted(ctx, call: call, client: client, pipeline: nil, responsible: responsible,
                                           contactId: nil, name: name)
                    })
                    if let entry = ledger["unsorted"] { try await ledger.keep(["call": entry]) }
                    leadId = ledger["unsorted"].flatMap { Int($0) } ?? leadId
                    contactId = ledger["unsorted.contact"].flatMap { Int($0) } ?? contactId
                } else {
                    log.note(AmoReason.notLoggedNoContact(number: client.display))
                }

            case .common(.createTask(let who, let text, let dueMinutes)):
                guard let responsible = who.flatMap({ Int($0) }) else { continue }
                let entity: (type: String, id: Int)? = leadId.map { ("leads", $0) } ?? contactId.map { ("contacts", $0) }
                try await ledger.once("task", find: { since in
                    try await look.task(text: text, responsible: responsible, entityType: entity?.type, entityId: entity?.id, since: since)
                }, write: {
                    var task: [String: Any] = ["text": text, "task_type_id": 1,
                                               "complete_till": Int(Date().addingTimeInterval(Double(dueMinutes) * 60).timeIntervalSince1970),
                                               "responsible_user_id": responsible, "request_id": "task"]
                    if let entity { task["entity_type"] = entity.type; task["entity_id"] = entity.id }
                    let answer = try await ctx.api.client.call(.POST, "/api/v4/tasks", json: [task], what: .createTask)
                    return ["task": String(try Self.firstId(answer, "tasks"))]
                })

            case .common(.updateContactFields), .common(.tag), .common(.notify):
                // The amoCRM rules make none of these.
                continue
            }
        }
    }

    /// The call log step as amoCRM makes it: who made the call, and whether Unsorted takes a call amoCRM has no
    /// contact for.
    static func callLog(_ step: PlanStep<AmoStep>) -> (responsible: Int, fallback: Bool)? {
        switch step {
        case .common(.logCall(let who, _)): return who.flatMap { Int($0) }.map { ($0, false) }
        case .own(.logCallOrUnsorted(let who)): return (who, true)
        default: return nil
        }
    }

    /// Makes the Unsorted entry; its ids as `WriteLedger` keeps them (the entry by its deal, and its contact).
    func unsorted(_ ctx: AmoConnector.Context, call: Call, client: PhoneNumber, pipeline: Int?, responsible: Int, contactId: Int?,
                  name: String) async throws -> [String: String] {
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
        let answer = try await ctx.api.client.call(.POST, "/api/v4/leads/unsorted/sip", json: [item], what: .createUnsorted)
        guard let entry = ((answer.json as? [String: Any])?["_embedded"] as? [String: Any])?["unsorted"] as? [[String: Any]],
              let embedded = entry.first?["_embedded"] as? [String: Any],
              let lead = (embedded["leads"] as? [[String: Any]])?.first?["id"] as? Int else {
            throw DeliveryError.retryable(AmoSays.noLead("leads/unsorted/sip").phrase)
        }
        var ids = ["unsorted": String(lead)]
        if let contact = (embedded["contacts"] as? [[String: Any]])?.first?["id"] as? Int ?? contactId { ids["unsorted.contact"] = String(contact) }
        return ids
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
            throw DeliveryError.retryable(AmoSays.noId(key).phrase)
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
