import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

/// CORE-16: how a CRM's deals reach Raw data → Deals. The CRM tells Switchboard a deal changed (its inbound endpoint
/// calls `HostServices.dealsChanged`, which queues a sync job); the job reads the deals with `fetch` and stores them.
/// When an integration is switched on, a backfill job reads every existing deal page by page.
public struct DealSpec: Sendable {
    /// Reads deals by their ids in the CRM; a deal the CRM no longer has is left out.
    public var fetch: @Sendable (_ integration: Integration, _ ids: [String], _ log: AttemptLog?) async throws -> [DealRecord]
    /// One page of every deal of the CRM account, from `cursor` (nil: the first page).
    public var backfill: @Sendable (_ integration: Integration, _ cursor: String?, _ log: AttemptLog?) async throws -> DealPage
    /// The account an integration's deals are read from, when not its credentials (a CRM whose deals import has a login
    /// of its own): the backfill runs once per source. Nil from it: no deals are imported for the integration now.
    public var source: (@Sendable (_ integration: Integration) -> String?)? = nil

    public init(fetch: @escaping @Sendable (Integration, [String], AttemptLog?) async throws -> [DealRecord],
                backfill: @escaping @Sendable (Integration, String?, AttemptLog?) async throws -> DealPage) {
        self.fetch = fetch
        self.backfill = backfill
    }
}

extension DealSpec {
    /// A CRM answer's value as text: a string (an empty one is none) or a number's digits.
    public static func text(_ v: Any?) -> String? {
        switch v {
        case let s as String: return s.isEmpty ? nil : s
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }

    /// The credentials an integration's deals are read with; a permanent failure when it has none.
    public static func credential(_ integration: Integration, _ credentials: CredentialStore, crm: Phrase) async throws -> CRMCredential {
        guard let id = integration.credentialId, let credential = try await credentials.get(tenantId: integration.tenantId, id: id) else {
            throw DeliveryError.permanent(ContextProblem.noCredentials(crm: crm).phrase)
        }
        return credential
    }
}

/// A page of a backfill and where the next one starts (nil: it was the last).
public struct DealPage: Sendable {
    public var deals: [DealRecord]
    public var next: String?

    public init(deals: [DealRecord], next: String?) {
        self.deals = deals
        self.next = next
    }
}

/// The jobs that import deals, the same for every CRM.
public enum DealJobs {
    public struct Payload: Codable, Sendable, Equatable {
        public var integrationId: String
        public var dealIds: [String]
        /// A backfill's next page (a retry goes on from the page that failed).
        public var cursor: String?

        public init(integrationId: String, dealIds: [String] = [], cursor: String? = nil) {
            self.integrationId = integrationId
            self.dealIds = dealIds
            self.cursor = cursor
        }
    }

    public static func sync(_ crm: CRMKind) -> String { "\(crm.rawValue).deal.sync" }
    public static func backfill(_ crm: CRMKind) -> String { "\(crm.rawValue).deal.backfill" }

    /// Deals are read in their own partition per integration: a long backfill never holds up the calls.
    public static func partition(_ integration: Integration) -> String { "deals:\(integration.id)" }

    /// The job that reads the named deals of an integration.
    public static func syncJob(_ integration: Integration, dealIds: [String]) -> JobSpec {
        JobSpec(tenantId: integration.tenantId, partitionKey: partition(integration), kind: sync(integration.crm),
                payload: JSON.string(Payload(integrationId: integration.id, dealIds: dealIds)), maxAttempts: 20)
    }

    /// The backfill of an integration: once per credential set it is switched on with (`dedupe` keeps it so), or per
    /// `source` when the deals come from another one.
    public static func backfillJob(_ integration: Integration, source: String? = nil) -> JobSpec {
        JobSpec(tenantId: integration.tenantId, partitionKey: partition(integration), kind: backfill(integration.crm),
                payload: JSON.string(Payload(integrationId: integration.id)),
                dedupeKey: "\(integration.id):deal.backfill:\(source ?? integration.credentialId ?? "")", maxAttempts: 20)
    }

    static func integration(_ job: Job, _ payload: Payload, _ integrations: IntegrationStore, log: AttemptLog) async throws -> Integration? {
        guard let integration = try await integrations.get(tenantId: job.tenantId, id: payload.integrationId) else {
            log.note(DealNote.integrationDeleted)
            return nil
        }
        guard integration.active else {
            log.note(DealNote.switchedOff)
            return nil
        }
        return integration
    }

    static func counts(_ outcomes: [DealStore.Outcome]) -> [String: Int] {
        Dictionary(grouping: outcomes, by: \.rawValue).mapValues(\.count)
    }

    /// Reads deals and stores them: the named ones (a sync), or every page of the account (a backfill).
    struct Handler: JobHandler {
        let spec: DealSpec
        let backfill: Bool
        let integrations: IntegrationStore
        let deals: DealStore

        func run(_ job: Job, log: AttemptLog) async throws {
            let payload = try JSON.decode(Payload.self, from: job.payload)
            guard let integration = try await DealJobs.integration(job, payload, integrations, log: log) else { return }
            func store(_ records: [DealRecord]) async throws -> [DealStore.Outcome] {
                try await deals.upsert(tenantId: integration.tenantId, integrationId: integration.id, crm: integration.crm, records)
            }
            guard backfill else {
                let records = try await spec.fetch(integration, payload.dealIds, log)
                let outcomes = try await store(records)
                let missing = Set(payload.dealIds).subtracting(records.map(\.id))
                log.note(DealNote.synced(ids: payload.dealIds, counts: DealJobs.counts(outcomes), missing: missing.sorted()))
                return
            }
            // Each page is stored as it comes (storing is idempotent, so a retry that reads again changes nothing).
            var cursor = payload.cursor
            var outcomes: [DealStore.Outcome] = []
            repeat {
                let page = try await spec.backfill(integration, cursor, log)
                outcomes += try await store(page.deals)
                cursor = page.next
            } while cursor != nil
            log.note(DealNote.backfilled(read: outcomes.count, counts: DealJobs.counts(outcomes)))
        }
    }
}

extension CRMConnector {
    /// Declares the CRM's deals import: `deals` and the two job handlers that run it.
    public mutating func importDeals(_ spec: DealSpec, env: ConnectorEnvironment) {
        deals = spec
        let integrations = IntegrationStore(db: env.db), store = DealStore(db: env.db)
        handlers[DealJobs.sync(kind)] = DealJobs.Handler(spec: spec, backfill: false, integrations: integrations, deals: store)
        handlers[DealJobs.backfill(kind)] = DealJobs.Handler(spec: spec, backfill: true, integrations: integrations, deals: store)
    }
}
