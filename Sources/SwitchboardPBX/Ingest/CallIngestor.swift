import Foundation
import Logging
import SwitchboardCore
import SwitchboardStorage

/// The payload of every call job: which call, for which integration, and for ringing, which employee.
public struct CallJobPayload: Codable, Sendable, Equatable, JSONWritable {
    public var callId: String
    public var integrationId: String
    public var employeeLogin: String?

    public func write(to json: inout JSONWriter) {
        json.object { j in
            j.key("callId"); j.string(callId)
            j.member("employeeLogin", employeeLogin)
            j.key("integrationId"); j.string(integrationId)
        }
    }

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
    /// One request's events with what the jobs need to know about its connection.
    struct Unit: Sendable {
        let request: IngestRequest
        let proto: PBXProtocol
    }

    let calls: CallStore
    let queue: JobQueue
    let committer: BatchCommitter<Unit, [IngestOutcome]>
    let logger: Logger
    /// The job kinds some handler can run; no job is made for a kind nobody handles.
    public var handledKinds: Set<String> {
        get { lock.withLock { _handledKinds } }
        set { lock.withLock { _handledKinds = newValue } }
    }
    private var _handledKinds: Set<String>
    private let lock = NSLock()

    /// `maxPending` requests may wait for storage, each at most `maxWait`; beyond that they are refused (`StorageBusy`).
    /// `flushers` batches commit side by side (the committer's default when nil). `batched: false` stores every
    /// request with its own statements (the reference the batched path is tested against).
    public init(db: any Database, queue: JobQueue, handledKinds: Set<String>, logger: Logger,
                maxPending: Int = .max, maxWait: Duration? = nil, flushers: Int? = nil, batched: Bool = true) {
        let calls = CallStore(db: db)
        self.calls = calls
        self.queue = queue
        self._handledKinds = handledKinds
        self.logger = logger
        let box = WeakBox<CallIngestor>()
        let batch: BatchCommitter<Unit, [IngestOutcome]>.Batch = { units, tx in try await box.value!.storeBatch(units, in: tx) }
        self.committer = BatchCommitter(db: db, maxFlushers: flushers, maxPending: maxPending, maxWait: maxWait,
                                        batch: batched ? batch : nil) { unit, tx in
            try await box.value!.storeOne(unit, in: tx)
        }
        box.value = self
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
        let request = IngestRequest(events: events, raw: raw, tenantId: connection.tenantId, connectionId: connection.id, region: region)
        return try await committer.submit(Unit(request: request, proto: connection.protocol),
                                          key: connection.id + "\u{1F}" + first.externalCallId)
    }

    /// One request, statement by statement (and the path a batch falls back to).
    func storeOne(_ unit: Unit, in tx: any SQLExecutor) async throws -> [IngestOutcome] {
        let request = unit.request
        var outcomes: [IngestOutcome] = []
        outcomes.reserveCapacity(request.events.count)
        var targets: [IntegrationStore.IngestTarget]?
        for event in request.events {
            let outcome = try await calls.ingest(event, raw: request.raw, tenantId: request.tenantId,
                                                 connectionId: request.connectionId, region: request.region, in: tx)
            if !outcome.transitions.isEmpty {
                if targets == nil { targets = try await IntegrationStore.activeForIngest(pbxConnectionId: request.connectionId, in: tx) }
                for (spec, advance) in jobs(for: outcome, event: event, proto: unit.proto, targets: targets ?? []) {
                    try await queue.enqueue(spec, in: tx, advance: advance)
                }
            }
            outcomes.append(outcome)
        }
        return outcomes
    }

    /// A whole batch in a few multi-row statements: the calls and events (`CallStore.ingestBatch`), the integrations
    /// of every connection in the batch in one query, and every job in one insert.
    func storeBatch(_ units: [Unit], in tx: any SQLExecutor) async throws -> [[IngestOutcome]] {
        let outcomes = try await calls.ingestBatch(units.map(\.request), in: tx)
        var connections: [String] = []
        for (unit, out) in zip(units, outcomes) where out.contains(where: { !$0.transitions.isEmpty }) {
            if !connections.contains(unit.request.connectionId) { connections.append(unit.request.connectionId) }
        }
        guard !connections.isEmpty else { return outcomes }
        let targets = try await IntegrationStore.activeForIngest(pbxConnectionIds: connections, in: tx)
        var jobs: [(spec: JobSpec, advance: Bool)] = []
        for (unit, out) in zip(units, outcomes) {
            for (event, outcome) in zip(unit.request.events, out) where !outcome.transitions.isEmpty {
                jobs += self.jobs(for: outcome, event: event, proto: unit.proto, targets: targets[unit.request.connectionId] ?? [])
            }
        }
        if !jobs.isEmpty { try await queue.enqueue(many: jobs, in: tx) }
        return outcomes
    }

    /// The jobs one stored event causes for each active integration of its connection.
    func jobs(for outcome: IngestOutcome, event: CallEvent, proto: PBXProtocol, targets: [IntegrationStore.IngestTarget]) -> [(spec: JobSpec, advance: Bool)] {
        let call = outcome.call
        let handled = handledKinds
        var out: [(spec: JobSpec, advance: Bool)] = []
        for target in targets {
            let id = target.id, crm = target.crm
            let partition = CallJobKind.partition(credentialId: target.credentialId, integrationId: id)
            for transition in outcome.transitions {
                switch transition {
                case .employeeRinging:
                    let kind = CallJobKind.ringing(crm)
                    guard handled.contains(kind), !call.isOver, let who = event.employeeLogin ?? event.extension_ else { continue }
                    out.append((JobSpec(tenantId: call.tenantId, partitionKey: partition, kind: kind,
                                        payload: JSON.written(CallJobPayload(callId: call.id, integrationId: id, employeeLogin: who)),
                                        callId: call.id, dedupeKey: "\(call.id):\(id):ringing:\(who)", maxAttempts: 10), false))
                case .ended, .finalized:
                    let kind = CallJobKind.finished(crm)
                    guard handled.contains(kind) else { continue }
                    let grace = transition == .finalized ? 0 : Self.finalGrace(for: proto)
                    out.append((JobSpec(tenantId: call.tenantId, partitionKey: partition, kind: kind,
                                        payload: JSON.written(CallJobPayload(callId: call.id, integrationId: id)),
                                        callId: call.id, dedupeKey: "\(call.id):\(id):finished",
                                        runAt: Date().addingTimeInterval(grace)), true))
                case .employeeAnswered:
                    let kind = CallJobKind.answered(crm)
                    guard handled.contains(kind), !call.isOver, let who = event.employeeLogin ?? event.extension_ else { continue }
                    out.append((JobSpec(tenantId: call.tenantId, partitionKey: partition, kind: kind,
                                        payload: JSON.written(CallJobPayload(callId: call.id, integrationId: id, employeeLogin: who)),
                                        callId: call.id, dedupeKey: "\(call.id):\(id):answered:\(who)", maxAttempts: 10), false))
                }
            }
        }
        return out
    }
}

/// A reference the committer's closures hold to the ingestor that owns the committer.
private final class WeakBox<T: AnyObject>: @unchecked Sendable {
    weak var value: T?
}
