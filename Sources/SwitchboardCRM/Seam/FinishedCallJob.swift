import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// A finished call's job as every CRM starts it, written once (decision 0006 §2, the runner's first half): the
/// integration's context (`IntegrationContext`), the stored call, the CRM's reasons to skip it, the settings checked,
/// the call's `WriteLedger` opened and the neutral `CallFacts` made. The CRM then asks what it knows of the caller
/// (`knowledge`, frozen per call), plans (pure), lists the plan in the journal (`journal`) and executes it.
public struct FinishedCallJob<Settings: CRMSettings> {
    public let context: IntegrationContext<Settings>
    public let call: Call
    public let facts: CallFacts
    /// Every write of this call in this integration, at most once across retries.
    public var ledger: WriteLedger

    public var settings: Settings { context.settings }

    /// nil when there is nothing to do (the integration is gone or off, or `skip` gave a reason, noted in the journal).
    /// - `skip`: why this CRM does not take the call (hidden number, internal call, not on its virtual numbers).
    public static func load(_ job: Job, crm title: Phrase, db: any Database, vault: CredentialVault, log: AttemptLog,
                            afterWrite: (@Sendable (String) throws -> Void)? = nil,
                            skip: (Call, Settings) -> Phrase?) async throws -> FinishedCallJob? {
        let payload = try JSON.decode(CallJobPayload.self, from: job.payload)
        guard let ctx = try await IntegrationContext<Settings>.load(tenantId: job.tenantId, integrationId: payload.integrationId,
                                                                     crm: title, db: db, vault: vault, log: log) else { return nil }
        guard let call = try await CallStore(db: db).get(tenantId: job.tenantId, id: payload.callId) else {
            throw DeliveryError.permanent(ContextProblem.callNotFound(id: payload.callId).phrase)
        }
        if let why = skip(call, ctx.settings) {
            log.note(why)
            return nil
        }
        let problems = ctx.settings.validate()
        if !problems.isEmpty {
            throw DeliveryError.permanent(ContextProblem.settingsIncomplete(crm: title, problems: problems).phrase)
        }
        let ledger = try await WriteLedger.open(store: CRMEntityStore(db: db), owner: ctx.integration.id, scope: call.id,
                                                afterWrite: afterWrite)
        return FinishedCallJob(context: ctx, call: call, facts: CallFacts.make(call, userByLogin: ctx.userByLogin), ledger: ledger)
    }

    /// The skips most CRMs make: a hidden number (nothing to find the caller by), then an internal call.
    public static func hiddenOrInternal(crm title: Phrase) -> (Call, Settings) -> Phrase? {
        { call, settings in
            guard let client = call.client, client.last10 != nil else { return CallSkip.numberHidden.phrase }
            if call.direction == .inbound || call.direction == .outbound || (call.direction == .internal && settings.common.internalCalls) {
                return nil
            }
            return CallSkip.internalCall(crm: title).phrase
        }
    }

    /// What the CRM knew of the caller when the call was first handled: found once and kept under `caller`, so a retry
    /// decides the same way.
    public mutating func knowledge<K: Codable>(_ type: K.Type, find: () async throws -> K) async throws -> K {
        if let kept = ledger["caller"], let known = try? JSON.decode(K.self, from: kept) { return known }
        let found = try await find()
        try await ledger.keep(["caller": JSON.string(found)])
        return found
    }

    /// The same for a CRM that keeps "knew nothing" as the word `none`.
    public mutating func knowledge<K: Codable>(_ type: K.Type, none: String, find: () async throws -> K?) async throws -> K? {
        if let kept = ledger["caller"] { return kept == none ? nil : try? JSON.decode(K.self, from: kept) }
        let found = try await find()
        try await ledger.keep(["caller": found.map { JSON.string($0) } ?? none])
        return found
    }

    /// Lists the plan in the journal before it runs: the reasons, then a line per step.
    public func journal<Own>(_ plan: Plan<Own>, log: AttemptLog) {
        for line in plan.journal { log.note(line) }
    }
}
