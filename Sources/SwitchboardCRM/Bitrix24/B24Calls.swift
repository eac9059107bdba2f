import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// How Bitrix24 sees one call: its telephony fields, decided from the neutral call and the settings (pure).
public enum B24CallRules {
    /// `telephony.externalCall.register`'s TYPE: 1 outgoing, 2 incoming.
    public static func type(_ direction: CallDirection) -> Int { direction == .outbound ? 1 : 2 }

    /// `STATUS_CODE` of `finish` (SIP-like, docs telephony-external-call-finish.md): 200 talked, 304 missed, 486 busy,
    /// 480 no answer on an outgoing call, 603 declined or failed, 404 wrong number, 403 not allowed.
    public static func statusCode(_ result: CallResult, direction: CallDirection) -> String {
        switch result {
        case .answered: return "200"
        case .busy: return "486"
        case .notFound: return "404"
        case .notAllowed: return "403"
        case .failed: return "603"
        case .cancelled: return direction == .outbound ? "603" : "304"
        case .noAnswer, .missed, .pending: return direction == .outbound ? "480" : "304"
        }
    }

    /// Whose call it is in Bitrix24 at the end (`finish`'s USER_ID, responsible for what the call created):
    /// B24-3 incoming answered: the first or last talker; missed: the default responsible; B24-4 outgoing: the dialler,
    /// else the default responsible. A talker who is not mapped gives way to the next mapped one, then the default.
    public static func finisher(_ facts: CallFacts, settings: B24Settings) -> Int? {
        let choice: TalkerChoice = settings.incoming.responsibleTalker == .last ? .last : .first
        let fallback = facts.direction == .outbound ? settings.outgoing.defaultResponsible : settings.incoming.defaultResponsible
        return CallRuleKit.employeeOfCall(mappedToNumbers(facts), choice: choice).flatMap { Int($0) } ?? fallback
    }

    /// The facts with only the employees mapped to a Bitrix24 user id (a number) counted as mapped.
    static func mappedToNumbers(_ facts: CallFacts) -> CallFacts {
        var f = facts
        func numeric(_ p: CallPerson) -> CallPerson { var p = p; p.crmUser = p.crmUser.flatMap { Int($0) == nil ? nil : $0 }; return p }
        f.talkers = f.talkers.map(numeric)
        f.dialler = f.dialler.map(numeric)
        return f
    }

    /// What a finished call does in Bitrix24 (B24-3…B24-5, CORE-5). Pure. The call is registered first if no ring did it,
    /// and the cards of the others who saw it are hidden: both follow from what the call's ledger kept, not from rules.
    public static func plan(_ facts: CallFacts, _ settings: B24Settings) -> Plan<B24Step> {
        guard let user = finisher(facts, settings: settings) else {
            return Plan(reasons: [B24Says.noResponsible.phrase])
        }
        var reasons: [Phrase] = []
        if facts.direction == .inbound && facts.answered && mappedToNumbers(facts).talkerUsers.isEmpty {
            reasons.append(B24Says.noTalkerMapped.phrase)
        }
        let status = statusCode(facts.result, direction: facts.direction)
        let failed = status == "200" ? nil : facts.endStatus.flatMap { $0.isEmpty ? nil : $0 }
        var steps: [PlanStep<B24Step>] = [.own(.finish(user: user, statusCode: status, duration: facts.talkSec, addToChat: settings.chatMessage,
                                                       failedReason: failed))]
        if let url = facts.recordingURL, !url.isEmpty {
            // Bitrix24 takes only names ending in .wav or .mp3 (docs: telephony.externalCall.attachRecord).
            let name = facts.callId + (URL(string: url)?.pathExtension.lowercased() == "wav" ? ".wav" : ".mp3")
            steps.append(.own(.attachRecord(url: url, fileName: name)))
        }
        let utm = settings.utmFields(line: facts.virtualNumber)
        if !utm.isEmpty { steps.append(.own(.setUTM(utm))) }
        return Plan(steps: steps, reasons: reasons)
    }

    /// Whether an unknown caller gets a new lead (or contact and deal) for this call.
    public static func createEntity(direction: CallDirection, settings: B24Settings) -> Bool {
        direction == .outbound ? settings.outgoing.createEntity : settings.incoming.createEntity
    }
}

/// What only Bitrix24 does when a call ends; they go in one batch, after the others' cards are hidden.
public enum B24Step: Codable, Sendable, Equatable, StepDescribing {
    /// `telephony.externalCall.finish`: whose call it is (responsible for what it created), SIP-like status, talk time,
    /// the message in the employee's chat, and the PBX's reason for a call that did not happen.
    case finish(user: Int, statusCode: String, duration: Int, addToChat: Bool, failedReason: String?)
    /// `telephony.externalCall.attachRecord` under a name Bitrix24 takes.
    case attachRecord(url: String, fileName: String)
    /// B24-5: the line's UTM tags on the lead and the deal the call created (`crm.lead.update`, `crm.deal.update`).
    case setUTM([String: String])

    public var summary: Phrase {
        switch self {
        case .finish(let user, let status, let duration, let chat, _):
            return Phrase(code: "b24.plan.finish", en: "plan: finish the call as user \(user), status \(status), \(duration) s"
                            + (chat ? ", with a chat message" : ""),
                          ru: "план: завершить звонок от пользователя \(user), статус \(status), \(duration) с"
                            + (chat ? ", с сообщением в чат" : ""))
        case .attachRecord(_, let name):
            return Phrase(code: "b24.plan.attachRecord", en: "plan: attach the recording as \(name)", ru: "план: прикрепить запись разговора (\(name))")
        case .setUTM(let fields):
            let list = fields.keys.sorted().map { "\($0)=\(fields[$0] ?? "")" }.joined(separator: ", ")
            return Phrase(code: "b24.plan.utm", en: "plan: UTM tags on the created lead or deal: \(list)",
                          ru: "план: UTM-метки в созданный лид или сделку: \(list)")
        }
    }
}

/// The call jobs of Bitrix24: register while it rings (the card), finish with the result, the recording and UTM.
struct B24CallJobs {
    let connector: B24Connector

    func context(_ job: Job, _ payload: CallJobPayload, log: AttemptLog) async throws -> IntegrationContext<B24Settings>? {
        try await IntegrationContext<B24Settings>.load(tenantId: job.tenantId, integrationId: payload.integrationId, crm: Bitrix24.title,
                                                       db: connector.env.db, vault: connector.env.vault, log: log)
    }

    /// `telephony.externalLine.add` once per virtual number and integration, so calls carry the line.
    func ensureLine(_ number: String?, ctx: IntegrationContext<B24Settings>, api: B24Client) async throws {
        guard let number, !number.isEmpty else { return }
        let scope = "lines"
        if try await connector.entities.all(integrationId: ctx.integration.id, scope: scope)[number] != nil { return }
        do {
            _ = try await api.call("telephony.externalLine.add", ["NUMBER": .string(number), "NAME": .string(number)],
                                   what: .addLine(number))
        } catch let f as B24Client.Failure where f.text.contains("already exists") {
            // Added earlier (by another integration or by hand): nothing to do.
        }
        try await connector.entities.remember(integrationId: ctx.integration.id, scope: scope, kind: number, crmId: "1")
    }

    /// Registers the call once (CORE-4): Bitrix24's CALL_ID and what registration created are kept with the call.
    /// A click in Bitrix24 registered it already: its CALL_ID is reused, never registered again.
    func register(_ call: Call, client: PhoneNumber, user: Int, show: Bool, ctx: IntegrationContext<B24Settings>, api: B24Client,
                  ledger: inout WriteLedger, log: AttemptLog) async throws -> String {
        if let id = ledger["register"] { return id }
        if call.direction == .outbound, let login = call.legs.min(by: { $0.startedAt < $1.startedAt })?.employeeLogin,
           let last10 = client.last10 {
            let scope = B24Connector.clickScope(login: login, last10: last10)
            if let clicked = try await connector.entities.all(integrationId: ctx.integration.id, scope: scope)["call"] {
                log.note(B24Says.clickedCallReused(clicked))
                try await ledger.keep(["register": clicked])
                try await connector.entities.forget(integrationId: ctx.integration.id, scope: scope, kind: "call")
                return clicked
            }
        }
        try await ensureLine(call.lineNumber, ctx: ctx, api: api)
        let create = B24CallRules.createEntity(direction: call.direction, settings: ctx.settings)
        var params: [String: B24Value] = [
            "USER_ID": .int(user), "PHONE_NUMBER": .string(client.e164 ?? client.display),
            "TYPE": .int(B24CallRules.type(call.direction)), "CALL_START_DATE": .string(ISO8601DateFormatter().string(from: call.createdAt)),
            "CRM_CREATE": .flag(create), "SHOW": .flag(show), "EXTERNAL_CALL_ID": .string(call.id), "ADD_TO_CHAT": "0",
        ]
        if let line = call.lineNumber, !line.isEmpty { params["LINE_NUMBER"] = .string(line) }
        // Registering again with the same EXTERNAL_CALL_ID gives the same CALL_ID back (Bitrix24 keeps it 30 minutes), so
        // a retry after a crash needs no lookup.
        let made = try await ledger.once("register", find: { _ in nil }, write: {
            let r = try await api.call("telephony.externalCall.register", params, what: .registerCall)
            guard let o = r as? [String: Any], let id = o["CALL_ID"] as? String else {
                throw DeliveryError.retryable(B24Says.noCallId.phrase)
            }
            var ids = ["register": id]
            for e in o["CRM_CREATED_ENTITIES"] as? [[String: Any]] ?? [] {
                if let type = e["ENTITY_TYPE"] as? String, let eid = e["ENTITY_ID"] { ids["created." + type.uppercased()] = "\(eid)" }
            }
            if let type = o["CRM_ENTITY_TYPE"] as? String, !type.isEmpty, let eid = o["CRM_ENTITY_ID"], !(eid is NSNull) {
                ids["bound"] = "\(type):\(eid)"
            }
            return ids
        })
        guard let id = made else { throw DeliveryError.retryable(B24Says.noCallRegistered.phrase) }
        if show { try await ledger.keep(["shown.\(user)": "1"]) }
        return id
    }
}

/// CORE-4: the caller's card for the employee whose phone rings (IP telephony); the call is registered at its first ring.
struct B24RingingHandler: JobHandler {
    let jobs: B24CallJobs

    func run(_ job: Job, log: AttemptLog) async throws {
        let payload = try JSON.decode(CallJobPayload.self, from: job.payload)
        guard let ctx = try await jobs.context(job, payload, log: log),
              let call = try await jobs.connector.calls.get(tenantId: job.tenantId, id: payload.callId) else { return }
        guard !call.isOver else {
            log.note(CallSkip.cardTooLate)
            return
        }
        guard call.direction == .inbound || call.direction == .outbound else {
            log.note(CallSkip.internalCall(crm: Bitrix24.title))
            return
        }
        guard let login = payload.employeeLogin, let user = ctx.userByLogin[login].flatMap({ Int($0) }) else {
            log.note(B24Says.cardUnmapped(login: payload.employeeLogin ?? "?"))
            return
        }
        guard let client = call.client, client.last10 != nil else {
            log.note(CallSkip.cardNumberHidden)
            return
        }
        let api = jobs.connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log)
        let show = ctx.settings.telephonyMode == .ip
        var ledger = try await WriteLedger.open(store: jobs.connector.entities, owner: ctx.integration.id, scope: call.id)
        let registered = ledger["register"] != nil
        let callId = try await jobs.register(call, client: client, user: user, show: show, ctx: ctx, api: api, ledger: &ledger, log: log)
        guard show else {
            log.note(B24Says.webRTC)
            return
        }
        if registered && ledger["shown.\(user)"] == nil {
            _ = try await api.call("telephony.externalCall.show", ["CALL_ID": .string(callId), "USER_ID": .int(user)],
                                   what: .showCall)
            try await ledger.keep(["shown.\(user)": "1"])
        }
    }
}

/// B24-3/B24-4: the finished call: registered if it never rang anyone, then finished with its result and responsible,
/// with the recording and the UTM tags, in one batch.
struct B24FinishedHandler: JobHandler {
    let jobs: B24CallJobs

    func run(_ job: Job, log: AttemptLog) async throws {
        guard let run = try await FinishedCallJob<B24Settings>.load(
            job, crm: Bitrix24.title, db: jobs.connector.env.db, vault: jobs.connector.env.vault, log: log,
            skip: FinishedCallJob.hiddenOrInternal(crm: Bitrix24.title)) else { return }
        let (ctx, call) = (run.context, run.call)
        guard let client = call.client else { return }
        let plan = B24CallRules.plan(run.facts, ctx.settings)
        run.journal(plan, log: log)
        // The finish's user registers the call when no ring did.
        guard let (user, status) = plan.steps.lazy.compactMap({ step -> (Int, String)? in
            if case .own(.finish(let user, let status, _, _, _)) = step { return (user, status) } else { return nil }
        }).first else {
            throw DeliveryError.permanent(B24Says.noResponsible.phrase)
        }
        let api = jobs.connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log)
        var ledger = run.ledger
        let callId = try await jobs.register(call, client: client, user: user, show: false, ctx: ctx, api: api, ledger: &ledger, log: log)
        if ledger["finish"] != nil { return }

        var commands: [B24Command] = []
        let others = ledger.kept.keys.filter { $0.hasPrefix("shown.") }.compactMap { Int($0.dropFirst("shown.".count)) }.filter { $0 != user }
        if !others.isEmpty {
            commands.append(B24Command("a_hide", "telephony.externalCall.hide",
                                       ["CALL_ID": .string(callId), "USER_ID": .list(others.sorted().map { .int($0) })]))
        }
        for step in plan.steps {
            switch step {
            case .own(.finish(let user, let status, let duration, let chat, let failed)):
                var finish: [String: B24Value] = ["CALL_ID": .string(callId), "USER_ID": .int(user), "DURATION": .int(duration),
                                                  "STATUS_CODE": .string(status), "ADD_TO_CHAT": .flag(chat)]
                if let failed { finish["FAILED_REASON"] = .string(failed) }
                commands.append(B24Command("b_finish", "telephony.externalCall.finish", finish))
            case .own(.attachRecord(let url, let name)):
                commands.append(B24Command("c_record", "telephony.externalCall.attachRecord",
                                           ["CALL_ID": .string(callId), "FILENAME": .string(name), "RECORD_URL": .string(url)]))
            case .own(.setUTM(let utm)):
                let fields = B24Value.map(utm.mapValues { .string($0) })
                if let lead = ledger["created.LEAD"] {
                    commands.append(B24Command("d_utm_lead", "crm.lead.update", ["id": .string(lead), "fields": fields]))
                }
                if let deal = ledger["created.DEAL"] {
                    commands.append(B24Command("d_utm_deal", "crm.deal.update", ["id": .string(deal), "fields": fields]))
                }
            case .common:
                // The Bitrix24 rules make no common step: registration and finish log the call and make the entities.
                continue
            }
        }
        try await ledger.once("finish", find: { _ in nil }, write: {
            let answer = try await api.batch(commands, what: .finishCall)
            if let failure = answer.errors["b_finish"] {
                // A finish that reached Bitrix24 before a crash: the call is no longer open there.
                guard failure.text.contains("call should be registered prior to finishing") else {
                    throw DeliveryError.permanent(B24Says.finishRefused("\(failure)").phrase)
                }
                log.note(B24Says.finishedAlready)
            }
            for (key, failure) in answer.errors where key != "b_finish" {
                log.note(B24Says.refusedCommand(String(key.dropFirst(2)), "\(failure)"))
            }
            var ids = ["finish": status]
            if let r = answer.results["c_record"] as? [String: Any], let file = r["FILE_ID"] { ids["record"] = "\(file)" }
            return ids
        })
    }
}
