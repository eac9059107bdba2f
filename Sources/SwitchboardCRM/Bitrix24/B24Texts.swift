import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

/// Bitrix24's part of the `texts` settings block: what a request (or a chat) becomes.
struct B24TextOptions: Decodable, Sendable {
    /// `auto`: a lead in the classic CRM, a contact and a deal in the simple CRM (the portal's mode decides);
    /// `lead` or `contactDeal` fixes it.
    enum Entity: String, Decodable, Sendable, CaseIterable { case auto, lead, contactDeal }
    struct Part: Decodable, Sendable {
        var entity: Entity = .auto

        init() {}

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            entity = try c.decodeIfPresent(Entity.self, forKey: .entity) ?? .auto
        }

        enum CodingKeys: String, CodingKey { case entity }
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

/// CORE-15 for Bitrix24: a request (or a chat at its trigger) becomes a lead with the sender's contact fields and UTM
/// (`crm.lead.add`, classic CRM), or a contact and a deal (`crm.contact.add` + `crm.deal.add`, simple CRM); a sender
/// the portal knows by phone or e-mail (`crm.duplicate.findbycomm`) keeps their contact. Every record carries
/// `ORIGINATOR_ID` `switchboard` and `ORIGIN_ID` = the communication's id, by which an interrupted attempt's record is
/// found again. A task by the rules (`tasks.task.add`), and a finished chat's transcript as a timeline comment
/// (`crm.timeline.comment.add`) on the contact, else the lead or deal.
enum B24Texts {
    static let originator = "switchboard"

    static func spec(_ b24: B24Connector) -> TextSpec {
        TextSpec(events: Set(TextEvent.allCases),
                 problems: TextSpec.problems(numericUsers: Bitrix24.title, own: B24TextOptions.self,
                                             what: B24Says.textEntity(allowed: B24TextOptions.Entity.allCases.map(\.rawValue)).phrase)) { delivery, log in
            try await deliver(&delivery, b24: b24, log: log)
        }
    }

    static func deliver(_ d: inout TextDelivery, b24: B24Connector, log: AttemptLog) async throws {
        let api = b24.client(tenantId: d.integration.tenantId, credential: d.credential, log: log)
        let options = try d.own(B24TextOptions.self, default: B24TextOptions())
        let part = d.text.kind == .request ? options.requests : options.chats
        let text = d.text, summary = d.summary, title = d.title, responsible = d.responsible

        // What the portal knew of the sender (and its CRM mode) when the communication first ran; kept for retries.
        if d.ledger["known.contact"] == nil {
            let known = try await knownContact(text, api: api)
            try await d.ledger.keep(["known.contact": known ?? ""])
            log.note(known.map { B24Says.knowsSender(contact: $0) } ?? B24Says.noSenderContact)
        }
        var contactId = (d.ledger["known.contact"]).flatMap { $0.isEmpty ? nil : $0 } ?? d.ledger["contact"]
        let entity: B24TextOptions.Entity
        if part.entity != .auto {
            entity = part.entity
        } else if let kept = d.ledger["mode"].flatMap(B24TextOptions.Entity.init(rawValue:)) {
            entity = kept
        } else {
            let mode = "\(try await api.call("crm.settings.mode.get", what: .readMode))"
            entity = mode == "2" ? .contactDeal : .lead
            try await d.ledger.keep(["mode": entity.rawValue])
        }

        var owner: (type: String, id: String)? = contactId.map { ("contact", $0) }
        if d.makesRecords {
            switch entity {
            case .lead where d.wantsDeal || d.wantsContact:
                var fields = common(text, title: title, summary: summary, responsible: responsible)
                fields.merge(contactFields(text, name: d.contactName)) { a, _ in a }
                if let contactId { fields["CONTACT_ID"] = .string(contactId) }
                let made = try await d.ledger.once("lead", find: { _ in try await origin("crm.lead.list", text, api: api, kind: "lead") },
                                                   write: {
                    ["lead": "\(try await api.call("crm.lead.add", ["fields": .map(fields), "params": .map(["REGISTER_SONET_EVENT": "Y"])], what: .createLead))"]
                })
                if contactId == nil, let made { owner = ("lead", made) }
            default:
                if contactId == nil, d.wantsContact {
                    var fields = contactFields(text, name: d.contactName)
                    fields.merge(common(text, title: nil, summary: nil, responsible: responsible)) { a, _ in a }
                    contactId = try await d.ledger.once("contact", find: { _ in
                        try await origin("crm.contact.list", text, api: api, kind: "contact")
                    }, write: {
                        ["contact": "\(try await api.call("crm.contact.add", ["fields": .map(fields)], what: .createContact))"]
                    })
                    owner = contactId.map { ("contact", $0) }
                }
                if d.wantsDeal {
                    var fields = common(text, title: title, summary: summary, responsible: responsible)
                    if let contactId { fields["CONTACT_ID"] = .string(contactId) }
                    let made = try await d.ledger.once("deal", find: { _ in try await origin("crm.deal.list", text, api: api, kind: "deal") },
                                                       write: {
                        ["deal": "\(try await api.call("crm.deal.add", ["fields": .map(fields)], what: .createDeal))"]
                    })
                    if owner == nil, let made { owner = ("deal", made) }
                }
            }
        } else {
            owner = owner ?? d.ledger["lead"].map { ("lead", $0) } ?? d.ledger["deal"].map { ("deal", $0) }
        }

        if d.wantsTask {
            let binding = owner.map { "\($0.type == "contact" ? "C" : $0.type == "lead" ? "L" : "D")_\($0.id)" }
            var fields: [String: B24Value] = [
                "TITLE": .string(text.kind == .request ? "Обработать заявку с сайта \(text.site)" : "Обработать чат с сайта \(text.site)"),
                "RESPONSIBLE_ID": .string(responsible), "DESCRIPTION": .string(summary),
            ]
            if let binding { fields["UF_CRM_TASK"] = .list([.string(binding)]) }
            // tasks.task.add has no external marker to look for: a retry after an unanswered attempt may add a second task.
            try await d.ledger.once("task", find: { _ in nil }, write: {
                let r = try await api.call("tasks.task.add", ["fields": .map(fields)], what: .createTask)
                return ["task": "\(((r as? [String: Any])?["task"] as? [String: Any])?["id"] ?? "?")"]
            })
        }

        if d.wantsTranscript {
            guard let owner else {
                log.note(B24Says.transcriptNoRecord)
                return
            }
            let comment = "Переписка в чате с сайта \(text.site)\n" + text.transcriptText()
            try await d.ledger.once("transcript", find: { _ in
                try await timelineComment(owner, text: comment, api: api)
            }, write: {
                let fields: [String: B24Value] = ["ENTITY_ID": .string(owner.id), "ENTITY_TYPE": .string(owner.type), "COMMENT": .string(comment)]
                return ["transcript": "\(try await api.call("crm.timeline.comment.add", ["fields": .map(fields)], what: .writeTranscript))"]
            })
        }
    }

    /// The first contact with the sender's phone, else e-mail.
    static func knownContact(_ text: TextCommunication, api: B24Client) async throws -> String? {
        var lookups: [(String, String)] = []
        if let phone = text.phoneNumber() { lookups.append(("PHONE", phone.e164 ?? phone.display)) }
        if let email = text.email, !email.isEmpty { lookups.append(("EMAIL", email)) }
        for (type, value) in lookups {
            let found = try await api.call("crm.duplicate.findbycomm", ["type": .string(type), "values": .list([.string(value)]),
                                                                        "entity_type": "CONTACT"], what: .findSenderContact)
            if let ids = (found as? [String: Any])?["CONTACT"] as? [Any], let first = ids.first { return "\(first)" }
        }
        return nil
    }

    /// Fields every record of a communication carries: responsible, source, the marker, UTM; title and comments.
    static func common(_ text: TextCommunication, title: String?, summary: String?, responsible: String) -> [String: B24Value] {
        var f: [String: B24Value] = ["ASSIGNED_BY_ID": .string(responsible), "SOURCE_ID": "WEB",
                                     "ORIGINATOR_ID": .string(originator), "ORIGIN_ID": .string(text.id)]
        if let title { f["TITLE"] = .string(title) }
        if let summary { f["COMMENTS"] = .string(summary); f["SOURCE_DESCRIPTION"] = .string(text.page ?? text.site) }
        for (k, v) in text.utm where k.hasPrefix("utm_") && !v.isEmpty { f[k.uppercased()] = .string(v) }
        return f
    }

    static func contactFields(_ text: TextCommunication, name: String) -> [String: B24Value] {
        var f: [String: B24Value] = ["NAME": .string(name)]
        if let phone = text.phoneNumber() {
            f["PHONE"] = .list([.map(["VALUE": .string(phone.e164 ?? phone.display), "VALUE_TYPE": "WORK"])])
        }
        if let email = text.email, !email.isEmpty { f["EMAIL"] = .list([.map(["VALUE": .string(email), "VALUE_TYPE": "WORK"])]) }
        return f
    }

    /// The record an interrupted attempt made for this communication, by its marker.
    static func origin(_ method: String, _ text: TextCommunication, api: B24Client, kind: String) async throws -> [String: String]? {
        let found = try await api.call(method, ["filter": .map(["ORIGINATOR_ID": .string(originator), "ORIGIN_ID": .string(text.id)]),
                                                "select": .list(["ID"])], what: .findRecordMade)
        guard let first = (found as? [[String: Any]])?.first, let id = first["ID"] else { return nil }
        return [kind: "\(id)"]
    }

    /// The transcript comment an interrupted attempt wrote on `owner`.
    static func timelineComment(_ owner: (type: String, id: String), text: String, api: B24Client) async throws -> [String: String]? {
        let found = try await api.call("crm.timeline.comment.list", ["filter": .map(["ENTITY_ID": .string(owner.id), "ENTITY_TYPE": .string(owner.type)])],
                                       what: .findTranscriptMade)
        guard let comment = (found as? [[String: Any]])?.first(where: { $0["COMMENT"] as? String == text }), let id = comment["ID"] else { return nil }
        return ["transcript": "\(id)"]
    }
}
