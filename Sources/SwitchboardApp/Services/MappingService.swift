import Foundation
import SwitchboardCore
import SwitchboardCRM
import SwitchboardPBX
import SwitchboardStorage

/// Which PBX employee is which CRM user, for the management API and the cabinet alike (issue 10's application layer):
/// the mapping replaced with the routing directory forgotten, the CRM's users through its connector, and the employee
/// sync (CORE-14) saved and run.
struct MappingService: Sendable {
    let integrations: IntegrationStore
    let connectors: ConnectorRegistry
    let routing: RoutingService
    let saving: IntegrationService
    let db: any Database
    let vault: CredentialVault

    init(sb: Switchboard) {
        integrations = sb.integrations
        connectors = sb.connectors
        routing = sb.routing
        saving = IntegrationService(sb: sb)
        db = sb.db
        vault = sb.vault
    }

    /// The integration's mapping; nil when the tenant has no such integration.
    func mappings(tenantId: String, integrationId: String) async throws -> [EmployeeMapping]? {
        guard try await integrations.get(tenantId: tenantId, id: integrationId) != nil else { return nil }
        return try await integrations.mappings(tenantId: tenantId, integrationId: integrationId)
    }

    /// Replaces the integration's mapping; routing reads the new one at once.
    func replace(tenantId: String, integrationId: String, _ mappings: [EmployeeMapping]) async throws -> [EmployeeMapping] {
        try await integrations.replaceMappings(tenantId: tenantId, integrationId: integrationId, mappings)
        routing.invalidateDirectory()
        return try await integrations.mappings(tenantId: tenantId, integrationId: integrationId)
    }

    /// The CRM's users, through its connector; nil when its connector cannot list them.
    func users(_ credential: CRMCredential) async throws -> [CRMUserSummary]? {
        guard let list = connectors[credential.crm]?.users else { return nil }
        return try await list(credential)
    }

    /// Stores the employee sync's settings in the integration and saves it (saving with the sync on queues a run).
    func saveSync(_ integration: Integration, _ settings: EmployeeSync.Settings) async throws -> Integration? {
        var integration = integration
        let block = try JSON.decode(JSONValue.self, from: JSON.string(settings))
        if case .object(var o) = integration.settings {
            o["employeeSync"] = block
            integration.settings = .object(o)
        } else {
            integration.settings = .object(["employeeSync": block])
        }
        return try await saving.save(integration)
    }

    /// Runs the employee sync now: the chosen CRM users become employees mapped to themselves.
    func sync(_ integration: Integration) async throws -> EmployeeSync.Report {
        try await EmployeeSync.run(integration, registry: connectors, db: db, vault: vault)
    }
}
