import Foundation
import Hummingbird

/// "Создайте тестовую сделку в Megaplan" (guide 001): a manager makes or moves a deal in the interface, through the
/// same validation as `POST /api/v3/deal`, so the applications ticking Deal get `on_after_create`/`on_after_update`.
extension MegaplanSandbox {
    /// `{"name", "price", "currency", "programId", "managerId", "contractorId" | "phone", "positions"}` makes a deal
    /// (the client with `phone` found, or made); `{"id", "stateId"}` moves one. Runs under the lock.
    func testDeal(_ b: MegaplanJSON) -> Response {
        let manager = b["managerId"]?.string ?? seed.users.first?.employeeId ?? ""
        if let id = b["id"]?.string {
            guard let state = b["stateId"]?.string else { return Self.response(["error": "stateId is required to move a deal"], status: 400) }
            return applyTransition(Call(params: [:], body: ["to": ["contentType": "ProgramState", "id": .string(state)]], employeeId: manager,
                                        id: id))
        }
        guard let program = b["programId"]?.string ?? entities["Program"]?.first?["id"]?.string else {
            return Self.response(["error": "the account has no scheme"], status: 400)
        }
        var body: [String: MegaplanJSON] = ["contentType": "Deal", "program": Self.link("Program", program),
                                            "name": b["name"] ?? "Тестовая сделка", "manager": Self.link("Employee", manager)]
        if let price = b["price"] {
            body["price"] = ["contentType": "Money", "value": price, "currency": b["currency"] ?? "RUB"]
            body["currency"] = b["currency"] ?? "RUB"
        }
        if let positions = b["positions"]?.array {
            body["positions"] = .array(positions.map { p in
                ["contentType": "OfferRow", "name": p["name"] ?? "", "quantity": p["quantity"] ?? 1,
                 "price": ["contentType": "Money", "value": p["price"] ?? 0, "currency": b["currency"] ?? "RUB"]]
            })
        }
        if let contractor = b["contractorId"]?.string {
            guard let type = Self.contractorTypes.first(where: { find($0, contractor) != nil }) else {
                return Self.response(["error": "no such client"], status: 404)
            }
            body["contractor"] = Self.link(type, contractor)
        } else if let phone = b["phone"]?.string {
            let known = Self.contractorTypes.flatMap { entities[$0] ?? [] }.first { o in
                (o["contactInfo"]?.array ?? []).contains { $0["type"] == "phone" && Self.samePhone($0["value"]?.string ?? "", phone) }
            }
            if let known, let type = known["contentType"]?.string, let id = known["id"]?.string {
                body["contractor"] = Self.link(type, id)
            } else {
                let id = newId()
                store(["contentType": "ContractorHuman", "id": .string(id), "firstName": .string(phone), "timeCreated": Self.dateTime(Date()),
                       "responsibles": .array([nested(Self.link("Employee", manager))].compactMap { $0 }),
                       "contactInfo": [["contentType": "ContactInfo", "id": .string("p\(id)"), "type": "phone", "value": .string(phone),
                                        "isMain": true]]])
                body["contractor"] = Self.link("ContractorHuman", id)
            }
        }
        return saveDeal(Call(params: [:], body: .object(body), employeeId: manager, id: nil), existing: nil)
    }
}
