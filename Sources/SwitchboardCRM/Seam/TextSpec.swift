import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

/// A CRM's text-communication capability (CORE-15, decision 0006 §6): which moments of requests and chats it acts
/// on, what its own part of the `texts` settings block must hold, and how it makes its records. Loading the
/// integration, the communication and the shared rules, the filters, the responsible user and the per-communication
/// `WriteLedger` are written once, in `TextJobRunner`; the CRM writes only what its guide says to make.
public struct TextSpec: Sendable {
    /// The moments this CRM acts on; a job is made only for these.
    public var events: Set<TextEvent>
    /// Problems of the CRM's own part of the `texts` block (the shared part is checked by `TextRules.problems`).
    public var problems: @Sendable (JSONValue) -> [SettingsProblem]
    /// Makes the records of one communication at one moment; every write through `delivery.ledger` (once per
    /// communication and kind, across retries and replays).
    public var deliver: @Sendable (inout TextDelivery, AttemptLog) async throws -> Void
    /// CORE-18: how the operator workspace embeds in this CRM; nil while the CRM offers no placement.
    public var workspace: WorkspaceEmbed? = nil

    public init(events: Set<TextEvent>, problems: @escaping @Sendable (JSONValue) -> [SettingsProblem] = { _ in [] },
                deliver: @escaping @Sendable (inout TextDelivery, AttemptLog) async throws -> Void) {
        self.events = events
        self.problems = problems
        self.deliver = deliver
    }

    /// The usual check of a CRM's part of the block: its user ids are numbers, and its own options (`Own`, `what` in
    /// words) read from the `texts` block.
    public static func problems<Own: Decodable & SendableMetatype>(numericUsers crm: Phrase, own: Own.Type, what: Phrase) -> @Sendable (JSONValue) -> [SettingsProblem] {
        { settings in
            guard let rules = try? TextRules.of(settings: settings) else { return [] }
            var out: [SettingsProblem] = []
            for (field, user, on) in [("requests", rules.requests.defaultResponsible, rules.requests.enabled),
                                      ("chats", rules.chats.defaultResponsible, rules.chats.enabled)] where on {
                if let user, Int(user) == nil {
                    out.append(SettingsProblem(field: "texts.\(field).defaultResponsible", InputProblem.userIdNotNumber(crm: crm)))
                }
            }
            do {
                _ = try JSON.decode(Own.self, from: JSON.string(settings["texts"] ?? .object([:])))
            } catch {
                out.append(SettingsProblem(field: "texts", TextJobNote.ownOptionsUnreadable(what: what, error: "\(error)")))
            }
            return out
        }
    }

    /// The job handlers for `kind`'s text jobs, one runner per event.
    public func handlers(kind: CRMKind, title: Phrase, env: ConnectorEnvironment,
                         afterWrite: (@Sendable (String) throws -> Void)? = nil) -> [String: any JobHandler] {
        let runner = TextJobRunner(title: title, db: env.db, vault: env.vault, spec: self, afterWrite: afterWrite)
        return Dictionary(uniqueKeysWithValues: events.map { (TextJobKind.kind(kind, $0), runner as any JobHandler) })
    }
}

/// CORE-18: the operator workspace inside a CRM page (an iframe with its own short-lived token).
public struct WorkspaceEmbed: Sendable {
    /// What the tenant does in the CRM to place the workspace.
    public var instructions: String
    public init(instructions: String) { self.instructions = instructions }
}

/// Everything a CRM needs to make the records of one communication at one moment.
public struct TextDelivery {
    public let integration: Integration
    public let credential: CRMCredential
    public let text: TextCommunication
    public let event: TextEvent
    public let rules: TextRules
    /// The integration's settings as stored (the CRM reads its own part of `texts` from here).
    public let settings: JSONValue
    /// The CRM user responsible for what this communication makes: the rules' default responsible.
    public let responsible: String
    /// CRM user id → employee, through the employee mapping.
    public let employeeByUser: [String: Employee]
    /// What was made for this communication in this integration (scope `text:<id>`).
    public var ledger: WriteLedger

    /// The CRM's own part of the `texts` block, typed; its defaults when the block has none.
    public func own<T: Decodable>(_ type: T.Type, default value: T) throws -> T {
        guard let block = settings["texts"] else { return value }
        return try JSON.decode(T.self, from: JSON.string(block))
    }

    /// Whether the rules make a contact for this communication: always for requests with `createContact`; for chats
    /// also when the visitor left no phone or e-mail only with "contact for chats with no details".
    public var wantsContact: Bool {
        switch text.kind {
        case .request: return rules.requests.createContact
        case .chat: return rules.chats.createContact && (text.hasContactDetails || rules.chats.contactWithoutDetails)
        }
    }

    /// Whether this moment makes the records (the request's arrival, the chat's trigger); a chat's other moments
    /// only write its transcript.
    public var makesRecords: Bool {
        text.kind == .request || event == rules.chats.trigger.event
    }

    public var wantsDeal: Bool { makesRecords && (text.kind == .request ? rules.requests.createDeal : rules.chats.createDeal) }
    public var wantsTask: Bool { makesRecords && (text.kind == .request ? rules.requests.createTask : rules.chats.createTask) }
    /// The transcript goes to the client when the chat finishes.
    public var wantsTranscript: Bool { text.kind == .chat && event == .chatFinished && rules.chats.transcript && !text.transcript.isEmpty }

    /// A title for what a communication makes: "Заявка с сайта shop.example: callback".
    public var title: String {
        switch text.kind {
        case .request:
            return "Заявка с сайта \(text.site)" + (text.requestType.map { $0.isEmpty ? "" : ": \($0)" } ?? "")
        case .chat:
            return "Чат с сайта \(text.site)" + (text.channel.map { $0.isEmpty || $0 == "site" ? "" : " (\($0))" } ?? "")
        }
    }

    /// The communication in words, for a note or a comment: the message, the visitor's details, the page and UTM.
    public var summary: String {
        var lines: [String] = [title]
        if let name = text.name, !name.isEmpty { lines.append("Имя: \(name)") }
        if let phone = text.phone, !phone.isEmpty { lines.append("Телефон: \(phone)") }
        if let email = text.email, !email.isEmpty { lines.append("E-mail: \(email)") }
        if let message = text.message, !message.isEmpty { lines.append("Сообщение: \(message)") }
        if let page = text.page, !page.isEmpty { lines.append("Страница: \(page)") }
        for (k, v) in text.utm.sorted(by: { $0.key < $1.key }) { lines.append("\(k): \(v)") }
        return lines.joined(separator: "\n")
    }

    /// The visitor's name, else their phone or e-mail, else "Посетитель сайта".
    public var contactName: String {
        [text.name, text.phone, text.email].compactMap { $0 }.first { !$0.isEmpty } ?? "Посетитель сайта"
    }
}

/// Runs one text job of any CRM: reads the integration (a switched-off one does nothing), the communication and the
/// rules when it runs, checks the filters again (the rules may have changed since), opens the ledger, and hands over
/// to the CRM's `deliver`.
struct TextJobRunner: JobHandler {
    let title: Phrase
    let db: any Database
    let vault: CredentialVault
    let spec: TextSpec
    let afterWrite: (@Sendable (String) throws -> Void)?

    func run(_ job: Job, log: AttemptLog) async throws {
        let payload = try JSON.decode(TextJobPayload.self, from: job.payload)
        guard let ctx = try await IntegrationContext<JSONValue>.load(tenantId: job.tenantId, integrationId: payload.integrationId,
                                                                     crm: title, db: db, vault: vault, log: log) else { return }
        guard let text = try await TextStore(db: db).get(tenantId: job.tenantId, id: payload.textId) else {
            throw DeliveryError.permanent(TextJobNote.textNotFound(id: payload.textId).phrase)
        }
        let rules: TextRules
        do {
            rules = try TextRules.of(settings: ctx.settings)
        } catch {
            throw DeliveryError.permanent(TextJobNote.rulesUnreadable(error: "\(error)").phrase)
        }
        if let reason = rules.skipReason(text, siteId: text.siteId, at: payload.event) {
            log.note(TextJobNote.skipped(reason, crm: title))
            return
        }
        let problems = rules.problems() + spec.problems(ctx.settings)
        if !problems.isEmpty {
            throw DeliveryError.permanent(TextJobNote.rulesIncomplete(crm: title, problems: problems).phrase)
        }
        let defaultResponsible = text.kind == .request ? rules.requests.defaultResponsible : rules.chats.defaultResponsible
        let ledger = try await WriteLedger.open(store: CRMEntityStore(db: db), owner: ctx.integration.id, scope: "text:\(text.id)",
                                                afterWrite: afterWrite)
        var delivery = TextDelivery(integration: ctx.integration, credential: ctx.credential, text: text, event: payload.event,
                                    rules: rules, settings: ctx.settings, responsible: defaultResponsible ?? "",
                                    employeeByUser: ctx.employeeByUser, ledger: ledger)
        log.note(TextJobNote.rulesApply(kind: text.kind, site: text.site, event: payload.event.rawValue))
        try await spec.deliver(&delivery, log)
    }
}

extension CRMConnector {
    /// Gives the connector its text capability: the spec, its job handlers, and the `texts` block's problems among
    /// the settings' problems (so the API and the cabinet refuse incomplete rules when they are written).
    public mutating func adopt(texts spec: TextSpec, env: ConnectorEnvironment, afterWrite: (@Sendable (String) throws -> Void)? = nil) {
        texts = spec
        handlers.merge(spec.handlers(kind: kind, title: titlePhrase, env: env, afterWrite: afterWrite)) { existing, _ in existing }
        let own = settingsProblems
        settingsProblems = { json in
            let shared: [SettingsProblem]
            do {
                shared = try TextRules.of(settings: json).problems()
            } catch {
                return own(json) + [SettingsProblem(field: "texts", InputProblem.textRulesUnreadable(error: "\(error)"))]
            }
            return own(json) + shared + spec.problems(json)
        }
    }
}
