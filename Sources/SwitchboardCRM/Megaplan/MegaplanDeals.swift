import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

/// CORE-16/MP-11 for Megaplan: the tenant makes an application in Megaplan whose event stream ("Потоки событий", the
/// Deal model ticked) posts to the deals address (`dealsURL`). An event names the deal; a job reads it with
/// `GET /api/v3/deal/{id}` (amount and currency from `price`, products from `positions`, the scheme and its state, the
/// manager) and its client's phones with `GET /api/v3/contractor/{id}`. The backfill pages through
/// `GET /api/v3/deal?{"program": {"id": "all"}}` by `pageAfter`.
///
/// The address carries a key per credential set (HMAC of the tenant and credential ids) because Megaplan signs no
/// event posts (none documented, api-notes A5). The post's content is never trusted: only the deal's id is read from
/// it, and the deal itself is read from Megaplan with the tenant's credentials.
extension MegaplanConnector {
    func dealsKey(tenantId: String, credentialId: String) -> String {
        env.key("\(tenantId).\(credentialId)", purpose: "megaplan-deals")
    }

    /// The address to give the Megaplan application's event stream ("URL принимающий события").
    public func dealsURL(_ c: CRMCredential) -> String {
        "\(env.baseURL())/crm/megaplan/\(c.tenantId)/\(c.id)/\(dealsKey(tenantId: c.tenantId, credentialId: c.id))/deals"
    }

    var dealsEndpoint: InboundEndpoint {
        InboundEndpoint(path: "crm/megaplan/:tenant/:credential/:key/deals") { req, host in try await receiveDeal(req, host) }
    }

    /// One event-stream post: a created or changed deal is queued for every active integration on these credentials.
    func receiveDeal(_ req: InboundRequest, _ host: HostServices) async throws -> InboundResponse {
        let tenant = req.params["tenant"] ?? "", credentialId = req.params["credential"] ?? ""
        guard Hashing.constantTimeEquals(req.params["key"] ?? "", dealsKey(tenantId: tenant, credentialId: credentialId)),
              let credential = try await credentials.get(tenantId: tenant, id: credentialId), credential.crm == .megaplan else {
            return .refused(401, "unknown deals address")
        }
        guard let body = (try? JSONSerialization.jsonObject(with: Data(req.body))) as? [String: Any] else {
            return .refused(400, "the body is not a JSON object")
        }
        let data = body["data"] as? [String: Any] ?? [:]
        let model = ((body["accountInfo"] as? [String: Any])?["model"] as? String) ?? (data["contentType"] as? String)
        let event = body["event"] as? String ?? ""
        guard model == MegaplanFacts.dealModel, MegaplanFacts.dealEvents.contains(event) else {
            return .json(["ok": true, "ignored": "\(model ?? "?") \(event)"])
        }
        guard let id = Self.text(data["id"]) else { return .refused(400, "the event names no deal") }
        let linked = try await integrations.list(tenantId: tenant).filter { $0.credentialId == credentialId && $0.active }
        for i in linked { try await host.dealsChanged(i, [id]) }
        return .json(["ok": true, "integrations": linked.count])
    }

    var dealSpec: DealSpec {
        DealSpec(fetch: { integration, ids, log in
            let api = try await dealClient(integration, log: log)
            var deals: [[String: Any]] = []
            for id in ids where Int(id) != nil {
                let answer = try await api.get("deal/\(id)", what: .readChangedDeal, accept: [404])
                if answer.status != 404, let deal = answer.object { deals.append(deal) }
            }
            return try await records(deals, api: api)
        }, backfill: { integration, cursor, log in
            let api = try await dealClient(integration, log: log)
            var params: [String: Any] = ["program": MegaplanFacts.allPrograms, "limit": 100]
            if let cursor { params["pageAfter"] = ["contentType": "Deal", "id": cursor] }
            let page = try await api.get("deal", params, what: .readDeals(after: cursor))
            let deals = page.list
            let more = page.pagination?["hasMoreNext"] as? Bool == true
            return DealPage(deals: try await records(deals, api: api), next: more ? deals.last.flatMap { Self.text($0["id"]) } : nil)
        })
    }

    func dealClient(_ integration: Integration, log: AttemptLog?) async throws -> MegaplanClient {
        client(tenantId: integration.tenantId, credential: try await DealSpec.credential(integration, credentials, crm: Megaplan.title), log: log)
    }

    static func text(_ v: Any?) -> String? { DealSpec.text(v) }

    static func number(_ v: Any?) -> Double? {
        switch v {
        case let n as NSNumber: return n.doubleValue
        case let s as String: return Double(s)
        case let m as [String: Any]: return number(m["value"])
        default: return nil
        }
    }

    /// A `DateTime` (`{contentType, value}`) or a bare string.
    static func date(_ v: Any?) -> Date? {
        guard let s = (v as? [String: Any])?["value"] as? String ?? v as? String else { return nil }
        let iso = ISO8601DateFormatter()
        if let d = iso.date(from: s) { return d }
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = iso.date(from: s) { return d }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(secondsFromGMT: 3 * 3_600)
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.date(from: s)
    }

    /// The deals with their clients' phones (one read per client).
    func records(_ deals: [[String: Any]], api: MegaplanClient) async throws -> [DealRecord] {
        var phones: [String: [String]] = [:]
        for id in Set(deals.compactMap { Self.text(($0["contractor"] as? [String: Any])?["id"]) }).sorted() {
            let answer = try await api.get("contractor/\(id)", what: .readDealClient, accept: [404])
            phones[id] = (answer.object?["contactInfo"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "phone" }
                .compactMap { $0["value"] as? String }
        }
        return deals.compactMap { Self.record($0, phones: phones) }
    }

    static func record(_ d: [String: Any], phones: [String: [String]]) -> DealRecord? {
        guard let id = text(d["id"]) else { return nil }
        let program = d["program"] as? [String: Any], state = d["state"] as? [String: Any], manager = d["manager"] as? [String: Any]
        let price = d["price"] as? [String: Any]
        let currency = text(price?["currency"]) ?? text((d["currency"] as? [String: Any])?["code"]) ?? text(d["currency"])
        let status = MegaplanFacts.dealStatus(result: text(d["result"]), stateType: text(state?["type"]))
        let contractor = text((d["contractor"] as? [String: Any])?["id"])
        let contractorPhone = text(d["contractorPhone"]).map { [$0] } ?? []
        let raw = (try? JSONSerialization.data(withJSONObject: d)).flatMap { try? JSON.decode(JSONValue.self, from: String(decoding: $0, as: UTF8.self)) }
        let updated = date(d["timeUpdated"])
        return DealRecord(
            id: id, title: text(d["name"]) ?? text(d["number"]).map { "№\($0)" } ?? "", amount: number(d["price"]) ?? number(d["cost"]) ?? 0,
            currency: currency, pipelineId: text(program?["id"]), pipelineName: text(program?["name"]), stageId: text(state?["id"]),
            stageName: text(state?["name"]), status: status, responsibleId: text(manager?["id"]), responsibleName: text(manager?["name"]),
            contactIds: contractor.map { [$0] } ?? [], phones: DealRecord.phoneKeys((contractor.flatMap { phones[$0] } ?? []) + contractorPhone),
            products: (d["positions"] as? [[String: Any]] ?? []).map { p in
                DealProduct(id: text((p["offer"] as? [String: Any])?["id"]),
                            name: text(p["name"]) ?? text((p["offer"] as? [String: Any])?["name"]) ?? "",
                            quantity: number(p["quantity"]) ?? 1, price: number(p["price"]) ?? 0)
            },
            createdAt: date(d["timeCreated"]), closedAt: status == .open ? nil : (date(d["stateTimeUpdated"]) ?? updated), updatedAt: updated,
            raw: raw ?? .null)
    }
}
