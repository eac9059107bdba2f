import Foundation
import Logging
import SwitchboardCore
import SwitchboardCRM
import SwitchboardPBX
import SwitchboardStorage

/// A tenant's CRM integrations, for the management API and the cabinet's settings pages alike (issue 10's application
/// layer): the settings checked by the CRM's connector before they are stored, and after every save what saving
/// means (`saved`), run once, whoever saved.
struct IntegrationService: Sendable {
    let integrations: IntegrationStore
    let credentials: CredentialStore
    let pbx: PBXStore
    let connectors: ConnectorRegistry
    let routing: RoutingService
    let queue: JobQueue
    let logger: Logger
    /// Forgets an integration's cached managers on every instance (`Switchboard.forgetRouting`).
    let forgetRouting: @Sendable (String) async -> Void
    /// Queues the reading of the CRM's existing deals when saving makes them readable (`Switchboard.backfillDeals`).
    let backfillDeals: @Sendable (Integration) async -> Void

    init(sb: Switchboard) {
        integrations = sb.integrations
        credentials = sb.credentials
        pbx = sb.pbx
        connectors = sb.connectors
        routing = sb.routing
        queue = sb.queue
        logger = sb.logger
        forgetRouting = { [sb] in await sb.forgetRouting(integrationId: $0) }
        backfillDeals = { [sb] in await sb.backfillDeals($0) }
    }

    func list(tenantId: String) async throws -> [Integration] { try await integrations.list(tenantId: tenantId) }

    func get(tenantId: String, id: String) async throws -> Integration? { try await integrations.get(tenantId: tenantId, id: id) }

    /// A new integration; its settings are checked by its CRM's connector when given or when it is switched on.
    func create(tenantId: String, crm: CRMKind, name: String, credentialId: String?, pbxConnectionId: String?, active: Bool,
                settings: JSONValue, settingsGiven: Bool) async throws -> Integration {
        try check(crm: crm, settings: settings, given: settingsGiven, active: active)
        let i = try await integrations.create(tenantId: tenantId, crm: crm, name: name, credentialId: credentialId,
                                              pbxConnectionId: pbxConnectionId, active: active, settings: settings)
        await saved(i)
        return i
    }

    /// The cabinet's "connect" on a CRM's card: an integration, off, with the default settings, on the tenant's first
    /// credentials of that CRM and its first PBX. Nothing is asked of the CRM until the tenant saves its settings.
    func connect(tenantId: String, _ connector: CRMConnector) async throws -> Integration {
        let credential = try await credentials.list(tenantId: tenantId, crm: connector.kind).first
        let connection = try await pbx.list(tenantId: tenantId).first
        return try await integrations.create(tenantId: tenantId, crm: connector.kind, name: connector.title,
                                             credentialId: credential?.id, pbxConnectionId: connection?.id, active: false)
    }

    /// Stores a changed integration; `settingsChanged` says its settings are to be checked by its CRM's connector (they
    /// are also checked whenever it is on). Nil when the tenant has no such integration.
    func update(_ integration: Integration, settingsChanged: Bool) async throws -> Integration? {
        try check(crm: integration.crm, settings: integration.settings, given: settingsChanged, active: integration.active)
        return try await save(integration)
    }

    /// Stores an integration whose changed part its caller already checked, and runs what saving means.
    func save(_ integration: Integration) async throws -> Integration? {
        guard let stored = try await integrations.update(integration) else { return nil }
        await saved(stored)
        return stored
    }

    /// What every CRM's settings form carries once its settings passed the connector's check: the settings document
    /// (blocks the form does not edit, such as the text rules, kept), "Integration active", the credentials (only of
    /// the integration's CRM), the employee mapping when the form had one (only the tenant's employees); then `saved`.
    func saveForm(_ integration: Integration, settings: JSONValue, active: Bool, credentialId: String?,
                  mappings: [EmployeeMapping]?) async throws -> Integration? {
        var integration = integration
        integration.settings = settings.keepingBlocks(of: integration.settings)
        integration.active = active
        if let cid = credentialId, !cid.isEmpty,
           try await credentials.get(tenantId: integration.tenantId, id: cid)?.crm == integration.crm {
            integration.credentialId = cid
        }
        guard try await integrations.update(integration) != nil else { return nil }
        if let mappings {
            let employees = Set(try await pbx.employees(tenantId: integration.tenantId).map(\.id))
            try await integrations.replaceMappings(tenantId: integration.tenantId, integrationId: integration.id,
                                                   mappings.filter { employees.contains($0.employeeId) })
        }
        guard let stored = try await integrations.get(tenantId: integration.tenantId, id: integration.id) else { return nil }
        await saved(stored)
        return stored
    }

    /// What saving an integration means, whoever saved it: routing forgets it (here, and through NOTIFY on every
    /// instance), the deals backfill and, with the sync on, the employee sync are queued, and its CRM's connector does
    /// what saving asks there (e.g. subscribes to contact changes). A refusal is logged; routing then relies on the
    /// cache's expiry.
    func saved(_ integration: Integration) async {
        routing.invalidateDirectory()
        await forgetRouting(integration.id)
        await backfillDeals(integration)
        if integration.active, EmployeeSync.Settings.of(integration).enabled {
            // CORE-14: saving with the sync on runs it now; each run schedules the next.
            do {
                try await queue.enqueue(EmployeeSync.job(integration, cause: "save:\(Int(integration.updatedAt.timeIntervalSince1970 * 1000))"))
            } catch {
                logger.warning("the employee sync was not queued", metadata: ["integration": "\(integration.id)", "error": "\(error)"])
            }
        }
        guard let onSave = connectors[integration.crm]?.onSave else { return }
        do {
            try await onSave(integration)
        } catch {
            logger.warning("the CRM refused what saving the integration asks of it",
                           metadata: ["integration": "\(integration.id)", "crm": "\(integration.crm)", "error": "\(error)"])
        }
    }

    /// Deletes the integration and forgets what routing knew of it.
    func delete(tenantId: String, id: String) async throws -> Bool {
        guard try await integrations.delete(tenantId: tenantId, id: id) else { return false }
        routing.invalidateDirectory()
        await forgetRouting(id)
        return true
    }

    /// Settings are checked when they are written, and before an integration is switched on, by the CRM's connector;
    /// every problem at once.
    func check(crm: CRMKind, settings: JSONValue, given: Bool, active: Bool) throws {
        guard given || active, let connector = connectors[crm] else { return }
        let problems = connector.settingsProblems(settings)
        if let first = problems.first { throw SettingsError(problems: problems, first: first) }
    }
}
