import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

/// Megaplan's part of the `texts` settings block (guide 001, "Подключение текстовых коммуникаций"): per requests and
/// chats, the client's extra fields and "Обновлять всегда", the todo (by request type, or at a chat moment, with its
/// responsible) and the process (the same, with its scheme). The shared rules say whether a client (`createContact`),
/// a todo (`createTask`) and a process (`createDeal`) are made at all.
public struct MegaplanTextOptions: Codable, Sendable, Equatable {
    public typealias Moment = TextRules.ChatTrigger

    /// The communication's values a client's extra field can take.
    public static let sources = ["site", "requestType", "channel", "page", "utm_source", "utm_medium", "utm_campaign", "utm_content",
                                 "utm_term"]

    /// A todo or a process of a communication.
    public struct Record: Codable, Sendable, Equatable {
        /// Requests: only these request types make one; empty: every type.
        public var types: [String] = []
        /// Chats: the moment it is made; nil: the rules' trigger.
        public var event: Moment?
        /// nil: the rules' default responsible; `client`: the client's responsible; else a Megaplan employee id.
        public var responsible: String?
        /// Processes: the scheme (program) id, required.
        public var programId: String?

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            types = try c.decodeIfPresent([String].self, forKey: .types) ?? []
            event = try c.decodeIfPresent(Moment.self, forKey: .event)
            responsible = try Self.text(c, .responsible)
            programId = try Self.text(c, .programId)
        }

        /// An id written as a number or a string (an empty string is none).
        static func text(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> String? {
            if let n = try? c.decodeIfPresent(Int.self, forKey: key) { return String(n) }
            return try c.decodeIfPresent(String.self, forKey: key).flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        }

        enum CodingKeys: String, CodingKey { case types, event, responsible, programId }
    }

    public struct Part: Codable, Sendable, Equatable {
        /// Chats: the moment the client is made ("на какое событие создавать клиента"); nil: the rules' trigger.
        public var clientEvent: Moment?
        /// A communication value (`sources`) → the Megaplan client field (`Category…CustomField…`).
        public var extraFields: [String: String] = [:]
        /// Write the fields into a client Megaplan already knows too.
        public var updateAlways: Bool = false
        public var todo = Record()
        public var process = Record()

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            clientEvent = try c.decodeIfPresent(Moment.self, forKey: .clientEvent)
            extraFields = try c.decodeIfPresent([String: String].self, forKey: .extraFields) ?? [:]
            updateAlways = try c.decodeIfPresent(Bool.self, forKey: .updateAlways) ?? false
            todo = try c.decodeIfPresent(Record.self, forKey: .todo) ?? Record()
            process = try c.decodeIfPresent(Record.self, forKey: .process) ?? Record()
        }

        enum CodingKeys: String, CodingKey { case clientEvent, extraFields, updateAlways, todo, process }

        /// The moments of a chat this part makes records at.
        func moments(trigger: Moment) -> Set<Moment> { [clientEvent ?? trigger, todo.event ?? trigger, process.event ?? trigger] }
    }

    public var requests = Part()
    public var chats = Part()

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        requests = try c.decodeIfPresent(Part.self, forKey: .requests) ?? Part()
        chats = try c.decodeIfPresent(Part.self, forKey: .chats) ?? Part()
    }

    enum CodingKeys: String, CodingKey { case requests, chats }

    /// What a tenant must fix in Megaplan's part of the block, by field (the shared part is checked by `TextRules`).
    public static func problems(_ settings: JSONValue) -> [SettingsProblem] {
        guard let rules = try? TextRules.of(settings: settings) else { return [] }
        let options: MegaplanTextOptions
        do {
            options = try JSON.decode(MegaplanTextOptions.self, from: JSON.string(settings["texts"] ?? .object([:])))
        } catch {
            return [SettingsProblem(field: "texts", TextJobNote.ownOptionsUnreadable(what: MPSays.textOptions.phrase, error: "\(error)"))]
        }
        var out: [SettingsProblem] = []
        let parts: [(String, Part, Bool, Bool, Bool, String?)] = [
            ("requests", options.requests, rules.requests.enabled, rules.requests.createDeal, rules.requests.createTask,
             rules.requests.defaultResponsible),
            ("chats", options.chats, rules.chats.enabled, rules.chats.createDeal, rules.chats.createTask, rules.chats.defaultResponsible),
        ]
        for (name, part, enabled, process, todo, defaultResponsible) in parts where enabled {
            if let d = defaultResponsible, Int(d) == nil {
                out.append(SettingsProblem(field: "texts.\(name).defaultResponsible", MPSays.employeeIdNumber))
            }
            if process && (part.process.programId ?? "").isEmpty {
                out.append(SettingsProblem(field: "texts.\(name).process.programId", MPSays.chooseScheme))
            }
            if let p = part.process.programId, Int(p) == nil {
                out.append(SettingsProblem(field: "texts.\(name).process.programId", MPSays.schemeIdNumber))
            }
            for (record, r, on) in [("todo", part.todo, todo), ("process", part.process, process)] where on {
                if let who = r.responsible, who != "client", Int(who) == nil {
                    out.append(SettingsProblem(field: "texts.\(name).\(record).responsible",
                                               MPSays.responsible))
                }
            }
            for (source, field) in part.extraFields {
                if !sources.contains(source) {
                    out.append(SettingsProblem(field: "texts.\(name).extraFields",
                                               InputProblem.notOneOf(source, sources)))
                }
                if field.trimmingCharacters(in: .whitespaces).isEmpty {
                    out.append(SettingsProblem(field: "texts.\(name).extraFields", MPSays.chooseField(source)))
                }
            }
        }
        // A chat moment Switchboard is not told about makes nothing: the shared rules must list it.
        if rules.chats.enabled {
            let told = Set([rules.chats.trigger] + rules.chats.alsoAt)
            for (record, moment, on) in [("clientEvent", options.chats.clientEvent, rules.chats.createContact),
                                         ("todo.event", options.chats.todo.event, rules.chats.createTask),
                                         ("process.event", options.chats.process.event, rules.chats.createDeal)] where on {
                if let moment, !told.contains(moment) {
                    out.append(SettingsProblem(field: "texts.chats.\(record)",
                                               MPSays.addAlsoAt(moment.rawValue)))
                }
            }
        }
        return out
    }

    /// The value of `source` in a communication.
    static func value(_ source: String, of text: TextCommunication) -> String? {
        let v: String?
        switch source {
        case "site": v = text.site
        case "requestType": v = text.requestType
        case "channel": v = text.channel
        case "page": v = text.page
        default: v = text.utm[source]
        }
        return v.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Megaplan field → value for a communication.
    func fieldValues(_ part: Part, of text: TextCommunication) -> [String: String] {
        var out: [String: String] = [:]
        for (source, field) in part.extraFields {
            if let v = Self.value(source, of: text) { out[field] = v }
        }
        return out
    }
}

/// CORE-15/MP-10 for Megaplan: a request (or a chat, at the moment chosen per record) makes a client
/// (`ContractorHuman` with the visitor's phone and e-mail, its extra fields), the request's text as a comment on the
/// client, a todo (on the client's card: `POST /api/v3/contractorHuman/{id}/todos`, else `POST /api/v3/todo`) and a
/// process (`POST /api/v3/deal` in the chosen scheme, the communication in its description); a client Megaplan knows by
/// phone or e-mail is kept. A finished chat's transcript becomes a comment on the client (and on the process):
/// `POST /api/v3/{contractorHuman|contractorCompany|deal}/{id}/comments`. Todos and processes carry the marker
/// `Switchboard: <communication id>` by which a retry after an unanswered write finds them.
public enum MegaplanTexts {
    typealias Moment = TextRules.ChatTrigger

    static func spec(_ mp: MegaplanConnector) -> TextSpec {
        var spec = TextSpec(events: Set(TextEvent.allCases), problems: MegaplanTextOptions.problems) { delivery, log in
            try await deliver(&delivery, mp: mp, log: log)
        }
        spec.workspace = WorkspaceEmbed(instructions: workspaceInstructions)
        return spec
    }

    /// CORE-18 (guide 001: "встройка нашего виджета РМО в кабинет Megaplan при подключении соответствующего
    /// расширения").
    public static let workspaceInstructions = """
        In Megaplan, as a user of the «Директора» or «Админы» group: «Настройки» → «Приложения» → «Создать приложение» \
        (an application of your own account), add a page or a widget of the iframe kind and give it the workspace's \
        address from POST /api/v1/workspace/tokens (an address with a token for up to 24 hours: make a new one before it \
        expires); switch the application on for the operators' group. Operators then answer the site's chats inside \
        Megaplan; what the chats make reaches Megaplan by these rules.
        """

    /// The marker in a todo's or process's description, by which a retry finds it.
    static func marker(_ text: TextCommunication) -> String { "Switchboard: \(text.id)" }

    static func deliver(_ d: inout TextDelivery, mp: MegaplanConnector, log: AttemptLog) async throws {
        let api = mp.client(tenantId: d.integration.tenantId, credential: d.credential, log: log)
        let jobs = MegaplanCallJobs(connector: mp)
        let options = try d.own(MegaplanTextOptions.self, default: MegaplanTextOptions())
        let text = d.text, event = d.event, rules = d.rules, integrationId = d.integration.id
        let isRequest = text.kind == .request
        let part = isRequest ? options.requests : options.chats
        let responsible = d.responsible, summary = d.summary, title = d.title, mark = marker(text)
        /// Whether a record chosen for `moment` is made now (a request makes everything when it arrives).
        func now(_ moment: Moment?) -> Bool { isRequest || event == (moment ?? rules.chats.trigger).event }
        func typeMatches(_ types: [String]) -> Bool {
            !isRequest || types.isEmpty || types.contains { $0.lowercased() == (text.requestType ?? "").lowercased() }
        }

        // What Megaplan knew of the visitor at this moment; kept, so a retry decides the same way.
        let knownKey = "known.client.\(event.rawValue)"
        var client: MegaplanClientRef?
        if let kept = d.ledger[knownKey] {
            client = kept.isEmpty ? nil : try? JSON.decode(MegaplanClientRef.self, from: kept)
        } else {
            client = try await knownClient(text, api: api, jobs: jobs, integrationId: integrationId)
            try await d.ledger.keep([knownKey: client.map { JSON.string($0) } ?? ""])
            if text.hasContactDetails {
                log.note(client.map { MPSays.knowsVisitor(kind: $0.contentType, id: $0.id) } ?? MPSays.noVisitorClient)
            }
        }
        if client == nil, let made = d.ledger["client"] { client = try? JSON.decode(MegaplanClientRef.self, from: made) }
        let fields = options.fieldValues(part, of: text)

        // The client, with its extra fields; or the fields written into the known client ("Обновлять всегда").
        if now(part.clientEvent) {
            if client == nil, d.wantsContact {
                var body: [String: Any] = ["contentType": MegaplanFacts.newClientType, "firstName": d.contactName]
                var contact: [[String: Any]] = []
                if let phone = text.phoneNumber() {
                    contact.append(["contentType": "ContactInfo", "type": "phone", "value": phone.e164 ?? phone.display, "isMain": true])
                }
                if let email = text.email, !email.isEmpty {
                    contact.append(["contentType": "ContactInfo", "type": "email", "value": email, "isMain": contact.isEmpty])
                }
                if !contact.isEmpty { body["contactInfo"] = contact }
                if !responsible.isEmpty { body["responsibles"] = [MegaplanCallJobs.employee(responsible)] }
                for (k, v) in fields { body[k] = v }
                let path = MegaplanFacts.clientPath(MegaplanFacts.newClientType)
                let made = try await d.ledger.once("client", find: { _ in
                    // A visitor with no phone or e-mail cannot be found again: a retry after an unanswered write may make a
                    // second client (the guide warns such chats make duplicates anyway).
                    try await knownClient(text, api: api, jobs: jobs, integrationId: integrationId).map { ["client": JSON.string($0)] }
                }, write: {
                    let answer = try await api.post(path, body, what: .createClient)
                    guard let id = answer.object?["id"].map({ "\($0)" }) else {
                        throw DeliveryError.retryable(MPSays.noId(path).phrase)
                    }
                    return ["client": JSON.string(MegaplanClientRef(contentType: MegaplanFacts.newClientType, id: id,
                                                                    responsible: responsible.isEmpty ? nil : responsible))]
                })
                client = made.flatMap { try? JSON.decode(MegaplanClientRef.self, from: $0) }
                // Calls from the same number find this client too.
                if let client, let last10 = text.phoneNumber()?.last10 {
                    try await mp.entities.rememberFirst(integrationId: integrationId, scope: MegaplanConnector.clientScope(last10),
                                                       kind: "client", value: JSON.string(client))
                }
            } else if let known = client, d.ledger["client"] == nil, part.updateAlways, !fields.isEmpty {
                var body: [String: Any] = ["contentType": known.contentType]
                for (k, v) in fields { body[k] = v }
                try await d.ledger.once("fields", find: { _ in nil }, write: {
                    _ = try await api.post(known.path, body, what: .updateClientFields)
                    return ["fields": known.id]
                })
            }
        }

        // The request's text on the client's card ("передача текста заявок … в контакт").
        if isRequest, let client {
            let content = html(summary)
            try await d.ledger.once("note", find: { _ in try await comment(on: client.path, content: content, kind: "note", api: api) },
                                    write: { try await addComment(on: client.path, content: content, kind: "note", api: api) })
        }

        func who(_ choice: String?) -> String? {
            switch choice {
            case nil: return responsible.isEmpty ? nil : responsible
            case "client"?: return client?.responsible ?? (responsible.isEmpty ? nil : responsible)
            case let id?: return id
            }
        }

        // A todo ("Создавать дело"), on the client's card when there is a client.
        let todoOn = isRequest ? rules.requests.createTask && typeMatches(part.todo.types) : rules.chats.createTask && now(part.todo.event)
        if todoOn {
            var categories: [String: String?] = [:]
            let category = try await jobs.category("todo", api: api, cache: &categories)
            var body: [String: Any] = ["contentType": "Todo",
                                       "name": (isRequest ? "Обработать заявку с сайта " : "Обработать чат с сайта ") + text.site,
                                       "description": summary + "\n" + mark,
                                       "when": MegaplanFacts.interval(from: Date(), to: Date().addingTimeInterval(3_600))]
            if let category { body["category"] = ["contentType": "TodoCategory", "id": category] }
            if let person = who(part.todo.responsible) { body["responsible"] = MegaplanCallJobs.employee(person) }
            if let client { body["relations"] = [client.link] }
            let path = client.map { "\($0.path)/todos" } ?? MegaplanFacts.todoPath
            try await d.ledger.once("todo", find: { _ in
                let list = try await api.get(path, ["limit": 100, "sortBy": [["contentType": "SortField", "fieldName": "timeCreated", "desc": true]]],
                                             what: .findCommunicationTodo)
                return list.list.first { ($0["description"] as? String)?.contains(mark) == true }?["id"].map { ["todo": "\($0)"] }
            }, write: {
                let answer = try await api.post(path, body, what: .createTodo)
                guard let id = answer.object?["id"].map({ "\($0)" }) else { throw DeliveryError.retryable(MPSays.noId(path).phrase) }
                return ["todo": id]
            })
        }

        // A process ("Создавать процесс"): a deal in the chosen scheme.
        let processOn = isRequest ? rules.requests.createDeal && typeMatches(part.process.types)
            : rules.chats.createDeal && now(part.process.event)
        if processOn, let program = part.process.programId {
            var body: [String: Any] = ["contentType": "Deal", "program": ["contentType": "Program", "id": program],
                                       "name": title, "description": summary + "\n" + mark]
            if let person = who(part.process.responsible) { body["manager"] = MegaplanCallJobs.employee(person) }
            if let client { body["contractor"] = client.link }
            try await MegaplanCallJobs.process(body, program: program, marker: mark, of: .findProcess(ofCall: false), api: api, ledger: &d.ledger)
        }

        // The transcript, when the chat finishes: in the client's history, and on the process the chat made.
        if d.wantsTranscript {
            let content = html("Переписка в чате с сайта \(text.site)\n" + text.transcriptText())
            var places: [(kind: String, path: String)] = []
            if let client { places.append(("transcript", client.path)) }
            if let process = d.ledger["process"] { places.append(("transcript.process", "deal/\(process)")) }
            if places.isEmpty { log.note(MPSays.transcriptNoPlace) }
            for place in places {
                try await d.ledger.once(place.kind, find: { _ in
                    try await comment(on: place.path, content: content, kind: place.kind, api: api)
                }, write: {
                    try await addComment(on: place.path, content: content, kind: place.kind, api: api)
                })
            }
        }
    }

    /// The client Megaplan knows by the visitor's phone (last 10 digits), else by their e-mail.
    static func knownClient(_ text: TextCommunication, api: MegaplanClient, jobs: MegaplanCallJobs,
                            integrationId: String) async throws -> MegaplanClientRef? {
        if let phone = text.phoneNumber(), let found = try await jobs.findClient(api, phone, integrationId: integrationId) { return found }
        guard MegaplanFacts.clientSearchByEmail, let email = text.email?.trimmingCharacters(in: .whitespaces).lowercased(), !email.isEmpty else {
            return nil
        }
        let found = try await api.get(MegaplanFacts.clientSearchPath, ["q": email, "limit": 50], what: .findClientByEmail)
        for o in found.list {
            guard let type = o["contentType"] as? String, let id = o["id"].map({ "\($0)" }) else { continue }
            let emails = (o["contactInfo"] as? [[String: Any]])?.filter { $0["type"] as? String == "email" }
                .compactMap { ($0["value"] as? String)?.lowercased() } ?? []
            guard emails.contains(email) else { continue }
            let responsible = ((o["responsibles"] as? [[String: Any]])?.first?["id"]).map { "\($0)" }
            return MegaplanClientRef(contentType: type, id: id, responsible: responsible)
        }
        return nil
    }

    /// Text as a comment's HTML: escaped, one line a `<br>`.
    static func html(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\n", with: "<br>")
    }

    static func addComment(on path: String, content: String, kind: String, api: MegaplanClient) async throws -> [String: String] {
        let answer = try await api.post("\(path)/comments", ["contentType": "Comment", MegaplanFacts.commentField: content],
                                        what: kind == "note" ? .writeRequest : .writeTranscript)
        guard let id = answer.object?["id"].map({ "\($0)" }) else { throw DeliveryError.retryable(MPSays.noId("comments").phrase) }
        return [kind: id]
    }

    /// The comment with `content` an interrupted attempt wrote.
    static func comment(on path: String, content: String, kind: String, api: MegaplanClient) async throws -> [String: String]? {
        let list = try await api.get("\(path)/comments", ["limit": 100], what: .findCommentMade)
        return list.list.first { $0[MegaplanFacts.commentField] as? String == content }?["id"].map { [kind: "\($0)"] }
    }
}
