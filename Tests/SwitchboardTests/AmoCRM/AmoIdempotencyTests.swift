import Foundation
import Testing
@testable import SwitchboardCRM
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardSandbox
import SwitchboardSimulator
import SwitchboardStorage

/// Issue 8, item 2: a job that dies after amoCRM answered a write and before Switchboard kept the answer makes
/// nothing twice when it runs again. Each case aborts the call's job at one write (the connector's fault seam),
/// runs the job again, and counts the records in the sandbox.
@Suite("amoCRM: exactly one of each record after a crash mid-job")
struct AmoIdempotencyTests {
    struct Aborted: Error {}

    enum Step: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case contact, dealWithContact, dealForClient, unsorted, unsortedFallback, callLog, task
        var testDescription: String { rawValue }

        /// The write's kind in the ledger, where the job is aborted.
        var kind: String {
            switch self {
            case .contact: return "contact"
            case .dealWithContact, .dealForClient: return "lead"
            case .unsorted, .unsortedFallback: return "unsorted"
            case .callLog: return "call"
            case .task: return "task"
            }
        }

        var settings: AmoSettings {
            AmoWorld.settings { s in
                switch self {
                case .contact: s.incoming.answeredUnknown = AmoRule(enabled: true, action: .contactOnly)
                case .unsortedFallback:
                    // Nothing to make for an answered unknown caller: the call is logged, and lands in Unsorted.
                    s.incoming.answeredUnknown.enabled = false
                default: break
                }
            }
        }

        var scenario: SimScenario {
            switch self {
            case .contact, .dealWithContact, .callLog, .task, .unsortedFallback:
                return ITooLabsScenarios.answered(client: "79037001122", employee: "anna")
            case .dealForClient: return ITooLabsScenarios.answered(client: AmoWorld.olga, employee: "anna")
            case .unsorted: return ITooLabsScenarios.missed(client: "79037001122", employee: "anna")
            }
        }
    }

    @Test("abort after amoCRM answered, run again: one of each", arguments: Backend.available, Step.allCases)
    func abortAndRerun(_ backend: Backend, _ step: Step) async throws {
        try await AmoWorld.with(backend, settings: step.settings, workers: false) { w in
            let scenario = step.scenario
            try await w.play(scenario)
            let call = try #require(try await w.sb.calls.find(connectionId: w.fx.connection.id, externalId: scenario.callId))
            let job = try #require(try await w.sb.queue.list(tenantId: w.fx.tenant.id, callId: call.id)
                .first { $0.kind == CallJobKind.finished(.amocrm) })

            var crashing = w.sb.amo
            let target = step.kind
            crashing.afterWrite = { kind in if kind == target { throw Aborted() } }
            await #expect(throws: Aborted.self) {
                try await AmoCallFinishedHandler(connector: crashing).run(job, log: AttemptLog())
            }
            let before = w.sandbox.snapshot()
            #expect(Self.count(step, before) == 1, "amoCRM made the \(step.kind) before the crash")

            // The retry: no crash this time.
            let log = AttemptLog()
            try await AmoCallFinishedHandler(connector: w.sb.amo).run(job, log: log)
            let st = w.sandbox.snapshot()
            #expect(Self.count(step, st) == 1)
            let number = step == .dealForClient ? "+7 (916) 555-12-34" : "+79037001122"
            #expect(st.contacts.filter { $0.phones.contains(number) }.count == 1)
            #expect(st.calls.filter { $0.uniq == call.id }.count == 1)
            switch step {
            case .contact:
                #expect(st.leads.isEmpty && st.tasks.count == 1)
            case .dealWithContact, .callLog, .task:
                #expect(st.leads.count == 1 && st.tasks.count == 1)
                #expect(st.tasks.first?.entity_id == st.leads.first?.id)
            case .dealForClient:
                #expect(st.leads.filter { $0.contact_ids == [5_001] }.count == 1 && st.tasks.count == 1)
            case .unsorted:
                #expect(st.unsorted.count == 1 && st.leads.count == 1 && st.tasks.isEmpty)
            case .unsortedFallback:
                #expect(st.unsorted.count == 1 && st.leads.count == 1)
                #expect(st.tasks.count == 1 && st.tasks.first?.entity_id == st.leads.first?.id)
            }
            // The retry looked before it wrote again, and wrote nothing twice.
            #expect(log.exchanges.contains { $0.request.hasPrefix("GET ") && $0.request.contains(Self.lookup(step)) })
            // A third run finds everything kept and asks amoCRM nothing more than it must.
            try await AmoCallFinishedHandler(connector: w.sb.amo).run(job, log: AttemptLog())
            #expect(Self.count(step, w.sandbox.snapshot()) == 1)
            #expect(w.sandbox.snapshot().requests.filter { $0.key.hasPrefix("POST") }.values.reduce(0, +)
                == st.requests.filter { $0.key.hasPrefix("POST") }.values.reduce(0, +))
        }
    }

    /// How many of the step's records amoCRM holds.
    static func count(_ step: Step, _ st: AmoSandboxSnapshot) -> Int {
        switch step {
        case .contact: return st.contacts.filter { $0.phones.contains("+79037001122") }.count
        case .dealWithContact: return st.leads.count
        case .dealForClient: return st.leads.filter { $0.contact_ids == [5_001] }.count
        case .unsorted, .unsortedFallback: return st.unsorted.count
        case .callLog: return st.calls.count
        case .task: return st.tasks.count
        }
    }

    /// The read that finds the step's record again.
    static func lookup(_ step: Step) -> String {
        switch step {
        case .contact: return "/api/v4/contacts?"
        case .dealWithContact, .dealForClient: return "/api/v4/leads?"
        case .unsorted, .unsortedFallback: return "/api/v4/leads/unsorted"
        case .callLog: return "/notes"
        case .task: return "/api/v4/tasks"
        }
    }

    @Test("an outgoing call nobody answered is logged as made by the employee who dialled (item 10)",
          arguments: Backend.available)
    func outgoingUnansweredByDialler(_ backend: Backend) async throws {
        let settings = AmoWorld.settings {
            $0.outgoing.missedUnknown = AmoRule(enabled: true, action: .contactAndDeal, pipelineId: AmoWorld.P, statusId: AmoWorld.STAGE)
        }
        try await AmoWorld.with(backend, settings: settings) { w in
            try await w.play(ITooLabsScenarios.outgoingUnanswered(client: "79037002233", employee: "anna"))
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let st = w.sandbox.snapshot()
            let contact = try #require(st.contacts.first { $0.phones.contains("+79037002233") })
            #expect(contact.responsible_user_id == AmoWorld.ANNA)  // not the default user, Vera
            #expect(st.leads.first { $0.contact_ids == [contact.id] }?.responsible_user_id == AmoWorld.ANNA)
            #expect(st.calls.count == 1 && st.calls.first?.call_responsible == AmoWorld.ANNA)
            #expect(st.calls.first?.direction == "outbound")
        }
    }
}
