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
    public static func finisher(direction: CallDirection, answered: Bool, talkerUsers: [Int], dialler: Int?,
                                settings: B24Settings) -> Int? {
        if direction == .outbound { return dialler ?? talkerUsers.first ?? settings.outgoing.defaultResponsible }
        guard answered, !talkerUsers.isEmpty else { return settings.incoming.defaultResponsible }
        return (settings.incoming.responsibleTalker == .last ? talkerUsers.last : talkerUsers.first)
            ?? settings.incoming.defaultResponsible
    }

    /// Whether an unknown caller gets a new lead (or contact and deal) for this call.
    public static func createEntity(direction: CallDirection, settings: B24Settings) -> Bool {
        direction == .outbound ? settings.outgoing.createEntity : settings.incoming.createEntity
    }
}

/// The call jobs of Bitrix24: register while it rings (the card), finish with the result, the recording and UTM.
struct B24CallJobs {
    let connector: B24Connector

    func context(_ job: Job, _ payload: CallJobPayload, log: AttemptLog) async throws -> IntegrationContext<B24Settings>? {
        try await IntegrationContext<B24Settings>.load(tenantId: job.tenantId, integrationId: payload.integrationId, crm: "Bitrix24",
                                                       db: connector.env.db, vault: connector.env.vault, log: log)
    }

    /// The Bitrix24 user of the employee who dialled an outgoing call (its first leg).
    static func dialler(of call: Call, userByLogin: [String: String]) -> Int? {
        guard call.direction == .outbound, let leg = call.legs.min(by: { $0.startedAt < $1.startedAt }) else { return nil }
        return [leg.employeeLogin, leg.extension_, leg.id, call.final?.employeeLogin].lazy.compactMap { $0 }
            .compactMap { userByLogin[$0].flatMap { Int($0) } }.first
    }

    /// `telephony.externalLine.add` once per virtual number and integration, so calls carry the line.
    func ensureLine(_ number: String?, ctx: IntegrationContext<B24Settings>, api: B24Client) async throws {
        guard let number, !number.isEmpty else { return }
        let scope = "lines"
        if try await connector.entities.all(integrationId: ctx.integration.id, scope: scope)[number] != nil { return }
        do {
            _ = try await api.call("telephony.externalLine.add", ["NUMBER": .string(number), "NAME": .string(number)],
                                   what: "add the external line \(number)")
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
                log.note("the call was started from Bitrix24: its CALL_ID \(clicked) is reused")
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
            let r = try await api.call("telephony.externalCall.register", params, what: "register the call")
            guard let o = r as? [String: Any], let id = o["CALL_ID"] as? String else {
                throw DeliveryError.retryable("Bitrix24's answer to externalCall.register has no CALL_ID")
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
        guard let id = made else { throw DeliveryError.retryable("Bitrix24 registered no call") }
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
            log.note("no card: the call ended before it could be shown")
            return
        }
        guard call.direction == .inbound || call.direction == .outbound else {
            log.note("internal calls are not sent to Bitrix24")
            return
        }
        guard let login = payload.employeeLogin, let user = ctx.userByLogin[login].flatMap({ Int($0) }) else {
            log.note("no card: employee \(payload.employeeLogin ?? "?") is not mapped to a Bitrix24 user (CORE-3)")
            return
        }
        guard let client = call.client, client.last10 != nil else {
            log.note("no card: the caller's number is hidden")
            return
        }
        let api = jobs.connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log)
        let show = ctx.settings.telephonyMode == .ip
        var ledger = try await WriteLedger.open(store: jobs.connector.entities, owner: ctx.integration.id, scope: call.id)
        let registered = ledger["register"] != nil
        let callId = try await jobs.register(call, client: client, user: user, show: show, ctx: ctx, api: api, ledger: &ledger, log: log)
        guard show else {
            log.note("WebRTC mode: the PBX's widget shows the call in Bitrix24, so no card of its own")
            return
        }
        if registered && ledger["shown.\(user)"] == nil {
            _ = try await api.call("telephony.externalCall.show", ["CALL_ID": .string(callId), "USER_ID": .int(user)],
                                   what: "show the call to the employee")
            try await ledger.keep(["shown.\(user)": "1"])
        }
    }
}

/// B24-3/B24-4: the finished call: registered if it never rang anyone, then finished with its result and responsible,
/// with the recording and the UTM tags, in one batch.
struct B24FinishedHandler: JobHandler {
    let jobs: B24CallJobs

    func run(_ job: Job, log: AttemptLog) async throws {
        let payload = try JSON.decode(CallJobPayload.self, from: job.payload)
        guard let ctx = try await jobs.context(job, payload, log: log) else { return }
        guard let call = try await jobs.connector.calls.get(tenantId: job.tenantId, id: payload.callId) else {
            throw DeliveryError.permanent("call \(payload.callId) not found")
        }
        guard let client = call.client, client.last10 != nil else {
            log.note("nothing to do: the caller's number is hidden or not a phone number")
            return
        }
        guard call.direction == .inbound || call.direction == .outbound else {
            log.note("internal calls are not sent to Bitrix24")
            return
        }
        let problems = ctx.settings.validate()
        if !problems.isEmpty {
            throw DeliveryError.permanent("the Bitrix24 settings are incomplete: " + problems.map(\.description).joined(separator: "; "))
        }
        let talkers = call.talkers.compactMap { ctx.userByLogin[$0].flatMap { Int($0) } }
        let dialler = B24CallJobs.dialler(of: call, userByLogin: ctx.userByLogin)
        guard let user = B24CallRules.finisher(direction: call.direction, answered: call.result == .answered, talkerUsers: talkers,
                                               dialler: dialler, settings: ctx.settings) else {
            throw DeliveryError.permanent("no Bitrix24 user is responsible for this call: set the default responsible")
        }
        if call.direction == .inbound && call.result == .answered && talkers.isEmpty {
            log.note("no talker is mapped to a Bitrix24 user: the call goes to the default responsible")
        }
        let api = jobs.connector.client(tenantId: job.tenantId, credential: ctx.credential, log: log)
        var ledger = try await WriteLedger.open(store: jobs.connector.entities, owner: ctx.integration.id, scope: call.id)
        let callId = try await jobs.register(call, client: client, user: user, show: false, ctx: ctx, api: api, ledger: &ledger, log: log)
        if ledger["finish"] != nil { return }

        var commands: [B24Command] = []
        let others = ledger.kept.keys.filter { $0.hasPrefix("shown.") }.compactMap { Int($0.dropFirst("shown.".count)) }.filter { $0 != user }
        if !others.isEmpty {
            commands.append(B24Command("a_hide", "telephony.externalCall.hide",
                                       ["CALL_ID": .string(callId), "USER_ID": .list(others.sorted().map { .int($0) })]))
        }
        let status = B24CallRules.statusCode(call.result, direction: call.direction)
        var finish: [String: B24Value] = ["CALL_ID": .string(callId), "USER_ID": .int(user), "DURATION": .int(call.talkSec ?? 0),
                                          "STATUS_CODE": .string(status), "ADD_TO_CHAT": .flag(ctx.settings.chatMessage)]
        if status != "200", let reason = call.final?.status, !reason.isEmpty { finish["FAILED_REASON"] = .string(reason) }
        commands.append(B24Command("b_finish", "telephony.externalCall.finish", finish))
        if let url = call.recordingURL, !url.isEmpty {
            // Bitrix24 takes only names ending in .wav or .mp3 (docs: telephony.externalCall.attachRecord).
            let name = call.id + (URL(string: url)?.pathExtension.lowercased() == "wav" ? ".wav" : ".mp3")
            commands.append(B24Command("c_record", "telephony.externalCall.attachRecord",
                                       ["CALL_ID": .string(callId), "FILENAME": .string(name), "RECORD_URL": .string(url)]))
        }
        let utm = ctx.settings.utmFields(line: call.lineNumber)
        if !utm.isEmpty {
            let fields = B24Value.map(utm.mapValues { .string($0) })
            if let lead = ledger["created.LEAD"] {
                commands.append(B24Command("d_utm_lead", "crm.lead.update", ["id": .string(lead), "fields": fields]))
            }
            if let deal = ledger["created.DEAL"] {
                commands.append(B24Command("d_utm_deal", "crm.deal.update", ["id": .string(deal), "fields": fields]))
            }
        }
        try await ledger.once("finish", find: { _ in nil }, write: {
            let answer = try await api.batch(commands, what: "finish the call")
            if let failure = answer.errors["b_finish"] {
                // A finish that reached Bitrix24 before a crash: the call is no longer open there.
                guard failure.text.contains("call should be registered prior to finishing") else {
                    throw DeliveryError.permanent("Bitrix24 refused to finish the call: \(failure)")
                }
                log.note("Bitrix24 had finished the call already")
            }
            for (key, failure) in answer.errors where key != "b_finish" {
                log.note("Bitrix24 refused \(key.dropFirst(2)): \(failure)")
            }
            var ids = ["finish": status]
            if let r = answer.results["c_record"] as? [String: Any], let file = r["FILE_ID"] { ids["record"] = "\(file)" }
            return ids
        })
    }
}
