import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
@testable import SwitchboardCRM
import SwitchboardDelivery
import SwitchboardSandbox
@testable import SwitchboardStorage

/// A text job that dies after the CRM answered a write and before Switchboard kept the answer makes nothing twice when
/// it runs again: each case aborts the job at one write (the runner's `afterWrite` seam), runs it again without the
/// fault, and counts the records in the sandbox.
@Suite("Texts: exactly one of each record after a crash mid-job")
struct TextsIdempotencyTests {
    struct Aborted: Error {}

    /// Stores `draft` without jobs and gives the job its event would make for `integration`.
    static func job(_ sb: Switchboard, _ draft: TextCommunication, event: TextEvent, integration: Integration) async throws -> Job {
        let text = try await TextStore(db: sb.db, queue: sb.queue).receive(draft, event: event, handled: []).text
        let now = Date()
        return Job(id: 1, tenantId: text.tenantId, partitionKey: "crm:test", kind: TextJobKind.kind(integration.crm, event),
                   payload: JSON.string(TextJobPayload(textId: text.id, integrationId: integration.id, event: event)),
                   state: .running, attempts: 1, maxAttempts: 30, runAt: now, callId: text.id, createdAt: now, updatedAt: now)
    }

    static func draft(_ site: Site, kind: TextKind = .request, phone: String) -> TextCommunication {
        var t = TextCommunication(id: Identifier.make(kind == .request ? "req" : "chat"), tenantId: site.tenantId, siteId: site.id,
                                  site: site.name, kind: kind, state: kind == .request ? "received" : "finished", createdAt: Date())
        t.name = "Ирина"
        t.phone = phone
        t.requestType = kind == .request ? "callback" : nil
        t.message = kind == .request ? "Перезвоните" : nil
        t.transcript = kind == .chat ? [ChatMessage(at: Date(), author: .visitor, text: "Здравствуйте"),
                                        ChatMessage(at: Date(), author: .operator_, name: "Анна", text: "Добрый день")] : []
        return t
    }

    /// Runs `job` with the fault at `kind`, then again without it.
    static func abortAndRerun(_ spec: TextSpec, crm: CRMKind, env: ConnectorEnvironment, job: Job, at kind: String) async throws {
        let crashing = spec.handlers(kind: crm, title: .test(crm.rawValue), env: env, afterWrite: { if $0 == kind { throw Aborted() } })
        await #expect(throws: Aborted.self) { try await crashing[job.kind]!.run(job, log: AttemptLog()) }
        try await spec.handlers(kind: crm, title: .test(crm.rawValue), env: env)[job.kind]!.run(job, log: AttemptLog())
    }

    enum AmoStep: String, CaseIterable, Sendable { case lead, leadOfKnownClient, unsorted, note, task, transcript }

    @Test("amoCRM: abort after amoCRM answered, run again: one of each", arguments: Backend.available, AmoStep.allCases)
    func amo(_ backend: Backend, _ step: AmoStep) async throws {
        try await AmoWorld.with(backend, workers: false) { w in
            let texts = #"{"requests":{"enabled":true,"defaultResponsible":\#(AmoWorld.VERA),"createTask":true,"unsorted":\#(step == .unsorted)},"chats":{"enabled":true,"defaultResponsible":\#(AmoWorld.ANNA)}}"#
            _ = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: texts)
            let integration = try #require(try await w.sb.integrations.get(tenantId: w.fx.tenant.id, id: w.integration.id))
            let site = try #require(try await TextStore(db: w.sb.db).sites(tenantId: w.fx.tenant.id).first)
            let phone = step == .leadOfKnownClient ? "+7 916 555-12-34" : "+79037001122"
            let draft = Self.draft(site, kind: step == .transcript ? .chat : .request, phone: phone)
            let job = try await Self.job(w.sb, draft, event: step == .transcript ? .chatFinished : .requestReceived, integration: integration)
            let before = w.sandbox.snapshot()
            try await Self.abortAndRerun(AmoTexts.spec(w.sb.amo), crm: .amocrm, env: w.sb.connectorEnvironment, job: job,
                                         at: step == .leadOfKnownClient ? "lead" : step.rawValue)
            let st = w.sandbox.snapshot()
            let digits = phone.filter(\.isNumber)
            let contacts = st.contacts.filter { $0.phones.contains { $0.filter(\.isNumber) == digits } }
            #expect(contacts.count == 1)
            switch step {
            case .transcript:
                #expect(st.notes.filter { $0.text.hasPrefix("Переписка") }.count == 1)
            default:
                #expect(st.leads.count == before.leads.count + 1)
                #expect(st.unsorted.count == before.unsorted.count + (step == .unsorted ? 1 : 0))
                #expect(st.notes.filter { $0.text.contains("Перезвоните") }.count == 1)
                #expect(st.tasks.count == before.tasks.count + 1)
            }
        }
    }

    enum B24Step: String, CaseIterable, Sendable { case lead, contact, deal, transcript }

    @Test("Bitrix24: abort after Bitrix24 answered, run again: one of each", arguments: Backend.available, B24Step.allCases)
    func bitrix24(_ backend: Backend, _ step: B24Step) async throws {
        try await B24World.with(backend, crmMode: step == .lead ? 1 : 2) { w in
            let texts = #"{"requests":{"enabled":true,"defaultResponsible":"\#(B24World.VERA)"},"chats":{"enabled":true,"defaultResponsible":"\#(B24World.ANNA)"}}"#
            _ = try await textSite(w.sb, tenant: w.fx.tenant.id, integration: w.integration, base: w.base, texts: texts)
            let integration = try #require(try await w.sb.integrations.get(tenantId: w.fx.tenant.id, id: w.integration.id))
            let site = try #require(try await TextStore(db: w.sb.db).sites(tenantId: w.fx.tenant.id).first)
            let draft = Self.draft(site, kind: step == .transcript ? .chat : .request, phone: "+79037001122")
            let job = try await Self.job(w.sb, draft, event: step == .transcript ? .chatFinished : .requestReceived, integration: integration)
            let b24 = try #require(w.sb.connectors[.bitrix24]?.context as? B24Connector)
            let before = w.sandbox.snapshot()
            try await Self.abortAndRerun(B24Texts.spec(b24), crm: .bitrix24, env: w.sb.connectorEnvironment, job: job, at: step.rawValue)
            let st = w.sandbox.snapshot()
            switch step {
            case .lead:
                #expect(w.leads("79037001122").count == 1)
            case .contact, .deal:
                #expect(st.contacts.filter { B24World.phones($0).contains("79037001122") }.count == 1)
                #expect(st.deals.count == before.deals.count + 1)
            case .transcript:
                #expect(st.contacts.filter { B24World.phones($0).contains("79037001122") }.count == 1)
                #expect(st.timeline_comments.count == 1)
            }
        }
    }
}
