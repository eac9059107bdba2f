import Foundation

/// The one place for every Megaplan fact the sandbox had to guess. Each entry says where the guess comes from; a live
/// account that disagrees is corrected here and nowhere else (docs/sandboxes/megaplan.md lists the same entries).
public enum MegaplanSandboxFacts {
    // MARK: API v3 conventions

    /// The envelope's `data` on an error answer. Third-party client tests built from live probes send `{}`.
    static let errorData: MegaplanJSON = [:]

    /// One item of `meta.errors`. A live account's items carry `field`, `message`, `type` (and a `trace` blob we do not
    /// imitate): seen in a third-party client's probes, not in the vendor docs.
    static func errorItem(message: String, field: String?, type: String) -> MegaplanJSON {
        ["field": field.map { .string($0) } ?? .null, "message": .string(message), "type": .string(type)]
    }

    /// The HTTP status and message of a missing, unknown or expired access token (the docs list only 200/403/422).
    static let unauthorizedStatus = 401
    static let unauthorizedMessage = "Unauthorized"
    static let notFoundMessage = "Сущность не найдена"
    static let rateLimitStatus = 429
    static let rateLimitMessage = "Too Many Requests"

    /// Rate limits: no vendor number exists. A third-party client states "5 rps and 1000 req/hour" per account.
    public static let defaultRequestsPerSecond: Int? = 5
    public static let defaultRequestsPerHour: Int? = nil

    /// `meta.pagination.count` is the total matching the filter (the vendor's PHP example logs it as "общее количество").
    static let paginationCountIsTotal = true

    // MARK: OAuth (token endpoint answers in OAuth's shape, not the envelope — third-party probes)

    static let invalidCredentials: (status: Int, body: MegaplanJSON) =
        (400, ["error": "invalid_grant", "error_description": "Invalid username and password combination"])
    static let invalidRefreshToken: (status: Int, body: MegaplanJSON) =
        (400, ["error": "invalid_grant", "error_description": "Invalid refresh token"])
    static func missingParameters(_ text: String) -> (status: Int, body: MegaplanJSON) {
        (400, ["error": "invalid_request", "error_description": .string(text)])
    }
    static func unsupportedGrant(_ grant: String) -> (status: Int, body: MegaplanJSON) {
        (400, ["error": "unsupported_grant_type", "error_description": .string("Grant type \"\(grant)\" not supported")])
    }
    /// Refresh tokens: single use, a new one with every exchange (the docs only show that one is returned).
    static let refreshTokensRotate = true

    // MARK: Entities

    /// `GET /api/v3/contractorHuman` as its own list (the RAML lists `/contractorCompany`; `contractorHuman` is by analogy
    /// and used by third-party clients for create, get and update).
    static let contractorPaths = ["contractorHuman": "ContractorHuman", "contractorCompany": "ContractorCompany"]
    /// `q` matches names, e-mails and phones (a third-party client's note); phones compare on their last 10 digits.
    static let phoneMatchDigits = 10
    /// A standalone `/api/v3/todo` and `/api/v3/todoCategory` (the RAML read so far shows only `/{entity}/{id}/todos`).
    static let todoPath = "todo"
    static let todoCategoryPath = "todoCategory"

    // MARK: Telephony

    /// `CallRoute.type` and `timeout` when Megaplan finds a responsible (the RAML gives the enum, not the defaults).
    static let callRouteType = "responsible"
    static let callRouteTimeout = 20
    /// Where `callRoute` puts the responsible's extension: a field on each `employees` item (the vendor page says the
    /// route "отдает его внутренний номер", the example shows no such field).
    static let callRouteInternalNumberField = "internalNumber"
    /// Only employees with a `CallUserConfig` are offered by `callRoute` and get call cards (the guides: an employee not
    /// listed under "Пользователи" gets no popup).
    static let unmappedEmployeesGetNothing = true

    // MARK: What Megaplan sends out (web phone commands: no source describes them)

    /// Click-to-call from the web phone: POST JSON to the provider's address.
    static func makeCallBody(account: String, employeeId: String, internalNumber: String?, phone: String) -> MegaplanJSON {
        ["command": "makeCall", "accountId": .string(account),
         "employee": ["contentType": "Employee", "id": .string(employeeId)],
         "internalNumber": internalNumber.map { .string($0) } ?? .null, "phone": .string(phone)]
    }

    /// The web phone's do-not-disturb switch.
    static func dndBody(account: String, employeeId: String, internalNumber: String?, enabled: Bool) -> MegaplanJSON {
        ["command": "setDnd", "accountId": .string(account),
         "employee": ["contentType": "Employee", "id": .string(employeeId)],
         "internalNumber": internalNumber.map { .string($0) } ?? .null, "dnd": .bool(enabled)]
    }

    /// The web phone's "Завершить" button on a call card.
    static func hangUpBody(account: String, employeeId: String, internalNumber: String?, callInfo: MegaplanJSON?) -> MegaplanJSON {
        ["command": "hangup", "accountId": .string(account),
         "employee": ["contentType": "Employee", "id": .string(employeeId)],
         "internalNumber": internalNumber.map { .string($0) } ?? .null,
         "providerId": callInfo?["providerId"] ?? .null,
         "callInfo": callInfo.map { ["contentType": "CallInfo", "id": $0["id"] ?? .null] } ?? .null]
    }

    /// An event-stream delivery ("Потоки событий"): `event`, `data`, `accountInfo` as the vendor's PHP listener reads
    /// them (confirmed); posting it as a JSON body is how that listener reads it (`php://input`).
    static func eventBody(event: String, model: String, data: MegaplanJSON, applicationUuid: String) -> MegaplanJSON {
        ["event": .string(event), "data": data,
         "accountInfo": ["integrationUuid": .string(applicationUuid), "uuid": .string(UUID().uuidString.lowercased()),
                         "model": .string(model)]]
    }
}
