import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardStorage

/// `/api/v1/jobs`: delivery jobs (dead letters and replay), through `JournalService`.
struct JobsController {
    let journal: JournalService

    func register(_ api: RouterGroup<AppRequestContext>) {
        api.get("jobs") { req, ctx in
            let t = try ctx.tenant()
            var state: JobState?
            if let s = try req.query("state") {
                guard let parsed = JobState(rawValue: s) else {
                    throw APIError(.badRequest, "state is one of queued, running, done, dead", field: "state")
                }
                state = parsed
            }
            return jsonResponse(try await journal.jobs(tenantId: t, state: state, callId: try req.query("callId"), limit: try req.limit()))
        }
        api.get("jobs/:id") { _, ctx in
            let t = try ctx.tenant()
            guard let id = Int64(try ctx.param("id")), let found = try await journal.job(tenantId: t, id: id) else {
                throw APIError(.notFound, "job not found")
            }
            struct Detail: Encodable { var job: Job; var attempts: [JobAttempt] }
            return jsonResponse(Detail(job: found.job, attempts: found.attempts))
        }
        api.post("jobs/:id/replay") { _, ctx in
            let t = try ctx.tenant()
            guard let id = Int64(try ctx.param("id")), let job = try await journal.replay(tenantId: t, id: id) else {
                throw APIError(.notFound, "job not found")
            }
            return jsonResponse(job)
        }
    }
}
