import Foundation
import Testing
@testable import SwitchboardCRM
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardSandbox
import SwitchboardSimulator
import SwitchboardStorage

/// A finished call's job that dies after MoySklad answered a write and before Switchboard kept the answer makes nothing
/// twice when it runs again: the retry finds the record by phone or by the call's marker first.
@Suite("MoySklad: exactly one of each record after a crash mid-job")
struct MoySkladIdempotencyTests {
    struct Aborted: Error {}

    enum Step: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case counterparty, order, task
        var testDescription: String { rawValue }

        /// The read that finds the step's record again.
        var lookup: String {
            switch self {
            case .counterparty: return "GET /api/remap/1.2/entity/counterparty?search="
            case .order: return "GET /api/remap/1.2/entity/customerorder?filter=agent="
            case .task: return "GET /api/remap/1.2/entity/task?search="
            }
        }

        func count(_ st: MoySkladSandboxSnapshot) -> Int {
            switch self {
            case .counterparty: return st.counterparties.filter { ($0.phone ?? "").hasSuffix("9037001122") }.count
            case .order: return st.orders.count
            case .task: return st.tasks.count
            }
        }
    }

    @Test("abort after MoySklad answered, run again: one of each", arguments: Backend.available, Step.allCases)
    func abortAndRerun(_ backend: Backend, _ step: Step) async throws {
        let settings = MSWorld.settings { $0.incomingMissed = .init(createCounterparty: true, createOrder: true, createTask: true) }
        try await MSWorld.with(backend, settings: settings, workers: false) { w in
            let scenario = ITooLabsScenarios.missed(client: "79037001122", line: MSWorld.line, employee: "anna")
            try await w.player.play(scenario.steps)
            let call = try #require(try await w.sb.calls.find(connectionId: w.fx.connection.id, externalId: scenario.callId))
            let job = try #require(try await w.sb.queue.list(tenantId: w.fx.tenant.id, callId: call.id)
                .first { $0.kind == CallJobKind.finished(.moysklad) })
            let connector = try #require(w.sb.connectors[.moysklad]?.context as? MSConnector)

            var crashing = connector
            let target = step.rawValue
            crashing.afterWrite = { kind in if kind == target { throw Aborted() } }
            await #expect(throws: Aborted.self) {
                try await MSFinishedHandler(jobs: MSCallJobs(connector: crashing)).run(job, log: AttemptLog())
            }
            #expect(step.count(w.state) == 1, "MoySklad made the \(step) before the crash")

            // The retry: no crash this time; it looks before it writes again.
            let log = AttemptLog()
            try await MSFinishedHandler(jobs: MSCallJobs(connector: connector)).run(job, log: log)
            let st = w.state
            #expect(st.counterparties.filter { ($0.phone ?? "").hasSuffix("9037001122") }.count == 1)
            #expect(st.orders.count == 1 && st.tasks.count == 1 && st.calls.count == 1)
            #expect(st.calls.first?.endTime != nil && st.calls.first?.counterpartyId == st.orders.first?.agentId)
            #expect(log.exchanges.contains { $0.request.hasPrefix(step.lookup) })
            // A third run finds everything kept and writes nothing more.
            let posts = st.requests.filter { $0.key.hasPrefix("POST") || $0.key.hasPrefix("PUT") }.values.reduce(0, +)
            try await MSFinishedHandler(jobs: MSCallJobs(connector: connector)).run(job, log: AttemptLog())
            #expect(w.state.requests.filter { $0.key.hasPrefix("POST") || $0.key.hasPrefix("PUT") }.values.reduce(0, +) == posts)
        }
    }
}
