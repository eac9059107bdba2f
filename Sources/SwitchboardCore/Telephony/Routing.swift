import Foundation

/// What a CRM answers for personal-manager routing (CORE-6): the contact's responsible user.
public struct ResponsibleUser: Codable, Sendable, Equatable {
    public var crmUserId: String
    public var contactName: String?

    public init(crmUserId: String, contactName: String?) {
        self.crmUserId = crmUserId
        self.contactName = contactName
    }
}

/// A CRM connector's half of personal-manager routing.
public protocol ManagerLookup: Sendable {
    /// The user responsible for the contact with this number, or nil when the CRM has no such contact.
    func responsible(for phone: PhoneNumber, integration: Integration) async throws -> ResponsibleUser?
}

/// Switchboard's answer to "who is this caller's manager?".
public struct RoutingDecision: Codable, Sendable, Equatable {
    public var employee: Employee?
    public var crmUserId: String?
    public var contactName: String?
    /// Why: "cache", "crm", or why there is no preference.
    public var reason: String
    public var integrationId: String?

    public init(employee: Employee?, crmUserId: String?, contactName: String?, reason: String, integrationId: String?) {
        self.employee = employee
        self.crmUserId = crmUserId
        self.contactName = contactName
        self.reason = reason
        self.integrationId = integrationId
    }

    public static func noPreference(_ reason: String) -> RoutingDecision {
        RoutingDecision(employee: nil, crmUserId: nil, contactName: nil, reason: reason, integrationId: nil)
    }
}

/// CORE-12: the caller ID shown to the client on a click-to-call.
public struct ClickToCallSettings: Codable, Sendable, Equatable {
    /// The number to show when the employee has no SIP line of their own, or always when overriding.
    public var callerId: String?
    /// Show `callerId` on every click-to-call, whatever the employee's line.
    public var overrideCallerId: Bool

    public init(callerId: String? = nil, overrideCallerId: Bool = false) {
        self.callerId = callerId
        self.overrideCallerId = overrideCallerId
    }

    /// Either field may be left out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        callerId = try c.decodeIfPresent(String.self, forKey: .callerId)
        overrideCallerId = try c.decodeIfPresent(Bool.self, forKey: .overrideCallerId) ?? false
    }

    /// nil means "let the PBX choose" (the employee's own line).
    public func callerId(for employee: Employee) -> String? {
        guard let callerId, !callerId.isEmpty else { return nil }
        if overrideCallerId || !employee.hasSIP { return callerId }
        return nil
    }
}

public extension Integration {
    /// The settings every CRM's integration has (`CommonSettings`), read from its settings document.
    var common: CommonSettings { CommonSettings(json: settings) }

    /// Whether this integration answers personal-manager requests (the guides' "forward to the personal manager").
    var personalManagerRouting: Bool { common.personalManager }

    var clickToCall: ClickToCallSettings { common.clickToCall }
}
