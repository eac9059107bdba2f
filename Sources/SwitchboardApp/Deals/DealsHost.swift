import Foundation
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// CORE-16 on the host's side: the queue behind the connectors' deal events and the backfill on connect.
extension Switchboard {
    public var deals: DealStore { DealStore(db: db) }

    /// A CRM said these deals of an integration changed: a job reads and stores them.
    public func dealsChanged(_ integration: Integration, dealIds: [String]) async throws {
        guard connectors[integration.crm]?.deals != nil, !dealIds.isEmpty else { return }
        try await queue.enqueue(DealJobs.syncJob(integration, dealIds: dealIds))
    }

    /// An active integration whose CRM imports deals reads the existing ones once per credential set.
    func backfillDeals(_ integration: Integration) async {
        guard integration.active, integration.credentialId != nil, let spec = connectors[integration.crm]?.deals else { return }
        var source = integration.credentialId
        if let from = spec.source { source = from(integration) }
        guard let source else { return }
        do {
            try await queue.enqueue(DealJobs.backfillJob(integration, source: source))
        } catch {
            logger.warning("the deals backfill was not queued", metadata: ["integration": "\(integration.id)", "error": "\(error)"])
        }
    }
}
