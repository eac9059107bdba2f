import Foundation
import SwitchboardCore
import SwitchboardDelivery

/// The one place for every Megaplan fact the connector had to guess (api-notes part A marks them UNCONFIRMED). A live
/// account that disagrees is corrected here and nowhere else; docs/connectors/megaplan.md lists the same entries.
public enum MegaplanFacts {
    // MARK: API v3

    /// No vendor number exists for Megaplan's request limit; a third-party client states "5 rps". Requests are spaced
    /// at 5 a second with the policy's margin (about 4 a second), per account.
    public static let ratePolicy = RatePolicy(limit: 5, per: .seconds(1))
    /// How long to wait after a 429 that names no `Retry-After` (the 429 itself is UNCONFIRMED: third-party code).
    public static let rateLimitPause: Duration = .seconds(2)
    /// The status of a missing or expired token (the docs list only 200, 403 and 422; third-party code sees 401).
    public static let unauthorizedStatus = 401
    /// The token request is sent form-urlencoded (the docs' curl uses multipart, the vendor's SDK the same three
    /// fields); the refresh grant (`grant_type=refresh_token`) is known only from a third-party SDK, so a refused
    /// refresh falls back to the password grant.
    public static let tokenPath = "/api/v3/auth/access_token"
    /// A token's lifetime when the answer names none (the docs' example says 172800 s).
    public static let defaultTokenLifetime: TimeInterval = 172_800

    // MARK: entities

    /// The path of a client by its content type: `contractorCompany` is in the RAML; `contractorHuman` only by analogy.
    public static func clientPath(_ contentType: String) -> String {
        contentType == "ContractorCompany" ? "contractorCompany" : "contractorHuman"
    }
    /// New clients of calls are people (`ContractorHuman`) named after their number.
    public static let newClientType = "ContractorHuman"
    /// Clients are searched with `GET /api/v3/contractor?{"q": <digits>}`: that `q` matches phone numbers is a
    /// third-party note; the connector compares the numbers it gets back on their last 10 digits itself.
    public static let clientSearchPath = "contractor"
    /// The todo categories (`TodoCategory.masterType`: call for a communication, todo for a todo) are listed at a
    /// standalone path the RAML does not show.
    public static let todoCategoryPath = "todoCategory"
    /// A todo's interval: `when` as `IntervalDates` with `from`/`to` DateTimes (the RAML names the type, not its fields).
    public static func interval(from: Date, to: Date) -> [String: Any] {
        ["contentType": "IntervalDates", "from": dateTime(from), "to": dateTime(to)]
    }

    /// UNCONFIRMED: a todo with no client to sit on (a request whose sender is not a client) is made at the standalone
    /// `todo` path, which the RAML read so far does not show (it shows `/{entity}/{id}/todos`).
    public static let todoPath = "todo"
    /// UNCONFIRMED: comments (a request's text, a chat's transcript) are posted to
    /// `/{contractorHuman|contractorCompany|deal}/{id}/comments` with `content` as HTML: the path and field are
    /// third-party clients' (their SDK posts task comments there), and one of them reports client comments as broken on a
    /// live account. The guide's "журнал клиента" is read as these comments.
    public static let commentField = "content"
    /// UNCONFIRMED: `q` of `GET /api/v3/contractor` matching e-mails (as for phones, a third-party note); the connector
    /// compares the e-mails it gets back itself.
    public static let clientSearchByEmail = true

    // MARK: deals (MP-11)

    /// The application's event stream ("Потоки событий") posts `{event, data, accountInfo: {model, …}}` (the vendor's PHP
    /// listener); a deal's events are `on_after_create`/`on_after_update` with `accountInfo.model` `Deal`. UNCONFIRMED:
    /// that it is a JSON body (the listener reads `php://input`), and that posts are unsigned (none documented) — the
    /// address carries a per-credential key instead.
    public static let dealModel = "Deal"
    public static let dealEvents: Set<String> = ["on_after_create", "on_after_update"]
    /// Every deal of the account, whatever its scheme: `GET /api/v3/deal?{"program": {"contentType": "Program", "id": "all"}}`
    /// (the vendor's `deal/list.php`); pages by `pageAfter`. UNCONFIRMED: that `pageAfter` pages deals like other lists.
    public static var allPrograms: [String: Any] { ["contentType": "Program", "id": "all"] }
    /// A deal's `result` (`active`, `positive`, `negative`; RAML) and its state's `type` say open, won or lost; the
    /// currency is `price.currency` (the events page's example). UNCONFIRMED: the closing time, read as the state's
    /// `stateTimeUpdated` of a closed deal.
    public static func dealStatus(result: String?, stateType: String?) -> DealStatus {
        switch result ?? stateType {
        case "positive": return .won
        case "negative": return .lost
        default: return .open
        }
    }

    // MARK: telephony

    /// `CallInfo.type` for a call that rang an employee who did not talk: `miss` incoming, `fail` outgoing (the RAML
    /// lists the values; whether Megaplan derives them itself is UNCONFIRMED, so Switchboard sets them).
    public static func callType(outgoing: Bool, talked: Bool) -> String {
        outgoing ? (talked ? "out" : "fail") : (talked ? "in" : "miss")
    }
    /// Where `callRoute` puts the responsible's extension (the vendor says it "отдает его внутренний номер"; the
    /// example shows no field): the connector reads the employee's id, so only this list's order matters.
    public static let callRouteEmployees = "employees"

    // MARK: the web phone's commands (no source describes what Megaplan sends)

    /// What one command from Megaplan's web phone says, read from its JSON body. The shapes are guesses: the employee
    /// as `{"employee": {"contentType": "Employee", "id": …}}` or a flat `employeeId`; the number as `phone`; DND as
    /// `dnd` (or `enabled`); the call as `providerId` (our call id) or `callInfo.id`.
    public struct WebPhoneCommand: Sendable, Equatable {
        public var employeeId: String?
        public var phone: String?
        public var dnd: Bool?
        public var providerId: String?
        public var callInfoId: String?

        public static func read(_ body: [UInt8]) -> WebPhoneCommand? {
            guard let o = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return nil }
            func text(_ v: Any?) -> String? {
                if let s = v as? String, !s.isEmpty { return s }
                if let n = v as? NSNumber { return n.stringValue }
                return nil
            }
            let employee = text((o["employee"] as? [String: Any])?["id"]) ?? text(o["employeeId"])
            let dnd = (o["dnd"] ?? o["enabled"]).flatMap { v -> Bool? in
                if let b = v as? Bool { return b }
                if let s = v as? String { return ["1", "true", "on"].contains(s.lowercased()) }
                return nil
            }
            return WebPhoneCommand(employeeId: employee, phone: text(o["phone"]), dnd: dnd, providerId: text(o["providerId"]),
                                   callInfoId: text((o["callInfo"] as? [String: Any])?["id"]))
        }
    }

    /// The commands, one address each: `<base>/crm/megaplan/<integration>/<key>/<command>`.
    public static let commands = ["call", "dnd", "hangup"]

    // MARK: values

    static func dateTime(_ date: Date) -> [String: Any] {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(secondsFromGMT: 3 * 3_600)
        return ["contentType": "DateTime", "value": f.string(from: date)]
    }
}
