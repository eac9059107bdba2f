import Foundation

/// One business using Switchboard.
public struct Tenant: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// Country used to read national numbers (ISO 3166 alpha-2, e.g. "RU").
    public var region: String
    public var createdAt: Date

    public init(id: String, name: String, region: String = "RU", createdAt: Date) {
        self.id = id
        self.name = name
        self.region = region
        self.createdAt = createdAt
    }
}

/// A person who signs in to the cabinet.
public struct CabinetUser: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var email: String
    public var locale: String
    public var createdAt: Date

    public init(id: String, tenantId: String, email: String, locale: String, createdAt: Date) {
        self.id = id
        self.tenantId = tenantId
        self.email = email
        self.locale = locale
        self.createdAt = createdAt
    }
}

/// A CRM Switchboard integrates with, by its stable name (stored with credentials and integrations, part of job kinds
/// and paths). Each CRM declares its constant in its own folder; the connector registry says which ones this build
/// serves, so a stored kind nobody serves stays what it was instead of turning into another CRM.
public struct CRMKind: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    public var description: String { rawValue }
}

/// How a credential set authenticates.
public enum CRMAuthKind: String, Codable, Sendable, CaseIterable {
    /// OAuth 2.0 authorization code (amoCRM, Bitrix24 applications).
    case oauth
    /// A long-lived token pasted by the tenant (amoCRM), or an access key (MoySklad telephony).
    case token
    /// Login and password (Megaplan, MoySklad deals import).
    case password
    /// An incoming webhook URL with its secret (Bitrix24 local integration).
    case webhook
}

/// A named CRM credential set; the secret is never part of this value.
public struct CRMCredential: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var crm: CRMKind
    public var name: String
    public var baseURL: String
    public var authKind: CRMAuthKind
    /// `unchecked`, `ok`, `failed`, `reconnect` (access revoked; the tenant must connect again).
    public var status: String
    /// The state's detail in English (the API's); `statusPhrase` has it in the tenant's languages.
    public var statusDetail: String?
    /// The detail as a phrase; nil when there is none or it was stored as plain English before phrases were.
    public var statusPhrase: Phrase? = nil
    public var hasSecret: Bool
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, tenantId, crm, name, baseURL, authKind, status, statusDetail, hasSecret, createdAt, updatedAt
    }

    /// The state in the tenant's languages, when `status` is one Switchboard knows.
    public var state: CredentialStatus? { CredentialStatus(rawValue: status) }

    public init(id: String, tenantId: String, crm: CRMKind, name: String, baseURL: String, authKind: CRMAuthKind,
                status: String, statusDetail: String?, statusPhrase: Phrase? = nil, hasSecret: Bool, createdAt: Date,
                updatedAt: Date) {
        self.id = id
        self.tenantId = tenantId
        self.crm = crm
        self.name = name
        self.baseURL = baseURL
        self.authKind = authKind
        self.status = status
        self.statusDetail = statusDetail
        self.statusPhrase = statusPhrase
        self.hasSecret = hasSecret
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The secret part of a credential set; stored only encrypted.
public struct CRMSecret: Codable, Sendable, Equatable {
    public var login: String?
    public var password: String?
    public var token: String?
    public var accessToken: String?
    public var refreshToken: String?
    public var accessTokenExpiresAt: Date?
    /// What a CRM's installation hands over beside the tokens and must stay secret (an application token that signs
    /// the CRM's events, the account's id); sealed with the rest.
    public var extra: [String: String]?

    public init(login: String? = nil, password: String? = nil, token: String? = nil, accessToken: String? = nil,
                refreshToken: String? = nil, accessTokenExpiresAt: Date? = nil, extra: [String: String]? = nil) {
        self.extra = extra
        self.login = login
        self.password = password
        self.token = token
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.accessTokenExpiresAt = accessTokenExpiresAt
    }

    public var isEmpty: Bool {
        login == nil && password == nil && token == nil && accessToken == nil && refreshToken == nil
    }
}

/// A PBX protocol: a name each protocol declares in its own folder (SwitchboardPBX), served when the PBX registry
/// lists its adapter. A stored name no adapter serves is kept as it is. Coded as its name (the standard library's
/// coding of a string raw value).
public struct PBXProtocol: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public var description: String { rawValue }

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// A tenant's PBX: where its events come from and where commands go.
public struct PBXConnection: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var name: String
    public var `protocol`: PBXProtocol
    /// The PBX's own API for commands (ITooLabs: `https://<domain>`), if set.
    public var apiURL: String?
    /// `legacy` (`/sys/crm_api.wcgp`) or `v1` (`/crmapi/v1`) for ITooLabs.
    public var apiFlavor: String
    public var hasAPIKey: Bool
    /// How long a routing answer may take before Switchboard answers "no preference".
    public var routingDeadlineMs: Int
    /// The deadlines a tenant may choose, and the ITooLabs API generations Switchboard speaks.
    public static let routingDeadlineRange = 100...10_000
    public static let apiFlavors = ["legacy", "v1"]
    public var region: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, tenantId: String, name: String, protocol: PBXProtocol, apiURL: String?, apiFlavor: String,
                hasAPIKey: Bool, routingDeadlineMs: Int, region: String, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.tenantId = tenantId
        self.name = name
        self.protocol = `protocol`
        self.apiURL = apiURL
        self.apiFlavor = apiFlavor
        self.hasAPIKey = hasAPIKey
        self.routingDeadlineMs = routingDeadlineMs
        self.region = region
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A person in the tenant's PBX.
public struct Employee: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var pbxConnectionId: String
    /// The PBX's user id or login (ITooLabs `user`).
    public var login: String
    public var extension_: String?
    public var name: String
    public var email: String?
    public var directNumber: String?
    /// Whether the employee has a SIP line (CORE-12 caller-ID rules).
    public var hasSIP: Bool

    enum CodingKeys: String, CodingKey {
        case id, tenantId, pbxConnectionId, login, extension_ = "extension", name, email, directNumber, hasSIP
    }

    public init(id: String, tenantId: String, pbxConnectionId: String, login: String, extension_: String?,
                name: String, email: String?, directNumber: String?, hasSIP: Bool) {
        self.id = id
        self.tenantId = tenantId
        self.pbxConnectionId = pbxConnectionId
        self.login = login
        self.extension_ = extension_
        self.name = name
        self.email = email
        self.directNumber = directNumber
        self.hasSIP = hasSIP
    }
}

/// One CRM integration of a tenant: which credentials, which PBX, on or off, its settings.
public struct Integration: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var crm: CRMKind
    public var name: String
    public var credentialId: String?
    public var pbxConnectionId: String?
    /// CORE-2: off by default; while off nothing reaches the CRM.
    public var active: Bool
    /// The CRM-specific settings as JSON; typed and validated per CRM.
    public var settings: JSONValue
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, tenantId: String, crm: CRMKind, name: String, credentialId: String?,
                pbxConnectionId: String?, active: Bool, settings: JSONValue, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.tenantId = tenantId
        self.crm = crm
        self.name = name
        self.credentialId = credentialId
        self.pbxConnectionId = pbxConnectionId
        self.active = active
        self.settings = settings
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// CORE-3: a CRM user linked to a PBX employee.
public struct EmployeeMapping: Codable, Sendable, Equatable {
    public var crmUserId: String
    public var crmUserName: String
    public var employeeId: String
    /// Bitrix24: "use for personal-manager lookup"; the other CRMs keep it on.
    public var useForRouting: Bool

    public init(crmUserId: String, crmUserName: String, employeeId: String, useForRouting: Bool = true) {
        self.crmUserId = crmUserId
        self.crmUserName = crmUserName
        self.employeeId = employeeId
        self.useForRouting = useForRouting
    }
}
