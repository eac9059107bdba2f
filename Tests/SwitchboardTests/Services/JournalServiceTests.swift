import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

@Suite("JournalService: delivery jobs and their replay, the same through the API and the cabinet")
struct JournalServiceTests {
    /// A job of the tenant's that failed for good.
    static func deadJob(_ sb: Switchboard, _ tenant: TestTenant) async throws -> Int64 {
        let id = try #require(try await sb.queue.enqueue(JobSpec(tenantId: tenant.id, partitionKey: "test:\(UUID().uuidString)",
                                                               kind: "test.nothing", payload: "{}")))
        let job = try #require(try await sb.queue.claim(worker: "w", limit: 10, lease: .seconds(30)).first { $0.id == id })
        _ = try await sb.queue.finish(job, worker: "w", startedAt: Date(), result: .dead(reason: "refused"), exchanges: [])
        #expect(try await sb.queue.get(tenantId: tenant.id, id: id)?.state == .dead)
        return id
    }

    @Test("a dead job replayed through the API or the cabinet is queued again; one that is not dead is refused by the API (409) and left as it is by the cabinet", arguments: Backend.available)
    func replay(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let tenant = try await TestTenant.make(sb)
            let other = try await TestTenant.make(sb, name: "Other")
            try await withBothWays(sb, tenant) { both in
                let viaAPI = try await Self.deadJob(sb, tenant)
                let res = try await both.api(.post, "jobs/\(viaAPI)/replay")
                #expect(res.status == .ok && res.body.j["state"]?.stringValue == "queued")
                let again = try await both.api(.post, "jobs/\(viaAPI)/replay")
                #expect(again.status == .conflict && again.body.j["error"]?["message"]?.stringValue == "only dead jobs can be replayed")

                let viaCabinet = try await Self.deadJob(sb, tenant)
                #expect(try await both.form("/cabinet/jobs/\(viaCabinet)/retry", [:]).status == .seeOther)
                #expect(try await sb.queue.get(tenantId: tenant.id, id: viaCabinet)?.state == .queued)
                #expect(try await both.form("/cabinet/jobs/\(viaCabinet)/retry", [:]).status == .seeOther)
                #expect(try await sb.queue.get(tenantId: tenant.id, id: viaCabinet)?.state == .queued)

                // Another tenant's job is not found either way.
                let theirs = try await Self.deadJob(sb, other)
                #expect(try await both.api(.post, "jobs/\(theirs)/replay").status == .notFound)
                #expect(try await both.form("/cabinet/jobs/\(theirs)/retry", [:]).status == .notFound)
                #expect(try await sb.queue.get(tenantId: other.id, id: theirs)?.state == .dead)
                let journal = JournalService(sb: sb)
                #expect(try await journal.job(tenantId: tenant.id, id: theirs) == nil)
                #expect(try await journal.job(tenantId: other.id, id: theirs)?.attempts.count == 1)
            }
        }
    }
}
