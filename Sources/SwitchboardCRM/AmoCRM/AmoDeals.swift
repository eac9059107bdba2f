import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

/// CORE-16 for amoCRM: its leads are the deals. Lead webhooks name the changed leads; they are read with
/// `GET /api/v4/leads?filter[id][]=…&with=contacts`, their contacts' numbers with `GET /api/v4/contacts?filter[id][]=…`,
/// pipeline and stage names with the pipelines, the responsible user's name with the users (api-notes A3.13).
extension AmoConnector {
    /// The webhook settings that report lead changes (api-notes A3.12).
    static let leadWebhookSettings = ["add_lead", "update_lead", "status_lead", "restore_lead", "responsible_lead"]

    var dealSpec: DealSpec {
        DealSpec(fetch: { integration, ids, log in
            guard let api = try await dealAPI(integration, log: log) else { return [] }
            var leads: [[String: Any]] = []
            let numeric = ids.compactMap { Int($0) }
            for chunk in stride(from: 0, to: numeric.count, by: 50).map({ Array(numeric[$0..<min($0 + 50, numeric.count)]) }) {
                let query = chunk.map { "filter%5Bid%5D%5B%5D=\($0)" }.joined(separator: "&")
                leads += Self.embedded(try await api.client.call(.GET, "/api/v4/leads?\(query)&with=contacts", what: .readChangedDeals),
                                       "leads")
            }
            return try await records(leads, api: api)
        }, backfill: { integration, cursor, log in
            guard let api = try await dealAPI(integration, log: log) else { return DealPage(deals: [], next: nil) }
            let page = Int(cursor ?? "") ?? 1
            let answer = try await api.client.call(.GET, "/api/v4/leads?page=\(page)&limit=250&with=contacts&order%5Bid%5D=asc",
                                                   what: .readDeals(page: page))
            let leads = Self.embedded(answer, "leads")
            let more = ((answer.json as? [String: Any])?["_links"] as? [String: Any])?["next"] != nil
            return DealPage(deals: try await records(leads, api: api), next: more && !leads.isEmpty ? String(page + 1) : nil)
        })
    }

    func dealAPI(_ integration: Integration, log: AttemptLog?) async throws -> AmoAPI? {
        guard let id = integration.credentialId, let credential = try await credentials.get(tenantId: integration.tenantId, id: id) else {
            throw DeliveryError.permanent(ContextProblem.noCredentials(crm: AmoCRM.title).phrase)
        }
        return AmoAPI(client: client(tenantId: integration.tenantId, credential: credential, log: log))
    }

    static func embedded(_ answer: AmoClient.Answer, _ key: String) -> [[String: Any]] {
        guard answer.status != 204 else { return [] }
        return ((answer.json as? [String: Any])?["_embedded"] as? [String: Any])?[key] as? [[String: Any]] ?? []
    }

    /// amoCRM's leads as deals: the names of their pipelines, stages and responsible users, their contacts' numbers.
    func records(_ leads: [[String: Any]], api: AmoAPI) async throws -> [DealRecord] {
        guard !leads.isEmpty else { return [] }
        let pipelines = try await api.pipelines()
        let account = try await api.client.call(.GET, "/api/v4/account", what: .readCurrency)
        let currency = (account.json as? [String: Any])?["currency"] as? String
        let users = Dictionary(try await api.users().map { ($0.id, $0.name) }) { first, _ in first }
        let contactIds = Set(leads.flatMap(Self.contactIds))
        var phones: [Int: [String]] = [:]
        let ids = contactIds.sorted()
        for chunk in stride(from: 0, to: ids.count, by: 250).map({ Array(ids[$0..<min($0 + 250, ids.count)]) }) {
            let query = chunk.map { "filter%5Bid%5D%5B%5D=\($0)" }.joined(separator: "&")
            for c in Self.embedded(try await api.client.call(.GET, "/api/v4/contacts?\(query)&limit=250", what: .readDealContacts),
                                   "contacts") {
                guard let id = c["id"] as? Int else { continue }
                let fields = c["custom_fields_values"] as? [[String: Any]] ?? []
                phones[id] = fields.filter { $0["field_code"] as? String == "PHONE" }
                    .flatMap { ($0["values"] as? [[String: Any]] ?? []).compactMap { $0["value"].map { "\($0)" } } }
            }
        }
        return leads.compactMap { lead in
            Self.record(lead, pipelines: pipelines, users: users, phones: Self.contactIds(lead).flatMap { phones[$0] ?? [] },
                        currency: currency)
        }
    }

    static func contactIds(_ lead: [String: Any]) -> [Int] {
        ((lead["_embedded"] as? [String: Any])?["contacts"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
    }

    /// One lead as a deal: 142 is won and 143 lost in every pipeline (api-notes A3.10).
    static func record(_ lead: [String: Any], pipelines: [AmoAPI.Pipeline], users: [Int: String], phones: [String],
                       currency: String?) -> DealRecord? {
        guard let id = lead["id"] as? Int else { return nil }
        let pipelineId = lead["pipeline_id"] as? Int, statusId = lead["status_id"] as? Int
        let pipeline = pipelines.first { $0.id == pipelineId }
        let responsible = lead["responsible_user_id"] as? Int
        func date(_ key: String) -> Date? { (lead[key] as? Int).map { Date(timeIntervalSince1970: Double($0)) } }
        let raw = (try? JSONSerialization.data(withJSONObject: lead)).flatMap { try? JSON.decode(JSONValue.self, from: String(decoding: $0, as: UTF8.self)) }
        return DealRecord(
            id: String(id), title: lead["name"] as? String ?? "", amount: (lead["price"] as? NSNumber)?.doubleValue ?? 0, currency: currency,
            pipelineId: pipelineId.map(String.init), pipelineName: pipeline?.name, stageId: statusId.map(String.init),
            stageName: pipeline?.statuses.first { $0.id == statusId }?.name,
            status: statusId == 142 ? .won : statusId == 143 ? .lost : .open,
            responsibleId: responsible.map(String.init), responsibleName: responsible.flatMap { users[$0] },
            contactIds: contactIds(lead).map(String.init), phones: DealRecord.phoneKeys(phones), products: [],
            createdAt: date("created_at"), closedAt: date("closed_at"), updatedAt: date("updated_at"), raw: raw ?? .null)
    }

    /// The ids of the leads an amoCRM webhook names (`leads[add|update|status|…][n][id]`).
    public static func leadIds(inWebhook fields: [String: String]) -> [String] {
        var out: [String] = []
        for (key, value) in fields.sorted(by: { $0.key < $1.key })
        where key.hasPrefix("leads[") && key.hasSuffix("][id]") && !key.hasPrefix("leads[delete]") && !out.contains(value) {
            if Int(value) != nil { out.append(value) }
        }
        return out
    }
}
