import Foundation

/// The data of one sandbox Megaplan account. Field names follow Megaplan's API v3 (camelCase, string ids).
public struct MegaplanSandboxSeed: Codable, Sendable {
    /// A login the password grant accepts, acting as one employee.
    public struct User: Codable, Sendable {
        public var username: String
        public var password: String
        public var employeeId: String

        public init(username: String, password: String, employeeId: String) {
            self.username = username
            self.password = password
            self.employeeId = employeeId
        }
    }
    public struct Employee: Codable, Sendable {
        public var id: String
        public var firstName: String
        public var lastName: String
        public var middleName: String?
        public var position: String?
        public var email: String
        public var phones: [String]?
        /// The employee's extension in "Настройки → Интеграция → Телефония → Пользователи"; seeded as a `CallUserConfig`.
        public var internalNumber: String?
        public var fired: Bool?
    }
    public struct Contractor: Codable, Sendable {
        public var id: String
        /// `ContractorHuman` or `ContractorCompany`.
        public var contentType: String
        public var firstName: String?
        public var lastName: String?
        public var name: String?
        public var phones: [String]
        public var emails: [String]?
        public var responsibleIds: [String]
    }
    public struct ProgramState: Codable, Sendable {
        public var id: String
        public var name: String
        /// `active`, `positive` or `negative`.
        public var type: String
        public var isEntry: Bool?
    }
    public struct Program: Codable, Sendable {
        public var id: String
        public var name: String
        public var states: [ProgramState]
    }
    public struct TodoCategory: Codable, Sendable {
        public var id: String
        public var name: String
        /// `event`, `meeting`, `call`, `todo` or `private`: a communication of type "call" is a todo in a `call` category.
        public var masterType: String
    }
    public struct ExtraField: Codable, Sendable {
        /// As Megaplan names them: `Category<id>CustomField<Name>`.
        public var name: String
        public var hrName: String
        public var type: String
        /// The entities that carry the field (`ContractorHuman`, `ContractorCompany`).
        public var contentTypes: [String]
    }

    /// The account's address part: `mp361546` for `https://mp361546.megaplan.ru`.
    public var accountName: String
    /// The UUID of the application that receives event streams (deal changes).
    public var applicationUuid: String
    public var users: [User]
    public var employees: [Employee]
    public var contractors: [Contractor]
    public var programs: [Program]
    public var todoCategories: [TodoCategory]
    public var extraFields: [ExtraField]

    public static let demo = MegaplanSandboxSeed(
        accountName: "mp361546", applicationUuid: "4f0c3f0e-5c1e-4b8a-9d1a-5b1c2d3e4f50",
        users: [User(username: "admin@demo.example", password: "demo-password", employeeId: "1000001")],
        employees: [
            Employee(id: "1000001", firstName: "Анна", lastName: "Смирнова", position: "Руководитель отдела продаж",
                     email: "anna@demo.example", phones: nil, internalNumber: "101"),
            Employee(id: "1000002", firstName: "Борис", lastName: "Иванов", position: "Менеджер",
                     email: "boris@demo.example", phones: nil, internalNumber: "102"),
            Employee(id: "1000003", firstName: "Вера", lastName: "Петрова", position: "Менеджер",
                     email: "vera@demo.example", phones: nil, internalNumber: nil),
        ],
        contractors: [
            Contractor(id: "1000100", contentType: "ContractorHuman", firstName: "Ольга", lastName: "Клиентова",
                       phones: ["+7 (916) 555-12-34"], emails: ["olga@client.example"], responsibleIds: ["1000002"]),
            Contractor(id: "1000101", contentType: "ContractorCompany", name: "ООО \"Ромашка\"",
                       phones: ["+7 495 123-45-67"], emails: nil, responsibleIds: ["1000001"]),
        ],
        programs: [
            Program(id: "8", name: "Продажи", states: [
                ProgramState(id: "81", name: "Новая", type: "active", isEntry: true),
                ProgramState(id: "82", name: "Переговоры", type: "active"),
                ProgramState(id: "83", name: "Успешно завершена", type: "positive"),
                ProgramState(id: "84", name: "Отказ", type: "negative"),
            ]),
            Program(id: "9", name: "Сервис", states: [
                ProgramState(id: "91", name: "Заявка", type: "active", isEntry: true),
                ProgramState(id: "92", name: "Выполнено", type: "positive"),
            ]),
        ],
        todoCategories: [
            TodoCategory(id: "1", name: "Звонок", masterType: "call"),
            TodoCategory(id: "2", name: "Встреча", masterType: "meeting"),
            TodoCategory(id: "3", name: "Дело", masterType: "todo"),
        ],
        extraFields: [
            ExtraField(name: "Category1000047CustomFieldVirtualnyiNomer", hrName: "Виртуальный номер", type: "StringField",
                       contentTypes: ["ContractorHuman", "ContractorCompany"]),
            ExtraField(name: "Category1000047CustomFieldUtmMetka", hrName: "UTM-метка", type: "StringField",
                       contentTypes: ["ContractorHuman", "ContractorCompany"]),
            ExtraField(name: "Category1000047CustomFieldSait", hrName: "Сайт", type: "StringField",
                       contentTypes: ["ContractorHuman", "ContractorCompany"]),
            ExtraField(name: "Category1000047CustomFieldReklamnayaKampaniya", hrName: "Рекламная кампания", type: "StringField",
                       contentTypes: ["ContractorHuman", "ContractorCompany"]),
        ])
}

/// Everything the sandbox holds; `/sandbox/state` returns it whole. Entities are kept exactly as the API returns them.
public struct MegaplanSandboxSnapshot: Codable, Sendable {
    /// A call card the telephony widget showed an employee (`callInfo` created or moved, never for history).
    public struct Popup: Codable, Sendable, Equatable {
        public var callInfoId: String
        public var providerId: String?
        public var employeeId: String
        public var state: String
        public var contractorId: String?
    }
    /// A request the sandbox sent out as Megaplan (web phone commands, event streams), and the answer it got.
    public struct Sent: Codable, Sendable, Equatable {
        public var kind: String
        public var url: String
        public var body: MegaplanJSON
        public var status: Int?
    }

    /// Entities by content type: `Employee`, `ContractorHuman`, `ContractorCompany`, `CallInfo`, `CallUserConfig`,
    /// `Todo`, `Task`, `Deal`, `Comment`.
    public var entities: [String: [MegaplanJSON]]
    /// Ids of the calls created through `callInfo/history` (no popup).
    public var historyCallIds: [String]
    public var popups: [Popup]
    public var sent: [Sent]
    /// Do-not-disturb as last set from the web phone, by employee id.
    public var dnd: [String: Bool]
    /// Requests by "METHOD path", for counting what a scenario cost.
    public var requests: [String: Int]
    public var rejected429: Int

    public func list(_ contentType: String) -> [MegaplanJSON] { entities[contentType] ?? [] }
}
