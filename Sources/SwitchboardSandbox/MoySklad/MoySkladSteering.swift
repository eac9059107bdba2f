import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore

/// What MoySklad sends out (webhook deliveries, click-to-call posts) and the `/sandbox/*` endpoints that make it happen
/// the way a user's action in MoySklad would.
extension MoySkladSandbox {
    /// Delivers each event to the enabled webhooks on its (entityType, action), as MoySklad does: `POST url?requestId=…`
    /// with `{auditContext, events:[{meta, action, accountId}]}`; an answer other than 200/204 within the timeout is
    /// retried three more times at once, with the same requestId. Prefixes from `X-Lognex-WebHook-DisableByPrefix` skip.
    @discardableResult
    func fire(_ events: [WebhookEvent], base: String, uid: String, disabledPrefixes: [String] = []) async -> [MoySkladSandboxSnapshot.Delivery] {
        var made: [MoySkladSandboxSnapshot.Delivery] = []
        for event in events {
            let hooks = lock.withLock {
                webhooks.filter { $0.enabled && $0.entityType == event.entityType && $0.action == event.action }
            }.filter { hook in !disabledPrefixes.contains { hook.url.hasPrefix($0) } }
            for hook in hooks {
                let requestId = UUID().uuidString.lowercased()
                var e: [String: Any] = ["meta": ["type": event.entityType, "href": event.href], "action": event.action,
                                        "accountId": seed.accountId]
                if hook.diffType == "FIELDS" && event.action == "UPDATE" { e["updatedFields"] = event.fields }
                let payload: [String: Any] = [
                    "auditContext": ["meta": ["type": "audit", "href": "\(base)/api/remap/1.2/audit/\(UUID().uuidString.lowercased())"],
                                     "moment": String(MoySkladWire.format(Date()).prefix(19)), "uid": uid],
                    "events": [e],
                ]
                let data = (try? JSONSerialization.data(withJSONObject: payload, options: [.withoutEscapingSlashes])) ?? Data()
                let separator = hook.url.contains("?") ? "&" : "?"
                var attempts: [Int] = []
                for _ in 0..<4 {
                    var request = HTTPClientRequest(url: hook.url + separator + "requestId=" + requestId)
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(bytes: data))
                    let status: Int
                    do {
                        let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(options.webhookTimeout * 1000)))
                        status = Int(response.status.code)
                        _ = try? await response.body.collect(upTo: 1 << 20)
                    } catch {
                        status = 0
                    }
                    attempts.append(status)
                    if status == 200 || status == 204 { break }
                }
                let delivery = MoySkladSandboxSnapshot.Delivery(url: hook.url, requestId: requestId, entityType: event.entityType,
                                                                action: event.action, href: event.href, attempts: attempts)
                lock.withLock { deliveries.append(delivery) }
                made.append(delivery)
            }
        }
        return made
    }

    func steeringBase(_ req: Request) -> String {
        options.baseURL ?? "http://" + (req.head.authority ?? "api.moysklad.ru")
    }

    func deliveriesJSON(_ list: [MoySkladSandboxSnapshot.Delivery]) -> [[String: Any]] {
        list.map { ["url": $0.url, "requestId": $0.requestId, "attempts": $0.attempts] }
    }

    /// `POST /sandbox/orders` `{"agentId"?, "name"?, "sum"?, "state"?, "ownerUid"?, "store"?, "positions"?: [{"product",
    /// "quantity"?, "price"?}]}`: an order made by a user in MoySklad ("create a test deal"; store and products by name,
    /// prices in kopecks, the sum from the positions when there are any); CREATE webhooks are delivered before the
    /// answer, which lists them.
    func steerOrder(_ req: Request) async -> Response {
        let b = await Self.steeringBody(req)
        let base = steeringBase(req)
        let made: (MoySkladSandboxSnapshot.Order, String)? = lock.withLock {
            guard let agent = (b["agentId"] as? String) ?? counterparties.first?.id,
                  counterparties.contains(where: { $0.id == agent }) else { return nil }
            let owner = seed.employees.first { $0.uid == b["ownerUid"] as? String } ?? seed.employees[0]
            let state = seed.orderStates.first { $0.name == b["state"] as? String } ?? seed.orderStates.first
            let store = (seed.stores ?? []).first { $0.name == b["store"] as? String }
            var lines: [MoySkladSandboxSnapshot.Position] = []
            for p in b["positions"] as? [[String: Any]] ?? [] {
                guard let product = (seed.products ?? []).first(where: { $0.name == p["product"] as? String }) else { return nil }
                lines.append(.init(id: newId(), productId: product.id, quantity: (p["quantity"] as? NSNumber)?.doubleValue ?? 1,
                                   price: (p["price"] as? NSNumber)?.intValue ?? product.price))
            }
            let sum = lines.isEmpty ? (b["sum"] as? Int ?? 0) : Int(lines.reduce(0.0) { $0 + $1.quantity * Double($1.price) }.rounded())
            orderNumber += 1
            let o = MoySkladSandboxSnapshot.Order(
                id: newId(), name: b["name"] as? String ?? String(format: "%05d", orderNumber), organizationId: seed.organizations[0].id,
                agentId: agent, stateId: state?.id, ownerId: owner.id, description: b["description"] as? String,
                sum: sum, created: MoySkladWire.format(Date()), deleted: false, storeId: store?.id, positions: lines)
            orders.append(o)
            return (o, owner.uid)
        }
        guard let (order, uid) = made else { return plainObject(["error": "unknown agentId or product"], status: .badRequest) }
        let root = base + "/api/remap/1.2"
        let sent = await fire([hrefEvent(root, "customerorder", order.id, "CREATE")], base: base, uid: uid)
        return plainObject(["id": order.id, "href": "\(root)/entity/customerorder/\(order.id)", "deliveries": deliveriesJSON(sent)])
    }

    /// `POST /sandbox/orders/update` `{"id", "state"?, "description"?}`: a user changes an order in MoySklad (its status, say);
    /// UPDATE webhooks are delivered before the answer, which lists them.
    func steerOrderUpdate(_ req: Request) async -> Response {
        let b = await Self.steeringBody(req)
        let base = steeringBase(req)
        let changed: [String]? = lock.withLock {
            guard let i = orders.firstIndex(where: { $0.id == b["id"] as? String && !$0.deleted }) else { return nil }
            var fields: [String] = []
            if let name = b["state"] as? String {
                guard let state = seed.orderStates.first(where: { $0.name == name }) else { return nil }
                orders[i].stateId = state.id
                fields.append("state")
            }
            if let d = b["description"] as? String {
                orders[i].description = d
                fields.append("description")
            }
            return fields
        }
        guard let changed, let id = b["id"] as? String else { return plainObject(["error": "unknown order id or state"], status: .badRequest) }
        let root = base + "/api/remap/1.2"
        let sent = await fire([hrefEvent(root, "customerorder", id, "UPDATE", changed)], base: base, uid: seed.employees[0].uid)
        return plainObject(["id": id, "deliveries": deliveriesJSON(sent)])
    }

    /// `POST /sandbox/webhooks/fire` `{"entityType", "action", "id", "updatedFields"?}`: fires the webhooks for a change
    /// made in MoySklad's interface and answers with the deliveries.
    func steerFire(_ req: Request) async -> Response {
        let b = await Self.steeringBody(req)
        guard let type = b["entityType"] as? String, let action = b["action"] as? String, let id = b["id"] as? String else {
            return plainObject(["error": "entityType, action and id are required"], status: .badRequest)
        }
        let base = steeringBase(req)
        let event = hrefEvent(base + "/api/remap/1.2", type, id, action, b["updatedFields"] as? [String] ?? [])
        let sent = await fire([event], base: base, uid: seed.employees[0].uid)
        return plainObject(["deliveries": deliveriesJSON(sent)])
    }

    /// `POST /sandbox/click-to-call` `{"destNumber", "uid"? | "srcNumber"?, "url"?}`: a user clicks a number in MoySklad;
    /// the sandbox posts `{srcNumber, destNumber, uid}` signed with `Lognex-Content-MD5` to the telephony provider
    /// address (`url`, else the seed's) and answers with what the provider said.
    func steerClickToCall(_ req: Request) async -> Response {
        let b = await Self.steeringBody(req)
        guard let dest = b["destNumber"] as? String, !dest.isEmpty else {
            return plainObject(["error": "destNumber is required"], status: .badRequest)
        }
        let person = seed.employees.first { $0.uid == b["uid"] as? String }
            ?? seed.employees.first { $0.extension != nil && $0.extension == b["srcNumber"] as? String }
        guard let person, let src = (b["srcNumber"] as? String) ?? person.extension else {
            return plainObject(["error": "uid or srcNumber must name an employee with an extension"], status: .badRequest)
        }
        guard let url = (b["url"] as? String) ?? seed.providerAddress else {
            return plainObject(["error": "url is required (no provider address in the seed)"], status: .badRequest)
        }
        let body = MoySkladClickToCall.body(srcNumber: src, destNumber: dest, uid: person.uid)
        let signature = MoySkladClickToCall.signature(accessKey: seed.phoneAccessKey, srcNumber: src, destNumber: dest, uid: person.uid)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Lognex-Content-MD5", value: signature)
        request.body = .bytes(ByteBuffer(string: body))
        var status = 0, answer = ""
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            status = Int(response.status.code)
            var buffer = try await response.body.collect(upTo: 1 << 20)
            answer = buffer.readString(length: buffer.readableBytes) ?? ""
        } catch {
            answer = "\(error)"
        }
        lock.withLock { clickToCalls.append(.init(url: url, body: body, signature: signature, status: status)) }
        return plainObject(["status": status, "signature": signature, "body": body, "answer": answer])
    }
}
