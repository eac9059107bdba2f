import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardDelivery
@testable import SwitchboardCRM
import SwitchboardPBX
import SwitchboardSandbox
import SwitchboardSimulator
import SwitchboardStorage

/// A crash in the worst moment: Megaplan made the thing, Switchboard died before keeping its id. The job runs again and
/// must find what Megaplan made instead of making it twice (`WriteLedger`'s look before writing again).
@Suite("Megaplan: a write made once across a crash")
struct MegaplanIdempotencyTests {
    struct Aborted: Error {}

    enum Step: String, CaseIterable, CustomTestStringConvertible {
        case card, client, communication, todo, process
        var testDescription: String { rawValue }
    }

    static let settings = MegaplanWorld.settings {
        $0.communication.enabled = true
        $0.todo.enabled = true
        $0.todo.kinds = MegaplanSettings.CallKind.all
        $0.process.enabled = true
        $0.process.kinds = MegaplanSettings.CallKind.all
        $0.process.programId = "8"
    }

    /// How many of the step's records Megaplan holds for the call.
    static func count(_ step: Step, _ w: MegaplanWorld, _ s: SimScenario) async throws -> Int {
        let cards = try await w.cards(s)
        let todos = w.todos(card: cards.first)
        switch step {
        case .card: return cards.count
        case .client: return w.clients("79037001122").count
        case .communication: return todos.filter { $0["category"]?["masterType"] == "call" }.count
        case .todo: return todos.filter { $0["category"]?["masterType"] == "todo" }.count
        case .process: return w.state.list("Deal").count
        }
    }

    @Test("abort after Megaplan answered, run again: one of each", arguments: Backend.available, Step.allCases)
    func abortAndRerun(_ backend: Backend, _ step: Step) async throws {
        try await MegaplanWorld.with(backend, settings: Self.settings, workers: false) { w in
            let s = ITooLabsScenarios.answered(client: "79037001122", line: MegaplanWorld.line, employee: "anna", talk: 12)
            try await w.player.play(s.steps)
            let call = try #require(try await w.sb.calls.find(connectionId: w.fx.connection.id, externalId: s.callId))
            let jobs = try await w.sb.queue.list(tenantId: w.fx.tenant.id, callId: call.id)
            let finished = try #require(jobs.first { $0.kind == CallJobKind.finished(.megaplan) })
            let live = try #require(w.sb.connectors[.megaplan]?.context as? MegaplanConnector)
            var crashing = live
            let target = step == .card ? "callInfo.\(MegaplanWorld.ANNA)" : step.rawValue
            crashing.afterWrite = { kind in if kind == target { throw Aborted() } }

            // The card is shown while the call rings (the call is over in the store, so the job is run as if earlier).
            func ring(_ c: MegaplanConnector) async throws {
                let jobs = MegaplanCallJobs(connector: c)
                var ledger = try await WriteLedger.open(store: c.entities, owner: w.integration.id, scope: call.id, afterWrite: c.afterWrite)
                let ctx = try #require(try await IntegrationContext<MegaplanSettings>.load(
                    tenantId: w.fx.tenant.id, integrationId: w.integration.id, crm: Megaplan.title, db: c.env.db, vault: c.env.vault,
                    log: AttemptLog()))
                try await jobs.ring(call, client: try #require(call.client), user: MegaplanWorld.ANNA, ctx: ctx,
                                    api: c.client(tenantId: w.fx.tenant.id, credential: w.credential, log: nil), ledger: &ledger)
            }
            if step == .card {
                await #expect(throws: Aborted.self) { try await ring(crashing) }
                #expect(try await Self.count(step, w, s) == 1, "Megaplan made the card before the crash")
                try await ring(live)
            } else {
                try await ring(live)
                await #expect(throws: Aborted.self) {
                    try await MegaplanFinishedHandler(jobs: MegaplanCallJobs(connector: crashing)).run(finished, log: AttemptLog())
                }
                #expect(try await Self.count(step, w, s) == 1, "Megaplan made the \(step) before the crash")
            }
            // The retry: no crash this time; it looks before it writes.
            let log = AttemptLog()
            try await MegaplanFinishedHandler(jobs: MegaplanCallJobs(connector: live)).run(finished, log: log)
            for each in Step.allCases {
                #expect(try await Self.count(each, w, s) == 1, "\(each) after a crash at \(step)")
            }
            if step != .card {
                #expect(log.exchanges.contains { $0.request.hasPrefix("GET ") })
            }
            let posts = w.state.requests.filter { $0.key.hasPrefix("POST /api/v3/") && $0.key != "POST /api/v3/auth/access_token" }
            // A third run finds everything kept and writes nothing.
            try await MegaplanFinishedHandler(jobs: MegaplanCallJobs(connector: live)).run(finished, log: AttemptLog())
            #expect(w.state.requests.filter { $0.key.hasPrefix("POST /api/v3/") && $0.key != "POST /api/v3/auth/access_token" } == posts)
        }
    }
}
