import Foundation
import Hummingbird
import SwitchboardCore

/// Deals as the portal keeps them beyond the plain record: the pipelines (`crm.category.list`), product rows
/// (`crm.deal.productrows.get`/`set`), the stage's semantics (`STAGE_SEMANTIC_ID` and `CLOSED` follow `STAGE_ID`), and a
/// manager creating a deal in the interface (`POST /sandbox/deal-add`), which posts ONCRMDEALADD like any deal added.
extension B24Sandbox {
    /// `crm.category.list` for deals: the general pipeline only.
    func categoryList(_ p: B24Params) throws -> B24Answer {
        guard p.int("entityTypeId") == 2 else { throw B24Error.crm("entityTypeId is not supported here.") }
        return B24Answer(["categories": [["id": 0, "name": "Общая", "sort": 100, "entityTypeId": 2, "isDefault": "Y"]]])
    }

    func productRowsGet(_ p: B24Params) throws -> B24Answer {
        let i = try index("DEAL", p)
        return B24Answer(records["DEAL"]![i]["PRODUCT_ROWS"] as? [[String: Any]] ?? [])
    }

    /// `crm.deal.productrows.set`: `rows` with `PRODUCT_NAME`, `PRICE`, `QUANTITY` (and `PRODUCT_ID`) replace the deal's rows.
    func productRowsSet(_ p: B24Params) throws -> B24Answer {
        let i = try index("DEAL", p)
        let id = records["DEAL"]![i]["ID"] as? String ?? ""
        let rows = p.list("rows").enumerated().map { n, item -> [String: Any] in
            let r = B24Params(item as? [String: Any] ?? [:])
            return ["ID": String(n + 1), "OWNER_ID": id, "OWNER_TYPE": "D", "PRODUCT_ID": r.string("PRODUCT_ID") ?? "0",
                    "PRODUCT_NAME": r.string("PRODUCT_NAME") ?? "", "PRICE": r.string("PRICE") ?? "0", "QUANTITY": r.string("QUANTITY") ?? "1"]
        }
        records["DEAL"]![i]["PRODUCT_ROWS"] = rows
        return B24Answer(true)
    }

    /// A deal's stage decides its semantics: WON (or `C<n>:WON`) successful, LOSE/APOLOGY failed, the rest in progress.
    static func dealSemantics(_ record: inout [String: Any]) {
        let stage = (record["STAGE_ID"] as? String ?? "").split(separator: ":").last.map(String.init) ?? ""
        let semantic = stage == "WON" ? "S" : ["LOSE", "APOLOGY"].contains(stage) ? "F" : "P"
        record["STAGE_SEMANTIC_ID"] = semantic
        record["CLOSED"] = semantic == "P" ? "N" : "Y"
    }

    /// A manager creates a deal: `TITLE`, `OPPORTUNITY`, `CURRENCY_ID`, `STAGE_ID`, `ASSIGNED_BY_ID`, a contact by `phone`
    /// (found or made) and `products` (`PRODUCT_NAME`, `PRICE`, `QUANTITY`); ONCRMDEALADD goes to the handlers.
    func addDealFromPortal(_ b: [String: Any]) async -> [String: Any] {
        let id: Int = lock.withLock {
            let user = b["ASSIGNED_BY_ID"] as? Int ?? seed.install_user_id
            var fields = b.filter { !["phone", "products", "contact_name"].contains($0.key) }
            if let phone = b["phone"] as? String, !phone.isEmpty {
                let contact = crmMatches(phone: phone).first { $0.type == "CONTACT" }?.id ?? insert("CONTACT", fields: [
                    "NAME": b["contact_name"] as? String ?? phone, "PHONE": [["VALUE": phone, "VALUE_TYPE": "WORK"]],
                ], userId: user)
                fields["CONTACT_ID"] = String(contact)
            }
            let id = insert("DEAL", fields: fields, userId: user)
            if let products = b["products"] as? [[String: Any]], let i = records["DEAL"]?.firstIndex(where: { $0["ID"] as? String == String(id) }) {
                records["DEAL"]![i]["PRODUCT_ROWS"] = products.enumerated().map { n, r -> [String: Any] in
                    ["ID": String(n + 1), "OWNER_ID": String(id), "OWNER_TYPE": "D", "PRODUCT_ID": "0",
                     "PRODUCT_NAME": r["PRODUCT_NAME"] as? String ?? "", "PRICE": B24Params.scalar(r["PRICE"]) ?? "0",
                     "QUANTITY": B24Params.scalar(r["QUANTITY"]) ?? "1"]
                }
            }
            return id
        }
        return ["ID": id, "handler_statuses": await flush()]
    }
}
