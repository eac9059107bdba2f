import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore

/// A manager's work on deals in the account's interface, and the lead webhooks amoCRM posts about it
/// (form-encoded `leads[add|status][0][…]` with the account, api-notes A3.12) to destinations subscribed with
/// `add_lead`, `update_lead` or `status_lead`. Leads made through the API do not post webhooks here.
extension AmoSandbox {
    func steerDeals(_ steer: RouterGroup<BasicRequestContext>) {
        // A test deal: `name`, `price`, `phone` (the contact, found by number or made), `pipeline_id`, `status_id`,
        // `responsible_user_id`.
        steer.post("leads") { req, _ in
            let b = (try? await Self.body(req)) as? [String: Any] ?? [:]
            return Self.raw(await self.createLeadInInterface(b))
        }
        // Moves a deal to `status_id` (142 won, 143 lost close it), with a new `price` if given.
        steer.post("leads/:id/status") { req, ctx in
            let b = (try? await Self.body(req)) as? [String: Any] ?? [:]
            guard let id = ctx.parameters.get("id", as: Int.self), let status = b["status_id"] as? Int else {
                return Self.problem(400, "Bad Request", "the lead id and status_id are required")
            }
            return Self.raw(await self.moveLeadInInterface(id: id, status: status, price: b["price"] as? Int))
        }
    }

    public func createLeadInInterface(_ b: [String: Any]) async -> [String: Any] {
        let (lead, hooks): (AmoSandboxSnapshot.Lead?, [String]) = lock.withLock {
            let pipeline = b["pipeline_id"] as? Int ?? (seed.pipelines.first { $0.is_main == true } ?? seed.pipelines[0]).id
            if validStatus(pipeline: pipeline, status: b["status_id"] as? Int) != nil { return (nil, []) }
            var contactIds: [Int] = []
            if let phone = b["phone"] as? String, !phone.isEmpty {
                let contact = contact(byPhone: phone) ?? makeContact([
                    "name": b["contact_name"] as? String ?? phone, "responsible_user_id": b["responsible_user_id"] as? Int ?? seed.users[0].id,
                    "custom_fields_values": [["field_code": "PHONE", "values": [["value": phone, "enum_code": "WORK"]]]],
                ])
                contactIds = [contact.id]
            }
            var item = b
            item["pipeline_id"] = pipeline
            let lead = makeLead(item, contactIds: contactIds)
            return (lead, subscribers(for: ["add_lead"]))
        }
        guard let lead else { return ["error": "pipeline_id or status_id is not a valid choice"] }
        let statuses = await post(webhook("add", lead), to: hooks)
        return ["id": lead.id, "contact_ids": lead.contact_ids, "webhook_statuses": statuses]
    }

    public func moveLeadInInterface(id: Int, status: Int, price: Int?) async -> [String: Any] {
        let (lead, hooks): (AmoSandboxSnapshot.Lead?, [String]) = lock.withLock {
            guard let i = leads.firstIndex(where: { $0.id == id }),
                  validStatus(pipeline: leads[i].pipeline_id, status: status) == nil else { return (nil, []) }
            let now = Int(Date().timeIntervalSince1970)
            leads[i].status_id = status
            if let price { leads[i].price = price }
            // The change time moves on even within one second, so each change reads as newer than the last.
            leads[i].updated_at = max(now, leads[i].updated_at + 1, leads[i].created_at + 1)
            leads[i].closed_at = [142, 143].contains(status) ? now : nil
            return (leads[i], subscribers(for: ["status_lead", "update_lead"]))
        }
        guard let lead else { return ["error": "no such lead, or status_id is not a valid choice"] }
        let statuses = await post(webhook("status", lead), to: hooks)
        return ["id": lead.id, "webhook_statuses": statuses]
    }

    /// Destinations subscribed to any of `settings` (called under the lock).
    func subscribers(for settings: [String]) -> [String] {
        webhooks.filter { !Set($0.settings).isDisjoint(with: settings) }.map(\.destination)
    }

    func webhook(_ action: String, _ l: AmoSandboxSnapshot.Lead) -> String {
        let p = "leads%5B\(action)%5D%5B0%5D"
        return ["\(p)%5Bid%5D=\(l.id)", "\(p)%5Bname%5D=\(FormURLEncoding.escape(l.name))", "\(p)%5Bstatus_id%5D=\(l.status_id)",
                "\(p)%5Bpipeline_id%5D=\(l.pipeline_id)", "\(p)%5Bprice%5D=\(l.price)",
                "\(p)%5Bresponsible_user_id%5D=\(l.responsible_user_id)", "\(p)%5Blast_modified%5D=\(max(l.updated_at, l.created_at))",
                "account%5Bid%5D=\(seed.account_id)", "account%5Bsubdomain%5D=\(seed.subdomain)"].joined(separator: "&")
    }

    func post(_ body: String, to destinations: [String]) async -> [Int] {
        var statuses: [Int] = []
        for destination in destinations {
            var request = HTTPClientRequest(url: destination)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
            let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10))
            if let response { _ = try? await response.body.collect(upTo: 1 << 20) }
            statuses.append(Int(response?.status.code ?? 0))
        }
        return statuses
    }
}
