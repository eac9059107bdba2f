import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// What a call job of any CRM needs, read when it runs (so a switched-off integration stops at once): the
/// integration, its credentials, its typed settings and the employee mapping (decision 0006: written once).
public struct IntegrationContext<Settings: Decodable & Sendable>: Sendable {
    public let integration: Integration
    public let credential: CRMCredential
    public let settings: Settings
    /// PBX login (and extension) → CRM user id, through the employee mapping (CORE-3).
    public let userByLogin: [String: String]
    /// CRM user id → employee, for the CRM's own requests (click-to-call, lookups).
    public let employeeByUser: [String: Employee]

    /// nil when there is nothing to do (the integration was deleted or is off); the reason is in the journal.
    public static func load(tenantId: String, integrationId: String, crm title: Phrase, db: any Database, vault: CredentialVault,
                            log: AttemptLog) async throws -> IntegrationContext? {
        let integrations = IntegrationStore(db: db)
        guard let integration = try await integrations.get(tenantId: tenantId, id: integrationId) else {
            log.note(CallSkip.integrationDeleted)
            return nil
        }
        guard integration.active else {
            log.note(CallSkip.switchedOff(crm: title))
            return nil
        }
        guard let credentialId = integration.credentialId,
              let credential = try await CredentialStore(db: db, vault: vault).get(tenantId: tenantId, id: credentialId) else {
            throw DeliveryError.permanent(ContextProblem.noCredentials(crm: title).phrase)
        }
        let settings: Settings
        do {
            settings = try JSON.decode(Settings.self, from: JSON.string(integration.settings))
        } catch {
            throw DeliveryError.permanent(ContextProblem.settingsUnreadable(crm: title, error: "\(error)").phrase)
        }
        let (byLogin, byUser) = try await mapping(tenantId: tenantId, integrationId: integration.id, db: db, vault: vault)
        return IntegrationContext(integration: integration, credential: credential, settings: settings,
                                  userByLogin: byLogin, employeeByUser: byUser)
    }

    /// The employee mapping both ways.
    public static func mapping(tenantId: String, integrationId: String, db: any Database, vault: CredentialVault) async throws
        -> (byLogin: [String: String], byUser: [String: Employee]) {
        let employees = try await PBXStore(db: db, vault: vault).employees(tenantId: tenantId)
        var byLogin: [String: String] = [:], byUser: [String: Employee] = [:]
        for m in try await IntegrationStore(db: db).mappings(tenantId: tenantId, integrationId: integrationId) {
            guard let e = employees.first(where: { $0.id == m.employeeId }) else { continue }
            byLogin[e.login] = m.crmUserId
            if let ext = e.extension_ { byLogin[ext] = byLogin[ext] ?? m.crmUserId }
            byUser[m.crmUserId] = byUser[m.crmUserId] ?? e
        }
        return (byLogin, byUser)
    }
}
