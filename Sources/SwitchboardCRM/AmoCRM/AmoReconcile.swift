import Foundation
import SwitchboardCore

/// Finds in amoCRM what an attempt that died after amoCRM answered may have made for a call, by the call's own
/// markers (the caller's phone, the call's `uniq`, the Unsorted `source_uid`), among what was made since the attempt
/// meant to write. Reads only, over amoCRM API v4 (api-notes A3); each returns kind → id for `WriteLedger`, or nil.
struct AmoReconcile {
    let api: AmoAPI
    let client: PhoneNumber
    let callId: String

    var http: AmoClient { api.client }

    static func embedded(_ answer: AmoClient.Answer, _ key: String) -> [[String: Any]] {
        guard answer.status != 204 else { return [] }
        return ((answer.json as? [String: Any])?["_embedded"] as? [String: Any])?[key] as? [[String: Any]] ?? []
    }

    /// Whole seconds, as amoCRM's `created_at`; a second early, so a thing made in the intent's second counts.
    static func seconds(_ date: Date) -> Int { Int(date.timeIntervalSince1970.rounded(.down)) - 1 }

    /// The contact with the caller's number (the one a contact-making write would have made).
    func contact() async throws -> [String: String]? {
        try await api.contact(byPhone: client).map { ["contact": String($0.id)] }
    }

    /// A deal named `name` in `pipeline`, made since `since`, among the deals of the contact (`contactId`, else the
    /// contact with the caller's number): `GET /api/v4/contacts/{id}?with=leads`, then the deals by id.
    func lead(contactId: Int?, name: String, pipeline: Int, since: Date) async throws -> [String: String]? {
        let contact: AmoAPI.Contact?
        if let contactId { contact = try await api.contact(id: contactId) } else { contact = try await api.contact(byPhone: client) }
        guard let contact, !contact.leadIds.isEmpty else { return nil }
        let query = contact.leadIds.suffix(50).map { "filter%5Bid%5D%5B%5D=\($0)" }.joined(separator: "&")
        let answer = try await http.call(.GET, "/api/v4/leads?\(query)", what: .findDealMade)
        let from = Self.seconds(since)
        let lead = Self.embedded(answer, "leads").filter {
            $0["name"] as? String == name && $0["pipeline_id"] as? Int == pipeline && ($0["created_at"] as? Int ?? 0) >= from
        }.compactMap { $0["id"] as? Int }.max()
        return lead.map { ["lead": String($0), "contact": String(contact.id)] }
    }

    /// The Unsorted entry whose `source_uid` is the call's id (Switchboard also sends it as `metadata.uniq`):
    /// `GET /api/v4/leads/unsorted?filter[category][]=sip`, newest first.
    func unsorted(pipeline: Int?) async throws -> [String: String]? {
        var path = "/api/v4/leads/unsorted?filter%5Bcategory%5D%5B%5D=sip&order%5Bcreated_at%5D=desc&limit=250"
        if let pipeline { path += "&filter%5Bpipeline_id%5D=\(pipeline)" }
        let answer = try await http.call(.GET, path, what: .findUnsortedMade)
        let entry = Self.embedded(answer, "unsorted").first { item in
            item["source_uid"] as? String == callId || (item["metadata"] as? [String: Any])?["uniq"] as? String == callId
        }
        guard let embedded = entry?["_embedded"] as? [String: Any],
              let lead = (embedded["leads"] as? [[String: Any]])?.first?["id"] as? Int else { return nil }
        var ids = ["unsorted": String(lead)]
        if let contact = (embedded["contacts"] as? [[String: Any]])?.first?["id"] as? Int { ids["unsorted.contact"] = String(contact) }
        return ids
    }

    /// The call note whose `params.uniq` is the call's id, on the caller's contact or one of its deals (amoCRM puts a
    /// logged call on the contact's only open deal, else on the contact): `GET /api/v4/{type}/{id}/notes`.
    func callNote() async throws -> [String: String]? {
        guard let contact = try await api.contact(byPhone: client) else { return nil }
        let places = [("contacts", contact.id)] + contact.leadIds.suffix(10).reversed().map { ("leads", $0) }
        for (type, id) in places {
            let answer = try await http.call(
                .GET, "/api/v4/\(type)/\(id)/notes?filter%5Bnote_type%5D%5B%5D=call_in&filter%5Bnote_type%5D%5B%5D=call_out&limit=250",
                what: .findCallMade)
            let note = Self.embedded(answer, "notes").first { ($0["params"] as? [String: Any])?["uniq"] as? String == callId }
            if let noteId = note?["id"] as? Int { return ["call": String(noteId)] }
        }
        return nil
    }

    /// A task with `text` for `responsible` on the entity, made since `since`: `GET /api/v4/tasks` filtered by the
    /// entity and the responsible user.
    func task(text: String, responsible: Int, entityType: String?, entityId: Int?, since: Date) async throws -> [String: String]? {
        var path = "/api/v4/tasks?filter%5Bresponsible_user_id%5D%5B%5D=\(responsible)&limit=250"
        if let entityType, let entityId { path += "&filter%5Bentity_type%5D=\(entityType)&filter%5Bentity_id%5D%5B%5D=\(entityId)" }
        let answer = try await http.call(.GET, path, what: .findTaskMade)
        let from = Self.seconds(since)
        let task = Self.embedded(answer, "tasks").filter {
            $0["text"] as? String == text && ($0["created_at"] as? Int ?? 0) >= from &&
                (entityId == nil || $0["entity_id"] as? Int == entityId)
        }.compactMap { $0["id"] as? Int }.max()
        return task.map { ["task": String($0)] }
    }
}

extension AmoAPI {
    /// One contact with its deals: `GET /api/v4/contacts/{id}?with=leads` (204 when there is none).
    public func contact(id: Int) async throws -> Contact? {
        let answer = try await client.call(.GET, "/api/v4/contacts/\(id)?with=leads", what: .readContact)
        guard answer.status != 204, let c = answer.json as? [String: Any], let cid = c["id"] as? Int else { return nil }
        let leads = ((c["_embedded"] as? [String: Any])?["leads"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
        return Contact(id: cid, name: c["name"] as? String ?? "", responsibleUserId: c["responsible_user_id"] as? Int ?? 0,
                       leadIds: leads)
    }
}
