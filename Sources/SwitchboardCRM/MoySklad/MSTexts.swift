import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

/// MoySklad's part of the `texts` settings block (MS-3, text half): the status of the orders requests and chats make,
/// the organization, when tasks are due, which chats get a task, and the counterparty's extra fields.
public struct MSTextOptions: Codable, Sendable, Equatable {
    public struct Part: Codable, Sendable, Equatable {
        /// The new order's status by name, as MoySklad shows it («Новый»); nil: none.
        public var orderState: String?
        /// Chats only: a task only for a chat no operator answered (guide 003 «задачи по пропущенным чатам»); false: a
        /// task for every chat the rules give one.
        public var tasksOnlyMissed: Bool?
    }

    /// A value of the communication written into one of the counterparty's additional fields (`source` one of `sources`).
    public typealias ExtraField = MSSettings.ExtraField
    public static let sources = ["site", "page", "requestType", "channel", "utm_source", "utm_medium", "utm_campaign", "utm_content",
                                 "utm_term"]

    public var requests = Part()
    public var chats = Part()
    /// The orders' legal entity (MoySklad organization id); nil: the account's first.
    public var organizationId: String?
    /// When a task is due, in minutes after the communication's moment.
    public var taskDueMinutes: Int = 60
    /// CORE-13 for texts («передача дополнительных полей в контрагента»): written when the counterparty is created.
    public var extraFields: [ExtraField] = []

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        requests = try c.decodeIfPresent(Part.self, forKey: .requests) ?? Part()
        chats = try c.decodeIfPresent(Part.self, forKey: .chats) ?? Part()
        organizationId = try c.decodeIfPresent(String.self, forKey: .organizationId).flatMap { $0.isEmpty ? nil : $0 }
        taskDueMinutes = try c.decodeIfPresent(Int.self, forKey: .taskDueMinutes) ?? 60
        extraFields = try c.decodeIfPresent([ExtraField].self, forKey: .extraFields) ?? []
    }

    /// Whether a chat gets its task only when nobody answered it (the default, as the guide says).
    public var chatTasksOnlyMissed: Bool { chats.tasksOnlyMissed ?? true }

    /// The options in an integration's settings (`texts`); the defaults when there is none.
    public static func of(settings: JSONValue) throws -> MSTextOptions {
        guard let block = settings["texts"] else { return MSTextOptions() }
        return try JSON.decode(MSTextOptions.self, from: JSON.string(block))
    }

    /// The problems of MoySklad's part of the block, by field, in words a tenant can act on.
    public static func problems(_ settings: JSONValue) -> [SettingsProblem] {
        var out: [SettingsProblem] = []
        if let rules = try? TextRules.of(settings: settings) {
            for (field, user, on) in [("requests", rules.requests.defaultResponsible, rules.requests.enabled),
                                      ("chats", rules.chats.defaultResponsible, rules.chats.enabled)] where on {
                if let user, UUID(uuidString: user) == nil {
                    out.append(SettingsProblem(field: "texts.\(field).defaultResponsible", MSSays.notEmployeeId(user)))
                }
            }
        }
        let options: MSTextOptions
        do {
            options = try of(settings: settings)
        } catch {
            return out + [SettingsProblem(field: "texts", TextJobNote.ownOptionsUnreadable(what: MSSays.textOptions.phrase, error: "\(error)"))]
        }
        if !(1...43_200).contains(options.taskDueMinutes) {
            out.append(SettingsProblem(field: "texts.taskDueMinutes", MSSays.textTaskDue))
        }
        for f in options.extraFields {
            if f.attribute.isEmpty {
                out.append(SettingsProblem(field: "texts.extraFields", MSSays.chooseField(f.source)))
            }
            if !sources.contains(f.source) {
                out.append(SettingsProblem(field: "texts.extraFields",
                                           InputProblem.notOneOf(f.source, sources)))
            }
        }
        return out
    }

    /// The extra fields' values for a communication (attribute id → value), empty values left out.
    func extraValues(_ text: TextCommunication) -> [String: String] {
        var out: [String: String] = [:]
        for f in extraFields {
            let value: String?
            switch f.source {
            case "site": value = text.site
            case "page": value = text.page
            case "requestType": value = text.requestType
            case "channel": value = text.channel
            default: value = text.utm[f.source]
            }
            if let value, !value.isEmpty { out[f.attribute] = value }
        }
        return out
    }
}

/// CORE-15 / MS-3 for MoySklad: a request (or a chat at its trigger) finds the sender's counterparty by phone, else
/// e-mail, or makes one (`POST /entity/counterparty` with the visitor's name, phone, e-mail, owner and extra fields),
/// then a customer order and a task by the rules; a chat's task is for a missed chat (no operator answered) unless the
/// options say every chat. A finished chat's transcript is a note on the counterparty (`POST
/// /entity/counterparty/{id}/notes`). What Switchboard makes carries «Switchboard <communication id>», which an attempt
/// cut off between MoySklad's answer and keeping the id looks for before writing again.
enum MSTexts {
    static let workspace = WorkspaceEmbed(instructions: """
        МойСклад: install Switchboard's extension (Приложения → the solution's iframe) and give it the workspace address \
        <Switchboard>/workspace#token=<token>, the token from POST /api/v1/workspace/tokens (5 min to 24 h, opens this \
        tenant's chats only); operators then answer chats inside МойСклад. Without the extension, open the same address \
        in a browser tab.
        """)

    static func spec(_ ms: MSConnector) -> TextSpec {
        var spec = TextSpec(events: Set(TextEvent.allCases), problems: MSTextOptions.problems) { delivery, log in
            try await deliver(&delivery, ms: ms, log: log)
        }
        spec.workspace = workspace
        return spec
    }

    static func marker(_ text: TextCommunication) -> String { "Switchboard \(text.id)" }

    /// MoySklad keeps at most 4096 characters of a `description`: `text` cut to leave room for the marker line.
    static func capped(_ text: String, room: Int = 3_900) -> String {
        text.count <= room ? text : String(text.prefix(room - 1)) + "…"
    }

    /// A transcript in notes of at most 4096 characters each, split between lines where it can be.
    static func parts(_ text: String, size: Int = 3_800) -> [String] {
        var out: [String] = [], current = ""
        for whole in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(whole)
            // A line longer than a note is cut into pieces of its own.
            while line.count > size {
                if !current.isEmpty { out.append(current); current = "" }
                out.append(String(line.prefix(size)))
                line = String(line.dropFirst(size))
            }
            if !current.isEmpty && current.count + 1 + line.count > size { out.append(current); current = "" }
            current += (current.isEmpty ? "" : "\n") + line
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Whether no operator answered the chat.
    static func missed(_ text: TextCommunication) -> Bool { !text.transcript.contains { $0.author == .operator_ } }

    static func deliver(_ d: inout TextDelivery, ms: MSConnector, log: AttemptLog) async throws {
        let api = ms.client(tenantId: d.integration.tenantId, credential: d.credential, log: log)
        guard try await api.hasJSONAccess() else {
            throw DeliveryError.permanent(MSSays.textsNoJSON.phrase)
        }
        let options = try MSTextOptions.of(settings: d.settings)
        let part = d.text.kind == .request ? options.requests : options.chats
        let jobs = MSCallJobs(connector: ms)
        let text = d.text, marker = marker(text), responsible = d.responsible

        // What MoySklad knew of the sender when the communication first ran; kept, so a retry decides the same way.
        if d.ledger["known.counterparty"] == nil {
            let known = try await knownCounterparty(text, api: api, jobs: jobs)
            try await d.ledger.keep(["known.counterparty": known ?? ""])
            log.note(known.map { MSSays.knowsSender($0) } ?? MSSays.noSenderCounterparty)
        }
        var counterpartyId = d.ledger["known.counterparty"].flatMap { $0.isEmpty ? nil : $0 } ?? d.ledger["counterparty"]

        if d.makesRecords, counterpartyId == nil, d.wantsContact {
            var body: [String: Any] = ["name": d.contactName, "companyType": "individual", "owner": api.ref("employee", responsible),
                                       "description": "\(d.title) (\(marker))"]
            if let phone = text.phoneNumber() { body["phone"] = phone.display }
            if let email = text.email, !email.isEmpty { body["email"] = email }
            let extra = options.extraValues(text)
            if !extra.isEmpty { body["attributes"] = MSCallJobs.attributes(extra, api: api) }
            counterpartyId = try await d.ledger.once("counterparty", find: { _ in
                let rows = try await api.json(.GET, "/entity/counterparty?filter=description~\(FormURLEncoding.escape(marker))",
                                              what: .findCounterpartyMade).rows
                return MSCallJobs.marked(rows, marker).map { ["counterparty": $0] }
            }, write: {
                let made = try await api.json(.POST, "/entity/counterparty", body, what: .createCounterparty)
                guard let id = made.object["id"] as? String else { throw DeliveryError.retryable(MSSays.noId("counterparty").phrase) }
                return ["counterparty": id]
            })
        } else if d.makesRecords, counterpartyId == nil {
            log.note(MSSays.noCounterpartyForText(text.kind))
        }

        if d.wantsDeal {
            if let agent = counterpartyId {
                guard let organization = try await jobs.organization(integrationId: d.integration.id, configured: options.organizationId, api: api) else {
                    throw DeliveryError.permanent(MSSays.noOrganization.phrase)
                }
                let state = try await jobs.stateId(integrationId: d.integration.id, name: part.orderState, api: api)
                if part.orderState != nil && state == nil {
                    log.note(MSSays.noOrderStatus(part.orderState ?? ""))
                }
                let agentHref = "\(api.root)/api/remap/1.2/entity/counterparty/\(agent)"
                var body: [String: Any] = ["organization": api.ref("organization", organization), "agent": api.ref("counterparty", agent),
                                           "owner": api.ref("employee", responsible), "description": "\(capped(d.summary))\n(\(marker))"]
                if let state { body["state"] = MSCallJobs.stateRef(api, state) }
                try await d.ledger.once("order", find: { _ in
                    MSCallJobs.marked(try await api.json(.GET, "/entity/customerorder?filter=agent=\(agentHref)",
                                                         what: .findOrderMade).rows, marker).map { ["order": $0] }
                }, write: {
                    let made = try await api.json(.POST, "/entity/customerorder", body, what: .createOrder)
                    guard let id = made.object["id"] as? String else { throw DeliveryError.retryable(MSSays.noId("order").phrase) }
                    return ["order": id]
                })
            } else {
                log.note(MSSays.noOrderNoSender)
            }
        }

        let wantsTask: Bool
        if text.kind == .chat && options.chatTasksOnlyMissed {
            // A missed chat is known when it finishes, whatever the trigger.
            wantsTask = d.event == .chatFinished && d.rules.chats.createTask && missed(text)
        } else {
            wantsTask = d.wantsTask
        }
        if wantsTask {
            let what = text.kind == .request ? "Обработать заявку с сайта \(text.site)"
                : missed(text) ? "Ответить на пропущенный чат с сайта \(text.site)" : "Обработать чат с сайта \(text.site)"
            var body: [String: Any] = ["description": "\(capped("\(what)\n\(d.summary)"))\n(\(marker))", "assignee": api.ref("employee", responsible),
                                       "done": false,
                                       "dueToDate": MSTime.format(Date().addingTimeInterval(Double(options.taskDueMinutes) * 60))]
            if let agent = counterpartyId { body["agent"] = api.ref("counterparty", agent) }
            try await d.ledger.once("task", find: { _ in
                MSCallJobs.marked(try await api.json(.GET, "/entity/task?search=\(text.id)", what: .findTaskMade).rows,
                                  marker).map { ["task": $0] }
            }, write: {
                let made = try await api.json(.POST, "/entity/task", body, what: .createTask)
                guard let id = made.object["id"] as? String else { throw DeliveryError.retryable(MSSays.noId("task").phrase) }
                return ["task": id]
            })
        }

        if d.wantsTranscript {
            guard let owner = counterpartyId else {
                log.note(MSSays.transcriptNoCounterparty)
                return
            }
            // A long chat takes several notes, each with its part's marker.
            let pieces = parts("Переписка в чате с сайта \(text.site)\n" + text.transcriptText())
            for (i, piece) in pieces.enumerated() {
                let kind = i == 0 ? "transcript" : "transcript.\(i + 1)"
                let mark = pieces.count == 1 ? marker : "\(marker) · \(i + 1)/\(pieces.count)"
                try await d.ledger.once(kind, find: { _ in
                    let rows = try await api.json(.GET, "/entity/counterparty/\(owner)/notes",
                                                  what: .findTranscriptMade).rows
                    return rows.first { ($0["description"] as? String)?.hasSuffix("(\(mark))") == true }.flatMap { $0["id"] as? String }
                        .map { [kind: $0] }
                }, write: {
                    let made = try await api.json(.POST, "/entity/counterparty/\(owner)/notes", ["description": "\(piece)\n(\(mark))"],
                                                  what: .writeTranscript)
                    let first = (made.value as? [[String: Any]])?.first ?? made.object
                    return [kind: first["id"] as? String ?? "?"]
                })
            }
        }
    }

    /// The sender's counterparty: by phone (the last ten digits decide), else by e-mail.
    static func knownCounterparty(_ text: TextCommunication, api: MoySkladClient, jobs: MSCallJobs) async throws -> String? {
        if let phone = text.phoneNumber(), let id = try await jobs.counterparty(phone, api: api)?.id { return id }
        guard let email = text.email?.trimmingCharacters(in: .whitespaces), !email.isEmpty else { return nil }
        let rows = try await api.json(.GET, "/entity/counterparty?filter=email=\(FormURLEncoding.escape(email))&limit=100",
                                      what: .findSenderByEmail).rows
        return rows.first { ($0["email"] as? String)?.lowercased() == email.lowercased() }?["id"] as? String
    }
}
