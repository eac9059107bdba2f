import Foundation
import SwitchboardCore

/// The data of one sandbox amoCRM account. Field names follow amoCRM's API v4.
public struct AmoSandboxSeed: Codable, Sendable {
    public struct User: Codable, Sendable {
        public var id: Int
        public var name: String
        public var email: String
    }
    public struct Status: Codable, Sendable {
        public var id: Int
        public var name: String
        public var type: Int?
    }
    public struct Pipeline: Codable, Sendable {
        public var id: Int
        public var name: String
        public var is_main: Bool?
        public var statuses: [Status]
    }
    public struct Contact: Codable, Sendable {
        public var id: Int
        public var name: String
        public var responsible_user_id: Int
        public var phones: [String]
        public var open_lead_ids: [Int]?
    }

    public var account_id: Int
    public var subdomain: String
    public var users: [User]
    public var pipelines: [Pipeline]
    public var contacts: [Contact]
    /// Long-lived tokens the account accepts (a tenant pastes one into Switchboard).
    public var long_lived_tokens: [String]
    /// The OAuth application (client id and secret) the account has installed.
    public var client_id: String
    public var client_secret: String

    public static let demo = AmoSandboxSeed(
        account_id: 31_000_001, subdomain: "demo",
        users: [User(id: 8_001, name: "Анна Смирнова", email: "anna@demo.example"),
                User(id: 8_002, name: "Борис Иванов", email: "boris@demo.example"),
                User(id: 8_003, name: "Вера Петрова", email: "vera@demo.example")],
        pipelines: [Pipeline(id: 7_001, name: "Воронка", is_main: true, statuses: [
            Status(id: 70_010, name: "Неразобранное", type: 1), Status(id: 70_011, name: "Первичный контакт", type: 0),
            Status(id: 70_012, name: "Переговоры", type: 0), Status(id: 142, name: "Успешно реализовано", type: 0),
            Status(id: 143, name: "Закрыто и не реализовано", type: 0)]),
                    Pipeline(id: 7_002, name: "Сервис", is_main: false, statuses: [
            Status(id: 70_020, name: "Неразобранное", type: 1), Status(id: 70_021, name: "Заявка", type: 0),
            Status(id: 142, name: "Успешно реализовано", type: 0), Status(id: 143, name: "Закрыто и не реализовано", type: 0)])],
        contacts: [Contact(id: 5_001, name: "Ольга Клиентова", responsible_user_id: 8_002, phones: ["+7 (916) 555-12-34"],
                           open_lead_ids: nil)],
        long_lived_tokens: ["demo-long-lived-token"], client_id: "switchboard-demo-client", client_secret: "switchboard-demo-secret")
}

/// Everything the sandbox holds; the inspection API returns it whole.
public struct AmoSandboxSnapshot: Codable, Sendable {
    public struct Contact: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        public var responsible_user_id: Int
        public var phones: [String]
        public var tags: [String]
        public var lead_ids: [Int]
        public var created_by_api: Bool
    }
    public struct Lead: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        public var pipeline_id: Int
        public var status_id: Int
        public var responsible_user_id: Int
        public var contact_ids: [Int]
        public var tags: [String]
        public var price: Int
        public var created_at: Int
        public var updated_at: Int = 0
        /// Set when the lead reaches won (142) or lost (143).
        public var closed_at: Int? = nil
    }
    public struct Unsorted: Codable, Sendable, Equatable {
        public var uid: String
        public var source_uid: String
        public var pipeline_id: Int
        public var lead_id: Int
        public var contact_id: Int
        public var metadata: [String: String]
        public var source_name: String = ""
        public var created_at: Int = 0
        /// `sip` (calls) or `forms` (web forms).
        public var category: String = "sip"
    }
    public struct CallNote: Codable, Sendable, Equatable {
        public var id: Int
        public var uniq: String
        public var phone: String
        public var direction: String
        public var duration: Int
        public var link: String?
        public var call_status: Int?
        public var call_responsible: Int?
        public var entity_type: String
        public var entity_id: Int
    }
    /// A note that is not a call (`note_type` `common`, …): what Switchboard writes for requests and chat transcripts.
    public struct Note: Codable, Sendable, Equatable {
        public var id: Int
        public var entity_type: String
        public var entity_id: Int
        public var note_type: String
        public var text: String
        public var created_at: Int
    }
    public struct Task: Codable, Sendable, Equatable {
        public var id: Int
        public var text: String
        public var responsible_user_id: Int
        public var entity_type: String?
        public var entity_id: Int?
        public var complete_till: Int
        public var task_type_id: Int
        public var created_at: Int = 0
        public var is_completed: Bool = false
    }
    public struct Event: Codable, Sendable, Equatable {
        public var phone_number: String
        public var users: [Int]
    }

    public var contacts: [Contact]
    public var leads: [Lead]
    public var unsorted: [Unsorted]
    public var calls: [CallNote]
    public var tasks: [Task]
    public var events: [Event]
    /// Requests by "METHOD path", for counting what a scenario cost.
    public var requests: [String: Int]
    public var rejected429: Int
    /// Notes other than calls.
    public var notes: [Note] = []
}
