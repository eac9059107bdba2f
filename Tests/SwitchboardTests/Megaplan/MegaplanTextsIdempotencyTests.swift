import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
@testable import SwitchboardCRM
import SwitchboardDelivery
import SwitchboardSandbox
import SwitchboardStorage

/// A Megaplan text job that dies after Megaplan answered a write and before Switchboard kept the answer makes nothing
/// twice when it runs again (the client found by phone, the todo and the process by their marker, comments by text).
@Suite("Megaplan texts: exactly one of each record after a crash mid-job")
struct MegaplanTextsIdempotencyTests {
    enum Step: String, CaseIterable, Sendable {
        case client, note, todo, process, transcript
        case transcriptOnProcess = "transcript.process"
    }

    static let texts = """
        {"requests":{"enabled":true,"defaultResponsible":"\(MegaplanWorld.VERA)","createTask":true,"createDeal":true,"process":{"programId":"8"}},
         "chats":{"enabled":true,"defaultResponsible":"\(MegaplanWorld.ANNA)","createDeal":true,"process":{"programId":"9"}}}
        """

    @Test("abort after Megaplan answered, run again: one of each", arguments: Backend.available, Step.allCases)
    func abortAndRerun(_ backend: Backend, _ step: Step) async throws {
        try await MegaplanWorld.with(backend, workers: false) { w in
            _ = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: Self.texts)
            let integration = try #require(try await w.sb.integrations.get(tenantId: w.fx.tenant.id, id: w.integration.id))
            let site = try #require(try await TextStore(db: w.sb.db).sites(tenantId: w.fx.tenant.id).first)
            let chat = step == .transcript || step == .transcriptOnProcess
            let draft = TextsIdempotencyTests.draft(site, kind: chat ? .chat : .request, phone: "+79037001122")
            let job = try await TextsIdempotencyTests.job(w.sb, draft, event: chat ? .chatFinished : .requestReceived, integration: integration)
            let live = try #require(w.sb.connectors[.megaplan]?.context as? MegaplanConnector)
            let before = w.state
            try await TextsIdempotencyTests.abortAndRerun(MegaplanTexts.spec(live), crm: .megaplan, env: w.sb.connectorEnvironment, job: job,
                                                          at: step.rawValue)
            let st = w.state
            #expect(w.clients("79037001122").count == 1)
            #expect(st.list("Deal").count == before.list("Deal").count + 1)
            let comments = st.list("Comment").compactMap { c in c["content"]?.string }
            if chat {
                #expect(comments.filter { $0.hasPrefix("Переписка") }.count == 2)  // on the client and on the process
            } else {
                #expect(comments.filter { $0.contains("Перезвоните") }.count == 1)
                #expect(st.list("Todo").count == before.list("Todo").count + 1)
            }
        }
    }
}
