import Foundation
import SwitchboardCore
import SwitchboardStorage

/// What was done for a tenant's calls and texts, for the management API and the cabinet alike (issue 10's application
/// layer): delivery jobs with their attempts, and the replay of a dead one.
struct JournalService: Sendable {
    let queue: JobQueue

    init(sb: Switchboard) { queue = sb.queue }

    func jobs(tenantId: String, state: JobState? = nil, callId: String? = nil, limit: Int = 100) async throws -> [Job] {
        try await queue.list(tenantId: tenantId, state: state, callId: callId, limit: limit)
    }

    /// A job with every attempt at it; nil when the tenant has no such job.
    func job(tenantId: String, id: Int64) async throws -> (job: Job, attempts: [JobAttempt])? {
        guard let job = try await queue.get(tenantId: tenantId, id: id) else { return nil }
        return (job, try await queue.attempts(tenantId: tenantId, jobId: id))
    }

    /// Queues a dead job again; nil when the tenant has no such job, `conflict` when it is not dead.
    func replay(tenantId: String, id: Int64) async throws -> Job? {
        guard try await queue.get(tenantId: tenantId, id: id) != nil else { return nil }
        guard try await queue.replay(tenantId: tenantId, id: id) else { throw ServiceError.conflict("only dead jobs can be replayed") }
        return try await queue.get(tenantId: tenantId, id: id)
    }
}
