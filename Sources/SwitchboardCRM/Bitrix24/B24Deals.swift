import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

/// CORE-16 for Bitrix24: ONCRMDEALADD/ONCRMDEALUPDATE carry only the deal's id (api-notes B5); the deal is read with
/// `crm.deal.get` and its products with `crm.deal.productrows.get`, then one more batch names what it refers to
/// (stages `crm.status.list`, pipelines `crm.category.list`, the responsible user `user.get`) and reads its
/// contacts' numbers (`crm.contact.list`). The backfill walks `crm.deal.list` by `>ID` with `start=-1`.
extension B24Connector {
    static let dealEvents = ["ONCRMDEALADD", "ONCRMDEALUPDATE"]

    var dealSpec: DealSpec {
        DealSpec(fetch: { integration, ids, log in
            let api = try await dealClient(integration, log: log)
            var out: [DealRecord] = []
            let numeric = ids.filter { Int($0) != nil }
            for chunk in stride(from: 0, to: numeric.count, by: 20).map({ Array(numeric[$0..<min($0 + 20, numeric.count)]) }) {
                var commands: [B24Command] = []
                for (i, id) in chunk.enumerated() {
                    commands.append(B24Command("d\(i)", "crm.deal.get", ["id": .string(id)]))
                    commands.append(B24Command("p\(i)", "crm.deal.productrows.get", ["id": .string(id)]))
                }
                let answer = try await api.batch(commands, what: .readChangedDeals)
                var deals: [[String: Any]] = [], products: [String: [[String: Any]]] = [:]
                for i in chunk.indices {
                    guard let deal = answer.results["d\(i)"] as? [String: Any] else { continue }
                    deals.append(deal)
                    products[chunk[i]] = answer.results["p\(i)"] as? [[String: Any]] ?? []
                }
                out += try await records(deals, products: products, api: api)
            }
            return out
        }, backfill: { integration, cursor, log in
            let api = try await dealClient(integration, log: log)
            let page = try await api.call("crm.deal.list", [
                "filter": .map([">ID": .string(cursor ?? "0")]), "order": .map(["ID": "ASC"]), "select": .list(["*"]), "start": "-1",
            ], what: .readDeals(after: cursor))
            let deals = page as? [[String: Any]] ?? []
            let last = deals.last.flatMap { Self.text($0["ID"]) }
            return DealPage(deals: try await records(deals, products: [:], api: api), next: deals.count >= 50 ? last : nil)
        })
    }

    func dealClient(_ integration: Integration, log: AttemptLog?) async throws -> B24Client {
        guard let id = integration.credentialId, let credential = try await credentials.get(tenantId: integration.tenantId, id: id) else {
            throw DeliveryError.permanent(ContextProblem.noCredentials(crm: Bitrix24.title).phrase)
        }
        return client(tenantId: integration.tenantId, credential: credential, log: log)
    }

    static func text(_ v: Any?) -> String? {
        switch v {
        case let s as String: return s.isEmpty ? nil : s
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }

    /// The deals with the names of their stages, pipelines and responsible users, and their contacts' numbers.
    func records(_ deals: [[String: Any]], products: [String: [[String: Any]]], api: B24Client) async throws -> [DealRecord] {
        guard !deals.isEmpty else { return [] }
        let contactIds = Array(Set(deals.flatMap { d in [Self.text(d["CONTACT_ID"])] + ((d["CONTACT_IDS"] as? [Any]) ?? []).map(Self.text) }
            .compactMap { $0 })).sorted()
        let users = Array(Set(deals.compactMap { Self.text($0["ASSIGNED_BY_ID"]) })).sorted().prefix(45)
        var commands = [B24Command("stages", "crm.status.list", [:]),
                        B24Command("categories", "crm.category.list", ["entityTypeId": "2"])]
        if !contactIds.isEmpty {
            commands.append(B24Command("contacts", "crm.contact.list", ["filter": .map(["ID": .list(contactIds.map { .string($0) })]),
                                                                       "select": .list(["ID", "PHONE"]), "start": "-1"]))
        }
        for u in users { commands.append(B24Command("u\(u)", "user.get", ["ID": .string(u)])) }
        let names = try await api.batch(commands, what: .nameDealParts)
        var stages: [String: String] = [:]
        for s in names.results["stages"] as? [[String: Any]] ?? [] {
            if let entity = Self.text(s["ENTITY_ID"]), entity.hasPrefix("DEAL_STAGE"), let id = Self.text(s["STATUS_ID"]) {
                stages[id] = Self.text(s["NAME"])
            }
        }
        var pipelines: [String: String] = [:]
        for c in (names.results["categories"] as? [String: Any])?["categories"] as? [[String: Any]] ?? [] {
            if let id = Self.text(c["id"]) { pipelines[id] = Self.text(c["name"]) }
        }
        var phones: [String: [String]] = [:]
        for c in names.results["contacts"] as? [[String: Any]] ?? [] {
            guard let id = Self.text(c["ID"]) else { continue }
            phones[id] = (c["PHONE"] as? [[String: Any]] ?? []).compactMap { Self.text($0["VALUE"]) }
        }
        var userNames: [String: String] = [:]
        for u in users {
            guard let user = (names.results["u\(u)"] as? [[String: Any]])?.first else { continue }
            let name = [Self.text(user["NAME"]), Self.text(user["LAST_NAME"])].compactMap { $0 }.joined(separator: " ")
            userNames[u] = name.isEmpty ? nil : name
        }
        return deals.compactMap { d in
            Self.record(d, products: products[Self.text(d["ID"]) ?? ""] ?? [], stages: stages, pipelines: pipelines, users: userNames,
                        phones: phones)
        }
    }

    static func record(_ d: [String: Any], products: [[String: Any]], stages: [String: String], pipelines: [String: String],
                       users: [String: String], phones: [String: [String]]) -> DealRecord? {
        guard let id = text(d["ID"]) else { return nil }
        let iso = ISO8601DateFormatter()
        func date(_ key: String) -> Date? { text(d[key]).flatMap { iso.date(from: $0) } }
        let contacts = Array(Set(([text(d["CONTACT_ID"])] + ((d["CONTACT_IDS"] as? [Any]) ?? []).map(text)).compactMap { $0 })).sorted()
        // STAGE_SEMANTIC_ID: P in progress, S successful, F failed (api-notes B5).
        let semantic = text(d["STAGE_SEMANTIC_ID"])
        let status: DealStatus = semantic == "S" ? .won : semantic == "F" ? .lost : .open
        let category = text(d["CATEGORY_ID"]) ?? "0"
        let raw = (try? JSONSerialization.data(withJSONObject: d)).flatMap { try? JSON.decode(JSONValue.self, from: String(decoding: $0, as: UTF8.self)) }
        return DealRecord(
            id: id, title: text(d["TITLE"]) ?? "", amount: text(d["OPPORTUNITY"]).flatMap { Double($0) } ?? 0,
            currency: text(d["CURRENCY_ID"]), pipelineId: category, pipelineName: pipelines[category],
            stageId: text(d["STAGE_ID"]), stageName: text(d["STAGE_ID"]).flatMap { stages[$0] }, status: status,
            responsibleId: text(d["ASSIGNED_BY_ID"]), responsibleName: text(d["ASSIGNED_BY_ID"]).flatMap { users[$0] },
            contactIds: contacts, phones: DealRecord.phoneKeys(contacts.flatMap { phones[$0] ?? [] }),
            products: products.map { p in
                DealProduct(id: text(p["PRODUCT_ID"]).flatMap { $0 == "0" ? nil : $0 }, name: text(p["PRODUCT_NAME"]) ?? "",
                            quantity: text(p["QUANTITY"]).flatMap { Double($0) } ?? 1, price: text(p["PRICE"]).flatMap { Double($0) } ?? 0)
            },
            createdAt: date("DATE_CREATE"), closedAt: text(d["CLOSED"]) == "Y" ? date("CLOSEDATE") : nil, updatedAt: date("DATE_MODIFY"),
            raw: raw ?? .null)
    }
}
