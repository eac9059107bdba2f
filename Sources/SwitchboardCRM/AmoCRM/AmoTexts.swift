import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

/// amoCRM's part of the `texts` settings block: where requests' and chats' deals go.
struct AmoTextOptions: Decodable, Sendable {
    struct Part: Decodable, Sendable {
        /// The deal's pipeline; amoCRM's main pipeline when nil.
        var pipelineId: Int?
        /// The deal's stage in that pipeline; the pipeline's first stage when nil.
        var statusId: Int?
        /// Requests go to Unsorted as web forms (`leads/unsorted/forms`) for a manager to accept, instead of a deal.
        var unsorted: Bool?
    }
    var requests = Part()
    var chats = Part()

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        requests = try c.decodeIfPresent(Part.self, forKey: .requests) ?? Part()
        chats = try c.decodeIfPresent(Part.self, forKey: .chats) ?? Part()
    }

    enum CodingKeys: String, CodingKey { case requests, chats }
}

/// CORE-15 for amoCRM: a request (or a chat at its trigger) makes a contact and a deal — one `leads/complex` request
/// for a new sender, a deal on the existing contact for a known one — with the request as a note on the deal and,
/// by the rules, a task; a finished chat's transcript becomes a note on the contact.
enum AmoTexts {
    static func spec(_ amo: AmoConnector) -> TextSpec {
        TextSpec(events: Set(TextEvent.allCases),
                 problems: TextSpec.problems(numericUsers: AmoCRM.title, own: AmoTextOptions.self,
                                             what: AmoSays.textOptions.phrase)) { delivery, log in
            try await deliver(&delivery, amo: amo, log: log)
        }
    }

    static func deliver(_ d: inout TextDelivery, amo: AmoConnector, log: AttemptLog) async throws {
        let api = AmoAPI(client: amo.client(tenantId: d.integration.tenantId, credential: d.credential, log: log))
        let options = try d.own(AmoTextOptions.self, default: AmoTextOptions())
        let part = d.text.kind == .request ? options.requests : options.chats
        let responsible = Int(d.responsible) ?? 0
        let phone = d.text.phoneNumber()
        let look = phone.map { AmoReconcile(api: api, client: $0, callId: d.text.id) }

        // What amoCRM knew of the sender when the communication first ran; kept, so a retry decides the same way.
        var contactId: Int?
        if let known = d.ledger["known.contact"] {
            contactId = Int(known)
        } else {
            let found = try await phone.asyncMap { try await api.contact(byPhone: $0) } ?? nil
            contactId = found?.id
            try await d.ledger.keep(["known.contact": found.map { String($0.id) } ?? ""])
            log.note(found.map { AmoSays.knowsSender(contact: $0.id) } ?? AmoSays.noSenderContact)
        }
        contactId = contactId ?? (d.ledger["contact"]).flatMap { Int($0) }
        var leadId = d.ledger["lead"].flatMap { Int($0) }

        if d.wantsDeal, d.text.kind == .request, part.unsorted == true {
            let entry = unsortedForm(d, pipeline: part.pipelineId, contactId: contactId, responsible: responsible)
            let textId = d.text.id
            try await d.ledger.once("unsorted", find: { _ in try await unsortedEntry(api, sourceUid: textId) }, write: {
                let answer = try await api.client.call(.POST, "/api/v4/leads/unsorted/forms", json: [entry], what: .createUnsorted)
                guard let made = ((answer.json as? [String: Any])?["_embedded"] as? [String: Any])?["unsorted"] as? [[String: Any]],
                      let ids = Self.ids(made.first) else {
                    throw DeliveryError.retryable(AmoSays.noLead("leads/unsorted/forms").phrase)
                }
                return ids
            })
            leadId = d.ledger["unsorted"].flatMap { Int($0) }
            contactId = contactId ?? d.ledger["unsorted.contact"].flatMap { Int($0) }
        } else if d.wantsDeal {
            let pipeline: Int
            if let p = part.pipelineId { pipeline = p } else if let kept = d.ledger["pipeline"].flatMap({ Int($0) }) { pipeline = kept } else {
                let list = try await api.pipelines()
                guard let main = (list.first { $0.isMain } ?? list.first)?.id else {
                    throw DeliveryError.permanent(AmoSays.noPipelineForDeal.phrase)
                }
                pipeline = main
                try await d.ledger.keep(["pipeline": String(main)])
            }
            var lead: [String: Any] = ["name": d.title, "pipeline_id": pipeline, "responsible_user_id": responsible, "request_id": "lead"]
            if let status = part.statusId { lead["status_id"] = status }
            let existing = contactId, newContact = existing == nil && d.wantsContact
            let body = contactBody(d, responsible: responsible)
            let name = d.title
            let id = try await d.ledger.once("lead", find: { since in
                try await look?.lead(contactId: existing, name: name, pipeline: pipeline, since: since)
            }, write: {
                var embedded: [String: Any] = ["tags": [["name": "Switchboard"]]]
                if newContact {
                    embedded["contacts"] = [body]
                    lead["_embedded"] = embedded
                    let answer = try await api.client.call(.POST, "/api/v4/leads/complex", json: [lead], what: .createContactAndDeal)
                    guard let first = (answer.json as? [[String: Any]])?.first, let id = first["id"] as? Int else {
                        throw DeliveryError.retryable(AmoSays.noId("leads/complex").phrase)
                    }
                    var ids = ["lead": String(id)]
                    if let c = first["contact_id"] as? Int { ids["contact"] = String(c) }
                    return ids
                }
                if let existing { embedded["contacts"] = [["id": existing]] }
                lead["_embedded"] = embedded
                let answer = try await api.client.call(.POST, "/api/v4/leads", json: [lead], what: .createDeal)
                return ["lead": String(try AmoCallFinishedHandler.firstId(answer, "leads"))]
            })
            leadId = id.flatMap { Int($0) } ?? leadId
            contactId = contactId ?? d.ledger["contact"].flatMap { Int($0) }
        } else if d.makesRecords, d.wantsContact, contactId == nil {
            let body = contactBody(d, responsible: responsible)
            let id = try await d.ledger.once("contact", find: { _ in try await look?.contact() }, write: {
                let answer = try await api.client.call(.POST, "/api/v4/contacts", json: [body], what: .createContact)
                return ["contact": String(try AmoCallFinishedHandler.firstId(answer, "contacts"))]
            })
            contactId = id.flatMap { Int($0) }
        }

        // The request itself, readable in the deal's (else the contact's) feed.
        let place: (type: String, id: Int)? = leadId.map { ("leads", $0) } ?? contactId.map { ("contacts", $0) }
        if d.makesRecords, let place {
            let text = d.summary
            try await d.ledger.once("note", find: { since in try await note(api, place, text: text, since: since) }, write: {
                try await addNote(api, place, text: text, what: .addRequestNote)
            })
        }

        if d.wantsTask {
            let text = d.text.kind == .request ? "Обработать заявку с сайта \(d.text.site)" : "Обработать чат с сайта \(d.text.site)"
            try await d.ledger.once("task", find: { since in
                try await look?.task(text: text, responsible: responsible, entityType: place?.type, entityId: place?.id, since: since)
            }, write: {
                var task: [String: Any] = ["text": text, "task_type_id": 1, "responsible_user_id": responsible, "request_id": "task",
                                           "complete_till": Int(Date().addingTimeInterval(86_400).timeIntervalSince1970)]
                if let place { task["entity_type"] = place.type; task["entity_id"] = place.id }
                let answer = try await api.client.call(.POST, "/api/v4/tasks", json: [task], what: .createTask)
                return ["task": String(try AmoCallFinishedHandler.firstId(answer, "tasks"))]
            })
        }

        if d.wantsTranscript {
            guard let contactId else {
                log.note(AmoSays.transcriptNoContact)
                return
            }
            let text = "Переписка в чате с сайта \(d.text.site)\n" + d.text.transcriptText()
            try await d.ledger.once("transcript", find: { since in
                try await note(api, ("contacts", contactId), text: text, since: since, kind: "transcript")
            }, write: {
                try await addNote(api, ("contacts", contactId), text: text, what: .writeTranscript, kind: "transcript")
            })
        }
    }

    /// A web form's Unsorted entry (amoCRM API v4 `leads/unsorted/forms`): the communication's id as `source_uid`, the
    /// site and page as the form, the sender's contact (or the known one).
    static func unsortedForm(_ d: TextDelivery, pipeline: Int?, contactId: Int?, responsible: Int) -> [String: Any] {
        let sent = Int(d.text.createdAt.timeIntervalSince1970)
        var entry: [String: Any] = [
            "source_name": "Switchboard", "source_uid": d.text.id, "created_at": sent, "request_id": "unsorted",
            "metadata": ["form_id": d.text.siteId, "form_name": d.title, "form_page": d.text.page ?? d.text.site,
                         "form_sent_at": sent, "referer": d.text.page ?? "", "ip": ""] as [String: Any],
            "_embedded": ["leads": [["name": d.title, "responsible_user_id": responsible]],
                          "contacts": [contactId.map { ["id": $0] as [String: Any] } ?? contactBody(d, responsible: responsible)]],
        ]
        if let pipeline { entry["pipeline_id"] = pipeline }
        return entry
    }

    /// The Unsorted entry's deal and contact, as the ledger keeps them.
    static func ids(_ entry: [String: Any]?) -> [String: String]? {
        guard let embedded = entry?["_embedded"] as? [String: Any],
              let lead = (embedded["leads"] as? [[String: Any]])?.first?["id"] as? Int else { return nil }
        var ids = ["unsorted": String(lead)]
        if let contact = (embedded["contacts"] as? [[String: Any]])?.first?["id"] as? Int { ids["unsorted.contact"] = String(contact) }
        return ids
    }

    /// The web form entry an interrupted attempt made, by its `source_uid`.
    static func unsortedEntry(_ api: AmoAPI, sourceUid: String) async throws -> [String: String]? {
        let answer = try await api.client.call(.GET, "/api/v4/leads/unsorted?filter%5Bcategory%5D%5B%5D=forms&order%5Bcreated_at%5D=desc&limit=250",
                                               what: .findUnsortedMade)
        return ids(AmoReconcile.embedded(answer, "unsorted").first { $0["source_uid"] as? String == sourceUid })
    }

    static func contactBody(_ d: TextDelivery, responsible: Int) -> [String: Any] {
        var fields: [[String: Any]] = []
        if let phone = d.text.phoneNumber() {
            fields.append(["field_code": "PHONE", "values": [["value": phone.display, "enum_code": "WORK"]]])
        }
        if let email = d.text.email, !email.isEmpty {
            fields.append(["field_code": "EMAIL", "values": [["value": email, "enum_code": "WORK"]]])
        }
        var c: [String: Any] = ["name": d.contactName, "responsible_user_id": responsible]
        if !fields.isEmpty { c["custom_fields_values"] = fields }
        return c
    }

    static func addNote(_ api: AmoAPI, _ place: (type: String, id: Int), text: String, what: AmoRequest,
                        kind: String = "note") async throws -> [String: String] {
        let answer = try await api.client.call(.POST, "/api/v4/\(place.type)/notes", json: [
            ["entity_id": place.id, "note_type": "common", "params": ["text": text], "request_id": "note"],
        ], what: what)
        return [kind: String(try AmoCallFinishedHandler.firstId(answer, "notes"))]
    }

    /// A common note with `text` on the entity, made since `since` (an interrupted attempt's).
    static func note(_ api: AmoAPI, _ place: (type: String, id: Int), text: String, since: Date,
                     kind: String = "note") async throws -> [String: String]? {
        let answer = try await api.client.call(.GET, "/api/v4/\(place.type)/\(place.id)/notes?filter%5Bnote_type%5D%5B%5D=common&limit=250",
                                               what: .findNoteMade)
        let from = AmoReconcile.seconds(since)
        let found = AmoReconcile.embedded(answer, "notes").filter {
            ($0["params"] as? [String: Any])?["text"] as? String == text && ($0["created_at"] as? Int ?? 0) >= from
        }.compactMap { $0["id"] as? Int }.max()
        return found.map { [kind: String($0)] }
    }
}

extension Optional {
    /// `map` with an asynchronous, throwing transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let v): return try await transform(v)
        case .none: return nil
        }
    }
}
