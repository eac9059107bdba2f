import Foundation

/// The data of one sandbox MoySklad account. Field names follow MoySklad's JSON API 1.2 where it has them.
public struct MoySkladSandboxSeed: Codable, Sendable {
    public struct Employee: Codable, Sendable {
        public var id: String
        public var firstName: String
        public var lastName: String
        /// The login ("Логин Сотрудника"), `uid` in the JSON API and in click-to-call posts.
        public var uid: String
        public var email: String
        public var phone: String?
        /// The password for Basic authentication.
        public var password: String
        /// The extension set in the telephony application (Phone API spells it `extention`).
        public var `extension`: String?
        public var isAdmin: Bool

        public init(id: String, firstName: String, lastName: String, uid: String, email: String, phone: String? = nil,
                    password: String, extension: String?, isAdmin: Bool = false) {
            self.id = id; self.firstName = firstName; self.lastName = lastName; self.uid = uid; self.email = email
            self.phone = phone; self.password = password; self.extension = `extension`; self.isAdmin = isAdmin
        }
    }
    public struct Organization: Codable, Sendable {
        public var id: String
        public var name: String
    }
    public struct Counterparty: Codable, Sendable {
        public var id: String
        public var name: String
        public var phone: String?
        public var email: String?
        /// The responsible employee ("owner").
        public var ownerId: String
    }
    /// A warehouse ("склад"), which an order ships from.
    public struct Store: Codable, Sendable {
        public var id: String
        public var name: String
    }
    /// A product an order's positions can name.
    public struct Product: Codable, Sendable {
        public var id: String
        public var name: String
        /// The sale price in kopecks.
        public var price: Int
    }
    public struct State: Codable, Sendable {
        public var id: String
        public var name: String
        public var color: Int
        /// Regular, Successful or Unsuccessful.
        public var stateType: String
    }

    public var accountId: String
    public var employees: [Employee]
    public var organizations: [Organization]
    public var counterparties: [Counterparty]
    /// The customer-order states (`GET /entity/customerorder/metadata` → `states`).
    public var orderStates: [State]
    /// Tokens of an installed solution (weight 1 in the rate limit); they act as the first administrator.
    public var solutionTokens: [String]
    /// The telephony application's "Ключ доступа": the Phone API token and the click-to-call signing key.
    public var phoneAccessKey: String
    /// The telephony application's "Адрес провайдера телефонии", where click-to-call posts go.
    public var providerAddress: String?
    /// Warehouses and products (absent in older seed files: none).
    public var stores: [Store]?
    public var products: [Product]?

    public static let demo = MoySkladSandboxSeed(
        accountId: "1b8c3c2e-0000-11ef-0a80-000000000001",
        employees: [
            Employee(id: "2a000001-0000-11ef-0a80-000000000011", firstName: "Анна", lastName: "Смирнова", uid: "admin@demo",
                     email: "anna@demo.example", password: "demo-password", extension: "101", isAdmin: true),
            Employee(id: "2a000002-0000-11ef-0a80-000000000012", firstName: "Борис", lastName: "Иванов", uid: "boris@demo",
                     email: "boris@demo.example", password: "boris-password", extension: "102"),
            Employee(id: "2a000003-0000-11ef-0a80-000000000013", firstName: "Вера", lastName: "Петрова", uid: "vera@demo",
                     email: "vera@demo.example", password: "vera-password", extension: "103"),
        ],
        organizations: [Organization(id: "3b000001-0000-11ef-0a80-000000000021", name: "ООО \"Демо\"")],
        counterparties: [Counterparty(id: "4c000001-0000-11ef-0a80-000000000031", name: "Ольга Клиентова",
                                      phone: "+7 (916) 555-12-34", email: nil, ownerId: "2a000002-0000-11ef-0a80-000000000012")],
        orderStates: [
            State(id: "5d000001-0000-11ef-0a80-000000000041", name: "Новый", color: 15_106_183, stateType: "Regular"),
            State(id: "5d000002-0000-11ef-0a80-000000000042", name: "Подтвержден", color: 40_931, stateType: "Regular"),
            State(id: "5d000003-0000-11ef-0a80-000000000043", name: "Доставлен", color: 8_825_440, stateType: "Successful"),
            State(id: "5d000004-0000-11ef-0a80-000000000044", name: "Отменен", color: 10_774_760, stateType: "Unsuccessful"),
        ],
        solutionTokens: ["demo-solution-token"],
        phoneAccessKey: "demo-phone-access-key",
        providerAddress: nil,
        stores: [Store(id: "6f000001-0000-11ef-0a80-000000000061", name: "Основной склад"),
                 Store(id: "6f000002-0000-11ef-0a80-000000000062", name: "Склад на Тверской")],
        products: [Product(id: "7a000001-0000-11ef-0a80-000000000071", name: "Стол письменный", price: 1_250_000),
                   Product(id: "7a000002-0000-11ef-0a80-000000000072", name: "Доставка", price: 50_000)])
}

/// Everything the sandbox holds; the inspection API returns it whole.
public struct MoySkladSandboxSnapshot: Codable, Sendable {
    public struct Counterparty: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var phone: String?
        public var email: String?
        public var description: String?
        public var ownerId: String
        public var companyType: String
        public var tags: [String]
        public var attributes: [String: String]
        public var createdByAPI: Bool
        public var created: String
    }
    public struct Order: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var organizationId: String
        public var agentId: String
        public var stateId: String?
        public var ownerId: String
        public var description: String?
        /// In kopecks ("в копейках"), as MoySklad's sums are.
        public var sum: Int
        public var created: String
        public var deleted: Bool
        /// The warehouse the order ships from.
        public var storeId: String? = nil
        public var positions: [Position] = []
    }
    /// One line of an order: a product, how many, the price in kopecks.
    public struct Position: Codable, Sendable, Equatable {
        public var id: String
        public var productId: String
        public var quantity: Double
        public var price: Int
    }
    public struct Task: Codable, Sendable, Equatable {
        public var id: String
        public var description: String
        public var assigneeId: String
        public var authorId: String
        /// "counterparty/<id>" or "organization/<id>".
        public var agent: String?
        public var dueToDate: String?
        public var done: Bool
        public var created: String
    }
    public struct CallEvent: Codable, Sendable, Equatable {
        public var eventType: String
        public var `extension`: String?
        public var sequence: Int
        public var employeeId: String?
    }
    public struct Call: Codable, Sendable, Equatable {
        public var id: String
        public var externalId: String
        public var number: String
        public var isIncoming: Bool
        public var startTime: String
        public var endTime: String?
        public var duration: Int?
        public var `extension`: String?
        public var employeeId: String?
        public var counterpartyId: String?
        public var recordUrl: [String]
        public var comment: String?
        public var events: [CallEvent]
    }
    public struct Webhook: Codable, Sendable, Equatable {
        public var id: String
        public var url: String
        public var action: String
        public var entityType: String
        public var enabled: Bool
        public var diffType: String?
    }
    public struct Delivery: Codable, Sendable, Equatable {
        public var url: String
        public var requestId: String
        public var entityType: String
        public var action: String
        public var href: String
        /// The status of each attempt (0: no answer in time or unreachable).
        public var attempts: [Int]
    }
    public struct ClickToCall: Codable, Sendable, Equatable {
        public var url: String
        public var body: String
        public var signature: String
        public var status: Int
    }

    public var counterparties: [Counterparty]
    /// Counterparty id → the texts of the notes ("события") written to its feed.
    public var notes: [String: [String]]
    public var orders: [Order]
    public var tasks: [Task]
    public var calls: [Call]
    /// Extension → ids of the calls whose card is shown to it now (SHOW adds, HIDE and HIDE_ALL remove).
    public var popups: [String: [String]]
    /// Extension → ids of the calls whose card timer runs (STARTTIME).
    public var timers: [String: [String]]
    public var webhooks: [Webhook]
    public var deliveries: [Delivery]
    public var clickToCalls: [ClickToCall]
    /// Requests by "METHOD path", for counting what a scenario cost.
    public var requests: [String: Int]
    /// Requests refused with 429: code 1049 (rate) and code 1073 (parallel).
    public var rejected1049: Int
    public var rejected1073: Int
    /// Requests being served now.
    public var inFlight: Int
}
