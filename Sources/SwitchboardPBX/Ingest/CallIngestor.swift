import Foundation
import Logging
import SwitchboardCore
import SwitchboardStorage

/// The payload of every call job: which call, for which integration, and for ringing, which employee.
public struct CallJobPayload: Codable, Sendable, Equatable {
    public var callId: String
    public var integrationId: String
    public var employeeLogin: String?

    public init(callId: String, integrationId: String, employeeLogin: String? = nil) {
        self.callId = callId
        self.integrationId = integrationId
        self.employeeLogin = employeeLogin
    }
}

/// Job kinds for calls: `<crm>.call.ringing` (show the card) and `<crm>.call.finished` (log the call, run the rules).
public enum CallJobKind {
    public static func ringing(_ crm: CRMKind) -> String { "\(crm.rawValue).call.ringing" }
    /// An employee picked up (for CRMs whose cards follow the answer); made only for CRMs that handle it.
    public static func answered(_ crm: CRMKind) -> String { "\(crm.rawValue).call.answered" }
    public static func finished(_ crm: CRMKind) -> String { "\(crm.rawValue).call.finished" }

    /// Integrations of one CRM account share a partition: its actions run in order, under its rate limit.
    public static func partition(_ integration: Integration) -> String {
        partition(credentialId: integration.credentialId, integrationId: integration.id)
    }

    public static func partition(credentialId: String?, integrationId: String) -> String {
        "crm:\(credentialId ?? integrationId)"
    }
}

/// Stores PBX events durably, with the jobs they cause, before the PBX gets its answer.
public final class CallIngestor: @unchecked Sendable {
    let calls: CallStore
    let queue: JobQueue
    let committer: GroupCommitter
    let logger: Logger
    /// The job kinds some handler can run; no job is made for a kind nobody handles.
    public var handledKinds: Set<String> {
        get { lock.withLock { _handledKinds } }
        set { lock.withLock { _handledKinds = newValue } }
    }
    private var _handledKinds: Set<String>
    private let lock = NSLock()

    /// `maxPending` requests may wait for storage, each at most `maxWait`; beyond that they are refused (`StorageBusy`).
    public init(db: any Database, queue: JobQueue, handledKinds: Set<String>, logger: Logger,
                maxPending: Int = .max, maxWait: Duration? = nil) {
        self.calls = CallStore(db: db)
        self.queue = queue
        self.committer = GroupCommitter(db: db, maxPending: maxPending, maxWait: maxWait)
        self._handledKinds = handledKinds
        self.logger = logger
    }

    /// How long a finished call waits for the PBX's final record before its CRM actions run anyway.
    /// The protocol's adapter says; a protocol no adapter serves waits for nothing.
    public static func finalGrace(for proto: PBXProtocol) -> TimeInterval {
        PBXRegistry.live.adapter(for: proto)?.finalGrace ?? 0
    }

    /// Ingests one request's events with the jobs they cause: all of them commit, in one batch with other requests'
    /// events, or none (the error is thrown; `StorageBusy` when refused for overload before anything ran).
    /// Events of one call go through one shard of the group commit, so concurrent batches never wait on each other's rows.
    public func ingest(_ events: [CallEvent], raw: String, connection: PBXConnection, region: String) async throws -> [IngestOutcome] {
        guard let first = events.first else { return [] }
        return try await committer.run(key: connection.id + "\u{1F}" + first.externalCallId) { [self] tx in
            var outcomes: [IngestOutcome] = []
            outcomes.reserveCapacity(events.count)
            for event in events {
                let outcome = try await calls.ingest(event, raw: raw, tenantId: connection.tenantId, connectionId: connection.id,
                                                     region: region, in: tx)
                if !outcome.transitions.isEmpty {
                    try await enqueueJobs(for: outcome, event: event, connection: connection, in: tx)
                }
                outcomes.append(outcome)
            }
            return outcomes
        }
    }

    func enqueueJobs(for outcome: IngestOutcome, event: CallEvent, connection: PBXConnection, in tx: any SQLExecutor) async throws {
        let targets = try await IntegrationStore.activeForIngest(pbxConnectionId: connection.id, in: tx)
        let call = outcome.call
        for target in targets {
            let id = target.id, crm = target.crm
            let partition = CallJobKind.partition(credentialId: target.credentialId, integrationId: id)
            for transition in outcome.transitions {
                var spec: JobSpec
                var advance = false
                switch transition {
                case .employeeRinging:
                    let kind = CallJobKind.ringing(crm)
                    guard handledKinds.contains(kind), !call.isOver, let who = event.employeeLogin ?? event.extension_ else { continue }
                    spec = JobSpec(tenantId: call.tenantId, partitionKey: partition, kind: kind,
                                   payload: JSON.string(CallJobPayload(callId: call.id, integrationId: id, employeeLogin: who)),
                                   callId: call.id, dedupeKey: "\(call.id):\(id):ringing:\(who)", maxAttempts: 10)
                case .ended, .finalized:
                    let kind = CallJobKind.finished(crm)
                    guard handledKinds.contains(kind) else { continue }
                    let grace = transition == .finalized ? 0 : Self.finalGrace(for: connection.protocol)
                    spec = JobSpec(tenantId: call.tenantId, partitionKey: partition, kind: kind,
                                   payload: JSON.string(CallJobPayload(callId: call.id, integrationId: id)),
                                   callId: call.id, dedupeKey: "\(call.id):\(id):finished",
                                   runAt: Date().addingTimeInterval(grace))
                    advance = true
                case .employeeAnswered:
                    let kind = CallJobKind.answered(crm)
                    guard handledKinds.contains(kind), !call.isOver, let who = event.employeeLogin ?? event.extension_ else { continue }
                    spec = JobSpec(tenantId: call.tenantId, partitionKey: partition, kind: kind,
                                   payload: JSON.string(CallJobPayload(callId: call.id, integrationId: id, employeeLogin: who)),
                                   callId: call.id, dedupeKey: "\(call.id):\(id):answered:\(who)", maxAttempts: 10)
                }
                try await queue.enqueue(spec, in: tx, advance: advance)
            }
        }
    }
}
