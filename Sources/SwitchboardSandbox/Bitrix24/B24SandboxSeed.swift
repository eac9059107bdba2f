import Foundation
import SwitchboardCore

/// The data of one sandbox Bitrix24 portal with Switchboard installed as a local application.
public struct B24SandboxSeed: Codable, Sendable {
    public struct User: Codable, Sendable {
        public var id: Int
        public var name: String
        public var last_name: String
        public var email: String
        public var active: Bool = true
        /// The employee's inner number (`UF_PHONE_INNER`), which telephony methods accept instead of `USER_ID`.
        public var inner_phone: String?
        public var personal_mobile: String?
        public var work_phone: String?
        public var admin: Bool = false
        /// The work-time status `searchCrmEntities` reports: OPENED, CLOSED, PAUSED, EXPIRED, UNAVAILABLE, NOT_INSTALLED.
        public var timeman_status: String = "OPENED"
    }
    /// A CRM record: a contact, company, lead or deal.
    public struct Entity: Codable, Sendable {
        public var id: Int
        public var title: String?
        public var name: String?
        public var last_name: String?
        public var assigned_by_id: Int
        public var phones: [String] = []
        public var contact_id: Int?
        public var stage_id: String?
    }

    /// The portal's unique id (survives a change of address).
    public var member_id: String
    /// The local application's OAuth client (`local.…`), its secret, and the token events carry.
    public var client_id: String
    public var client_secret: String
    public var application_token: String
    /// Scopes the application was granted, comma-separated as Bitrix24 writes them.
    public var scope: String
    /// `crm.settings.mode.get`: 1 classic CRM (with leads), 2 simple CRM (deals only).
    public var crm_mode: Int
    /// The user who installed the application (an administrator); tokens act on their behalf.
    public var install_user_id: Int
    /// The portal's time zone, as an offset from UTC in seconds (dates in answers carry it).
    public var utc_offset: Int
    /// Where Bitrix24 sends the browser after `/oauth/authorize/` (the application's settings).
    public var redirect_uri: String?
    /// Incoming webhooks (`/rest/<user_id>/<secret>/<method>`): CRM methods work, telephony methods do not.
    public var webhooks: [String: Int] = [:]
    public var users: [User]
    public var contacts: [Entity] = []
    public var companies: [Entity] = []
    public var leads: [Entity] = []
    public var deals: [Entity] = []

    /// A portal with three named employees (inner numbers 101–103), a dismissed one, and enough further staff that
    /// `user.get` pages; one known client with an open deal; classic CRM mode.
    public static let demo: B24SandboxSeed = {
        var users = [
            User(id: 1, name: "Анна", last_name: "Смирнова", email: "anna@demo.example", inner_phone: "101",
                 personal_mobile: "+79160000101", admin: true),
            User(id: 2, name: "Борис", last_name: "Иванов", email: "boris@demo.example", inner_phone: "102"),
            User(id: 3, name: "Вера", last_name: "Петрова", email: "vera@demo.example", inner_phone: "103", timeman_status: "CLOSED"),
            User(id: 4, name: "Глеб", last_name: "Уволенный", email: "gleb@demo.example", active: false, inner_phone: "104"),
        ]
        for i in 5...56 {
            users.append(User(id: i, name: "Сотрудник", last_name: "№\(i)", email: "staff\(i)@demo.example", inner_phone: String(100 + i)))
        }
        return B24SandboxSeed(
            member_id: "5c0e6b9d3f1a4e2b8d7c6a5f4e3d2c1b", client_id: "local.66a1b2c3d4e5f6.12345678",
            client_secret: "switchboard-demo-b24-secret", application_token: "7a1c4e9b2d5f8a3c6e9b2d5f8a1c4e7b",
            scope: "crm,telephony,user,im,task,placement", crm_mode: 1, install_user_id: 1, utc_offset: 3 * 3600,
            redirect_uri: nil, webhooks: ["demo-webhook-secret": 1], users: users,
            contacts: [Entity(id: 11, name: "Ольга", last_name: "Клиентова", assigned_by_id: 2, phones: ["+7 (916) 555-12-34"])],
            companies: [Entity(id: 21, title: "ООО «Клиент»", assigned_by_id: 3, phones: ["+7 495 111-22-33"])],
            leads: [Entity(id: 31, title: "Заявка с сайта", name: "Пётр", assigned_by_id: 3, phones: ["8 (903) 444-55-66"])],
            deals: [Entity(id: 41, title: "Поставка", assigned_by_id: 2, contact_id: 11, stage_id: "NEW")])
    }()
}

/// Everything the sandbox holds; `/sandbox/state` returns it whole. CRM records keep Bitrix24's field names and
/// string values, as `crm.*.get` returns them.
public struct B24SandboxSnapshot: Codable, Sendable {
    public var crm_mode: Int
    public var contacts: [[String: JSONValue]]
    public var companies: [[String: JSONValue]]
    public var leads: [[String: JSONValue]]
    public var deals: [[String: JSONValue]]
    public var activities: [[String: JSONValue]]
    public var tasks: [[String: JSONValue]]
    public var lines: [[String: JSONValue]]
    /// Registered calls, finished or not, with whom their card is shown to.
    public var calls: [[String: JSONValue]]
    public var notifications: [[String: JSONValue]]
    /// Chat messages Bitrix24 itself posted about calls (`ADD_TO_CHAT`).
    public var chat: [[String: JSONValue]]
    public var handlers: [[String: JSONValue]]
    /// Events posted to handlers, with the handler's HTTP status (0 when it could not be reached).
    public var deliveries: [[String: JSONValue]]
    /// Requests by REST method (lower case), batch sub-requests included, for counting what a scenario cost.
    public var requests: [String: Int]
    public var rejected_query_limit: Int
    /// Timeline comments (`crm.timeline.comment.add`): chat transcripts and notes on records.
    public var timeline_comments: [[String: JSONValue]] = []
}
