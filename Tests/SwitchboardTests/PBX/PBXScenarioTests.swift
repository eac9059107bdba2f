import AsyncHTTPClient
import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardSimulator
import SwitchboardStorage

/// A tenant with one PBX connection, for PBX-side tests.
struct PBXFixture {
    let tenant: TestTenant
    let connection: PBXConnection
    let secret: String

    static func make(_ sb: Switchboard, protocol proto: PBXProtocol = .itoolabs, apiURL: String? = nil, apiKey: String? = nil,
                     deadlineMs: Int = 1500) async throws -> PBXFixture {
        let tenant = try await TestTenant.make(sb)
        let (c, secret) = try await sb.pbx.create(tenantId: tenant.id, name: "PBX", protocol: proto, apiURL: apiURL, apiKey: apiKey,
                                                  routingDeadlineMs: deadlineMs)
        return PBXFixture(tenant: tenant, connection: c, secret: secret)
    }

    func player(_ base: String) -> ScenarioPlayer {
        ScenarioPlayer(baseURL: base, connectionId: connection.id, secret: secret)
    }
}

func expectCall(_ sb: Switchboard, _ fixture: PBXFixture, _ scenario: SimScenario,
                sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let found = try await sb.calls.find(connectionId: fixture.connection.id, externalId: scenario.callId)
    let call = try #require(found, "no call for \(scenario.name)", sourceLocation: sourceLocation)
    let e = scenario.expected
    #expect(call.result == e.result, "\(scenario.name): result", sourceLocation: sourceLocation)
    #expect(call.direction == e.direction, "\(scenario.name): direction", sourceLocation: sourceLocation)
    #expect(call.talkers == e.talkers, "\(scenario.name): talkers", sourceLocation: sourceLocation)
    #expect(call.legs.count == e.legs, "\(scenario.name): legs", sourceLocation: sourceLocation)
    #expect(call.talkSec == e.talkSec, "\(scenario.name): talk seconds", sourceLocation: sourceLocation)
    #expect((call.recordingURL != nil) == e.recording, "\(scenario.name): recording", sourceLocation: sourceLocation)
    #expect(call.isOver, "\(scenario.name): over", sourceLocation: sourceLocation)
    #expect(call.client?.e164 != nil, "\(scenario.name): client number", sourceLocation: sourceLocation)
}

@Suite("PBX scenarios through the real protocols")
struct PBXScenarioTests {
    @Test("every ITooLabs scenario produces the right call", arguments: Backend.available)
    func itoolabsScenarios(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let fx = try await PBXFixture.make(sb)
            try await withLiveSwitchboard(sb, workers: false) { base in
                let player = fx.player(base)
                let scenarios = [ITooLabsScenarios.answered(), ITooLabsScenarios.missed(), ITooLabsScenarios.queue(),
                                 ITooLabsScenarios.blindTransfer(), ITooLabsScenarios.voicemail(), ITooLabsScenarios.outgoing(),
                                 ITooLabsScenarios.outgoingUnanswered(), ITooLabsScenarios.answered().duplicatedAndReordered(),
                                 ITooLabsScenarios.queue().duplicatedAndReordered(seed: 99),
                                 ITooLabsScenarios.blindTransfer().duplicatedAndReordered(seed: 3)]
                for s in scenarios {
                    try await player.play(s)
                    try await expectCall(sb, fx, s)
                }
                let transfer = try #require(try await sb.calls.find(connectionId: fx.connection.id, externalId: scenarios[3].callId))
                #expect(transfer.firstTalker == "ivan" && transfer.lastTalker == "petr")
                let queue = try #require(try await sb.calls.find(connectionId: fx.connection.id, externalId: scenarios[2].callId))
                #expect(queue.legs.allSatisfy { $0.group == "Продажи" })
                #expect(try await sb.calls.list(tenantId: fx.tenant.id).count == scenarios.count)
            }
        }
    }

    @Test("two overlapping calls from the same number stay two calls", arguments: Backend.available)
    func overlapping(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let fx = try await PBXFixture.make(sb)
            try await withLiveSwitchboard(sb, workers: false) { base in
                let (a, b, steps) = ITooLabsScenarios.overlapping()
                try await fx.player(base).play(steps)
                try await expectCall(sb, fx, a)
                try await expectCall(sb, fx, b)
                let calls = try await sb.calls.list(tenantId: fx.tenant.id, filter: .init(number: "9101234574"))
                #expect(calls.count == 2)
            }
        }
    }

    @Test("a transfer seen before its origin merges into one call", arguments: Backend.available)
    func transferBeforeOrigin(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let fx = try await PBXFixture.make(sb)
            try await withLiveSwitchboard(sb, workers: false) { base in
                let s = ITooLabsScenarios.blindTransfer()
                // The second employee's events arrive first, then the first employee's, then the final record.
                let order = [3, 4, 0, 1, 2, 5, 6]
                try await fx.player(base).play(order.map { s.steps[$0] })
                try await expectCall(sb, fx, s)
                #expect(try await sb.calls.list(tenantId: fx.tenant.id).count == 1)
            }
        }
    }

    @Test("Switchboard's own protocol: signed events, idempotent by event id", arguments: Backend.available)
    func nativeProtocol(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let fx = try await PBXFixture.make(sb, protocol: .switchboard)
            try await withLiveSwitchboard(sb, workers: false) { base in
                let player = fx.player(base)
                let s = NativeScenarios.answered()
                try await player.play(s)
                try await player.play(s)  // every event again: duplicates
                try await expectCall(sb, fx, s)
                let call = try #require(try await sb.calls.find(connectionId: fx.connection.id, externalId: s.callId))
                #expect(call.waitSec == 6)
                #expect(try await sb.calls.events(tenantId: fx.tenant.id, callId: call.id).count == s.steps.count)
                // A batch in one request.
                let b = NativeScenarios.answered(client: "+79101230000")
                let events = b.steps.compactMap { $0.payload as? NativeProtocol.Event }
                struct Batch: Encodable { var events: [NativeProtocol.Event] }
                let reply = try await player.postSigned("/pbx/events/\(fx.connection.id)", body: Array(try JSON.encoder.encode(Batch(events: events))))
                #expect(reply.status == 200)
                #expect(reply.body.contains("\"accepted\":\(events.count)"))
                try await expectCall(sb, fx, b)
            }
        }
    }

    @Test("malformed and unauthenticated PBX requests are refused with a reason and store nothing", arguments: Backend.available)
    func refusals(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let it = try await PBXFixture.make(sb)
            let nat = try await PBXFixture.make(sb, protocol: .switchboard)
            try await withLiveSwitchboard(sb, workers: false) { base in
                let p = it.player(base)
                let form = ["Content-Type": "application/x-www-form-urlencoded"]
                var r = try await p.post("/pbx/itoolabs/\(it.connection.id)",
                                         body: Array("cmd=event&type=INCOMING&callid=1&user=a&crm_token=wrong".utf8), headers: form)
                #expect(r.status == 401 && r.body.contains("Invalid token"))
                r = try await p.post("/pbx/itoolabs/\(it.connection.id)", body: Array("type=INCOMING&crm_token=\(it.secret)".utf8), headers: form)
                #expect(r.status == 400 && r.body.contains("cmd is missing"))
                r = try await p.post("/pbx/itoolabs/\(it.connection.id)",
                                     body: Array("cmd=event&type=BOGUS&callid=1&crm_token=\(it.secret)".utf8), headers: form)
                #expect(r.status == 400 && r.body.contains("unknown event type BOGUS"))
                r = try await p.post("/pbx/itoolabs/\(it.connection.id)", body: Array("{not json".utf8), headers: ["Content-Type": "application/json"])
                #expect(r.status == 400)
                r = try await p.post("/pbx/itoolabs/pbx_nonexistent", body: Array("cmd=event".utf8), headers: form)
                #expect(r.status == 404)
                // An ITooLabs request to a native connection is refused too.
                r = try await p.post("/pbx/itoolabs/\(nat.connection.id)", body: Array("cmd=event&crm_token=\(nat.secret)".utf8), headers: form)
                #expect(r.status == 404)

                let n = nat.player(base)
                let event = NativeScenarios.answered().steps[0]
                let e = try #require(event.payload as? NativeProtocol.Event)
                let body = Array(try JSON.encoder.encode(e))
                let ts = Int(Date().timeIntervalSince1970)
                r = try await n.post("/pbx/events/\(nat.connection.id)", body: body, headers: [
                    NativeProtocol.timestampHeader: String(ts), NativeProtocol.signatureHeader: "sha256=00"])
                #expect(r.status == 401 && r.body.contains("signature does not match"))
                let old = ts - 3600
                r = try await n.post("/pbx/events/\(nat.connection.id)", body: body, headers: [
                    NativeProtocol.timestampHeader: String(old),
                    NativeProtocol.signatureHeader: NativeProtocol.sign(body: body, secret: nat.secret, timestamp: old)])
                #expect(r.status == 401 && r.body.contains("timestamp"))
                r = try await n.postSigned("/pbx/events/\(nat.connection.id)", body: Array(#"{"event_id":"1","type":"leg.ringing","call_id":"c","occurred_at":"2026-11-22T10:00:00Z"}"#.utf8))
                #expect(r.status == 400 && r.body.contains("needs employee"))
                r = try await n.postSigned("/pbx/events/\(nat.connection.id)", body: Array(#"{"event_id":"1","type":"leg.ringing"}"#.utf8))
                #expect(r.status == 400 && r.body.contains("call_id"))
            }
            let stored = try await sb.db.read { try await $0.query("SELECT COUNT(*) AS n FROM call_events", []) }
            #expect(stored.first?.int("n") == 0)
        }
    }

    @Test("events are stored with their jobs for active integrations only, and survive a restart", arguments: Backend.available)
    func jobsAndRestart(_ backend: Backend) async throws {
        let storage = try await TestStorage.make(backend)
        defer { Task { await storage.cleanUp() } }
        // A connector that handles finished calls; it is not run here (no workers), only its jobs are checked.
        let handlers: [String: any JobHandler] = [CallJobKind.finished(.amocrm): RecordingHandler(),
                                                  CallJobKind.ringing(.amocrm): RecordingHandler()]
        var sb = try await Switchboard.open(config: storage.config, logger: testLogger(), handlers: handlers)
        let fx = try await PBXFixture.make(sb)
        let on = try await sb.integrations.create(tenantId: fx.tenant.id, crm: .amocrm, name: "on", credentialId: nil,
                                                  pbxConnectionId: fx.connection.id, active: true)
        _ = try await sb.integrations.create(tenantId: fx.tenant.id, crm: .amocrm, name: "off", credentialId: nil,
                                             pbxConnectionId: fx.connection.id, active: false)
        let s = ITooLabsScenarios.queue()
        try await withLiveSwitchboard(sb, workers: false) { base in
            try await fx.player(base).play(s.steps + s.steps)
        }
        await sb.shutdown()
        sb = try await Switchboard.open(config: storage.config, logger: testLogger(), handlers: handlers)
        let call = try #require(try await sb.calls.find(connectionId: fx.connection.id, externalId: s.callId))
        #expect(call.result == .answered)
        let jobs = try await sb.queue.list(tenantId: fx.tenant.id, callId: call.id)
        let payloads = try jobs.map { try JSON.decode(CallJobPayload.self, from: $0.payload) }
        #expect(payloads.allSatisfy { $0.integrationId == on.id })
        #expect(jobs.filter { $0.kind == CallJobKind.finished(.amocrm) }.count == 1)
        // The final record arrived, so the finished job is due now rather than after the grace period.
        #expect(jobs.first { $0.kind == CallJobKind.finished(.amocrm) }!.runAt <= Date())
        #expect(Set(payloads.compactMap(\.employeeLogin)) == ["anna", "boris", "vera"])
        await sb.shutdown()
    }
}
