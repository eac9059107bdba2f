import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

/// MS-1 / CORE-16 for MoySklad: customer orders are the deals. With «МойСклад - передача сделок» on, saving the
/// integration makes two webhooks (`POST /entity/webhook`, entityType `customerorder`, actions CREATE and UPDATE) to
/// this integration's own address, with the deals import's login and password (webhooks need an administrator).
/// MoySklad signs no webhook (its documentation describes none), so the per-integration key in the address is the
/// proof. A delivery names the orders (`events[].meta.href`); a job reads each with `GET /entity/customerorder/{id}`
/// and `expand` (status, store, counterparty, owner, positions with their products). The backfill pages
/// `GET /entity/customerorder` by `limit=100` (expand's maximum) and `offset`.
extension MSConnector {
    static let orderExpand = "state,store,agent,owner,positions.assortment,rate.currency"

    static func settings(_ integration: Integration) -> MSSettings? {
        try? JSON.decode(MSSettings.self, from: JSON.string(integration.settings))
    }

    /// The deals-import credentials of an integration with the switch on (nil when it is off).
    func dealsCredential(_ integration: Integration) async throws -> CRMCredential? {
        guard let settings = Self.settings(integration), settings.dealsImport.enabled, let id = settings.dealsImport.credentialId else {
            return nil
        }
        guard let credential = try await credentials.get(tenantId: integration.tenantId, id: id), credential.crm == .moysklad else {
            throw DeliveryError.permanent(MSSays.dealsCredentialsGone(id).phrase)
        }
        return credential
    }

    func dealsKey(tenantId: String, integrationId: String) -> String {
        env.vault.mac("\(tenantId).\(integrationId)", purpose: "moysklad-deals")
    }

    /// Where MoySklad's order webhooks post for this integration.
    public func dealsURL(_ integration: Integration) -> String {
        "\(env.baseURL())/crm/moysklad-deals/\(integration.tenantId)/\(integration.id)/\(dealsKey(tenantId: integration.tenantId, integrationId: integration.id))"
    }

    var dealSpec: DealSpec {
        var spec = DealSpec(fetch: { integration, ids, log in
            guard let credential = try await dealsCredential(integration) else {
                log?.note(MSSays.dealsOff)
                return []
            }
            let api = client(tenantId: integration.tenantId, credential: credential, log: log)
            var out: [DealRecord] = []
            for id in ids where UUID(uuidString: id) != nil {
                do {
                    let order = try await api.json(.GET, "/entity/customerorder/\(id)?expand=\(Self.orderExpand)", what: .readOrder)
                    if let record = Self.record(order.object) { out.append(record) }
                } catch let failure as MoySkladClient.Failure where failure.status == 404 {
                    continue  // deleted since: left out
                }
            }
            return out
        }, backfill: { integration, cursor, log in
            guard let credential = try await dealsCredential(integration) else { return DealPage(deals: [], next: nil) }
            let api = client(tenantId: integration.tenantId, credential: credential, log: log)
            let offset = Int(cursor ?? "") ?? 0
            let page = try await api.json(.GET, "/entity/customerorder?limit=100&offset=\(offset)&expand=\(Self.orderExpand)",
                                          what: .readOrders(from: offset))
            let size = (page.object["meta"] as? [String: Any])?["size"] as? Int ?? 0
            let next = offset + 100 < size && !page.rows.isEmpty ? String(offset + 100) : nil
            return DealPage(deals: page.rows.compactMap(Self.record), next: next)
        })
        spec.source = { integration in
            guard let s = Self.settings(integration), s.dealsImport.enabled else { return nil }
            return s.dealsImport.credentialId.map { "moysklad-deals:" + $0 }
        }
        return spec
    }

    /// On save of an active integration with the deals import on: the order webhooks, each made once (listed first).
    public func subscribeDeals(_ integration: Integration) async throws {
        guard integration.active, let credential = try await dealsCredential(integration) else { return }
        try await Self.ensureWebhooks(client(tenantId: integration.tenantId, credential: credential, log: nil), url: dealsURL(integration),
                                      entityType: "customerorder", actions: ["CREATE", "UPDATE"], what: .subscribeOrders)
    }

    /// A webhook delivery on orders: `{"auditContext":…, "events":[{"meta":{"type":"customerorder","href":…}, "action"}]}`.
    /// The orders are queued for reading at once (MoySklad waits 1500 ms for the answer).
    func ordersChanged(_ req: InboundRequest, _ host: HostServices) async throws -> InboundResponse {
        let tenant = req.params["tenant"] ?? "", integrationId = req.params["integration"] ?? ""
        guard Hashing.constantTimeEquals(req.params["key"] ?? "", dealsKey(tenantId: tenant, integrationId: integrationId)),
              let integration = try await integrations.get(tenantId: tenant, id: integrationId), integration.crm == .moysklad else {
            return .refused(401, "unknown webhook address")
        }
        let events = ((try? JSONSerialization.jsonObject(with: Data(req.body))) as? [String: Any])?["events"] as? [[String: Any]] ?? []
        var ids: [String] = []
        for e in events where ["CREATE", "UPDATE"].contains(e["action"] as? String ?? "") {
            guard let meta = e["meta"] as? [String: Any], meta["type"] as? String == "customerorder",
                  let id = MoySkladClient.id(of: meta), !ids.contains(id) else { continue }
            ids.append(id)
        }
        guard Self.settings(integration)?.dealsImport.enabled == true else {
            return .json(["ok": true, "ignored": "the deals import is off"])
        }
        if !ids.isEmpty { try await host.dealsChanged(integration, ids) }
        return .json(["ok": true, "orders": ids.count])
    }

    static func text(_ v: Any?) -> String? {
        switch v {
        case let s as String: return s.isEmpty ? nil : s
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }

    /// One customer order as a deal: the sum and prices are in kopecks; the status's type says won (Successful) or
    /// lost (Unsuccessful); the counterparty's phone joins it to calls.
    static func record(_ o: [String: Any]) -> DealRecord? {
        guard let id = text(o["id"]) else { return nil }
        let state = o["state"] as? [String: Any], store = o["store"] as? [String: Any]
        let agent = o["agent"] as? [String: Any], owner = o["owner"] as? [String: Any]
        let stateType = state?["stateType"] as? String
        let status: DealStatus = stateType == "Successful" ? .won : stateType == "Unsuccessful" ? .lost : .open
        let agentId = MoySkladClient.id(of: agent)
        let phones = [agent?["phone"] as? String] + ((agent?["contactpersons"] as? [String: Any])?["rows"] as? [[String: Any]] ?? [])
            .map { $0["phone"] as? String }
        let currency = ((o["rate"] as? [String: Any])?["currency"] as? [String: Any])?["isoCode"] as? String
        let positions = (o["positions"] as? [String: Any])?["rows"] as? [[String: Any]] ?? []
        let raw = (try? JSONSerialization.data(withJSONObject: o)).flatMap { try? JSON.decode(JSONValue.self, from: String(decoding: $0, as: UTF8.self)) }
        return DealRecord(
            id: id, title: text(o["name"]) ?? id, amount: ((o["sum"] as? NSNumber)?.doubleValue ?? 0) / 100,
            // The account's currency when the rate's currency comes unexpanded: rubles (UNCONFIRMED for other accounts).
            currency: currency ?? "RUB", pipelineId: "customerorder", pipelineName: "Заказы покупателей",
            stageId: MoySkladClient.id(of: state), stageName: state?["name"] as? String, status: status,
            responsibleId: MoySkladClient.id(of: owner), responsibleName: (owner?["fullName"] as? String) ?? (owner?["name"] as? String),
            contactIds: agentId.map { [$0] } ?? [], phones: DealRecord.phoneKeys(phones.compactMap { $0 }),
            products: positions.map { p in
                let assortment = p["assortment"] as? [String: Any]
                return DealProduct(id: MoySkladClient.id(of: assortment), name: assortment?["name"] as? String ?? "",
                                   quantity: (p["quantity"] as? NSNumber)?.doubleValue ?? 1,
                                   price: ((p["price"] as? NSNumber)?.doubleValue ?? 0) / 100)
            },
            store: store?["name"] as? String, createdAt: text(o["created"]).flatMap(MSTime.parse),
            updatedAt: text(o["updated"]).flatMap(MSTime.parse), raw: raw ?? .null)
    }
}
