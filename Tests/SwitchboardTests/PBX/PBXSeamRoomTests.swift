import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardOutbound
import SwitchboardPBX
import SwitchboardStorage

/// The PBX seam has room for protocols unlike the two served today (issue 10): one Switchboard reads from over its own
/// session (a TCP client such as Asterisk AMI), and one that reports a call and takes a routing command afterwards (a
/// callback API). Each is a test protocol registered beside the live ones; the generic part stores, routes and commands.
@Suite("PBX seam: pulled protocols and routing by command")
struct PBXSeamRoomTests {
    static func event(_ call: String, _ n: Int, _ kind: CallEventKind, employee: String? = nil, client: String = "+79101112233",
                      protocolId: PBXProtocol) -> CallEvent {
        CallEvent(key: "\(call)-\(n)", kind: kind, providerType: protocolId.rawValue, externalCallId: call, occurredAt: Date(),
                  direction: .inbound, clientNumberRaw: client, employeeLogin: employee, sequence: n)
    }

    /// A Switchboard that serves `adapter` beside the live protocols (with a fake CRM lookup when given), for `body`.
    static func serving<T>(_ adapter: PBXAdapter, on backend: Backend, lookup: FakeManagerLookup? = nil,
                           _ body: (Switchboard) async throws -> T) async throws -> T {
        try await withSwitchboard(backend, lookups: lookup.map { [.amocrm: $0] } ?? [:], pbxAdapters: PBXRegistry.live.adding([adapter]), body)
    }

    /// What a pulled protocol's sessions did.
    final class Sessions: Sendable {
        let runs = Mutex(0)
        let stopped = Mutex(0)
        let decisions = Mutex<[String]>([])
    }

    /// A pulled protocol: the first session reads a ringing and an answer, then drops (as a TCP session does); the next
    /// one reads the hang-up and stays open until it is stopped.
    static func pulled(_ sessions: Sessions) -> PBXAdapter {
        let id = PBXProtocol("test-pull")
        var adapter = PBXAdapter(id: id, title: "Pulled", titleRU: "Опрос", endpoints: [], finalGrace: 0,
                                 unknownConnection: PBXRefusal(404, "unknown"))
        adapter.pull = PBXPull { _, secret, sink in
            #expect(!secret.isEmpty)
            let run = sessions.runs.withLock { $0 += 1; return $0 }
            if run == 1 {
                _ = try await sink.ingest([event("p1", 1, .legRinging, employee: "ivan", protocolId: id),
                                           event("p1", 2, .legAnswered, employee: "ivan", protocolId: id)], "session 1")
                let decision = await sink.route("+79101112233")
                sessions.decisions.withLock { $0.append(decision.employee?.login ?? decision.reason) }
                throw DeliveryFailure("connection reset by peer")
            }
            _ = try await sink.ingest([event("p1", 3, .legEnded, employee: "ivan", protocolId: id),
                                       event("p1", 4, .callEnded, protocolId: id)], "session \(run)")
            do {
                try await Task.sleep(for: .seconds(3600))
            } catch {
                sessions.stopped.withLock { $0 += 1 }
                throw error
            }
        }
        return adapter
    }

    @Test("a pulled protocol's session stores its events like a pushed request's, routes, and runs again after it drops",
          arguments: Backend.available)
    func pulledSession(_ backend: Backend) async throws {
        let sessions = Sessions()
        let lookup = FakeManagerLookup(mode: .fast, owners: RoutingAndCommandTests.owners)
        try await Self.serving(Self.pulled(sessions), on: backend, lookup: lookup) { sb in
            let fx = try await routingFixture(sb, protocol: PBXProtocol("test-pull"), deadlineMs: 30_000)
            try await withLiveSwitchboard(sb, workers: false) { _ in
                // The server's own background services keep the session: nothing here starts it.
                try await eventually("the pulled call to end") {
                    try await sb.calls.find(connectionId: fx.connection.id, externalId: "p1")?.isOver == true
                }
                let call = try #require(try await sb.calls.find(connectionId: fx.connection.id, externalId: "p1"))
                #expect(call.result == .answered)
                #expect(call.talkers == ["ivan"])
                #expect(sessions.runs.withLock { $0 } == 2)
                #expect(sessions.decisions.withLock { $0 } == ["ivan"])
            }
        }
    }

    @Test("a deleted connection's pulled session is stopped", arguments: Backend.available)
    func deletedConnectionStops(_ backend: Backend) async throws {
        let sessions = Sessions()
        try await Self.serving(Self.pulled(sessions), on: backend) { sb in
            let fx = try await PBXFixture.make(sb, protocol: PBXProtocol("test-pull"))
            let service = PBXSessionService(sb: sb, rescan: .milliseconds(50), pause: .milliseconds(20))
            let keeper = Task { try await service.run() }
            try await eventually("two sessions") { sessions.runs.withLock { $0 } >= 2 }
            #expect(sessions.stopped.withLock { $0 } == 0)
            #expect(try await sb.pbx.delete(tenantId: fx.tenant.id, id: fx.connection.id))
            try await eventually("the session stopped") { sessions.stopped.withLock { $0 } == 1 }
            #expect(sessions.runs.withLock { $0 } == 2)
            keeper.cancel()
            _ = try? await keeper.value
        }
    }

    /// Commands of the callback protocol: records each `route`.
    struct RecordingCommands: PBXCommands {
        let routed: Routed
        let inner: FailingPBXCommands

        func originate(employeeLogin: String, clientNumber: PhoneNumber, callerId: String?) async throws -> String? {
            try await inner.originate(employeeLogin: employeeLogin, clientNumber: clientNumber, callerId: callerId)
        }
        func hangup(callId: String) async throws { try await inner.hangup(callId: callId) }
        func setDND(employeeLogin: String, on: Bool) async throws { try await inner.setDND(employeeLogin: employeeLogin, on: on) }
        func getDND(employeeLogin: String) async throws -> Bool { try await inner.getDND(employeeLogin: employeeLogin) }
        func accounts() async throws -> [PBXAccount] { try await inner.accounts() }
        func subscribeOnCalls(employeeLogin: String, on: Bool, groupId: String?) async throws {
            try await inner.subscribeOnCalls(employeeLogin: employeeLogin, on: on, groupId: groupId)
        }
        func history(from: Date, to: Date, type: String) async throws -> [PBXHistoryRecord] {
            try await inner.history(from: from, to: to, type: type)
        }
        func route(callRef: String, toEmployee login: String) async throws { routed.list.withLock { $0.append("\(callRef) → \(login)") } }
    }

    final class Routed: Sendable {
        let list = Mutex<[String]>([])
        let stray = Mutex<[String]>([])
    }

    /// A callback protocol: `POST /pbx/test-callback/:id` with `{"call", "from"}` reports a ringing call, answered at once
    /// with `{"ok":true}`; the call is routed afterwards by the `route` command.
    static func callback(_ routed: Routed) -> PBXAdapter {
        let id = PBXProtocol("test-callback")
        let endpoint = PBXEndpoint(path: "test-callback/:id", bodyLimit: 4096, decode: { request, secret throws(PBXRefusal) in
            guard request.header("X-Key") == secret else { throw PBXRefusal(401, "wrong key") }
            guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: String],
                  let call = body["call"], let from = body["from"] else { throw PBXRefusal(400, "call and from are required") }
            return .eventsAndRouting([event(call, 1, .legRinging, client: from, protocolId: id)], raw: String(decoding: request.body, as: UTF8.self),
                                     question: RoutingQuestion(client: from, callRef: call))
        }, encode: { answer in
            switch answer {
            case .stored: return .json(["ok": true])
            case .refused(let r): return .json(["error": r.message], status: r.status)
            case .busy(let m): return .json(["error": m], status: 503)
            case .routed: return .json(["error": "not asked"], status: 500)
            }
        })
        var adapter = PBXAdapter(id: id, title: "Callback", titleRU: "Обратный вызов", endpoints: [endpoint], finalGrace: 0,
                                 unknownConnection: PBXRefusal(404, "unknown"),
                                 commands: { _, _, _, _ in
                                     RecordingCommands(routed: routed, inner: FailingPBXCommands { m in routed.stray.withLock { $0.append(m) } })
                                 })
        adapter.routing = .byCommand(budget: .seconds(30))
        return adapter
    }

    @Test("a callback protocol's call is stored and answered at once, then routed to the personal manager by command",
          arguments: Backend.available)
    func routedByCommand(_ backend: Backend) async throws {
        let routed = Routed()
        let lookup = FakeManagerLookup(mode: .fast, owners: RoutingAndCommandTests.owners)
        try await Self.serving(Self.callback(routed), on: backend, lookup: lookup) { sb in
            let fx = try await routingFixture(sb, protocol: PBXProtocol("test-callback"), deadlineMs: 30_000)
            _ = try await sb.pbx.update(tenantId: fx.tenant.id, id: fx.connection.id, name: nil, apiURL: "https://pbx.example",
                                        apiKey: "k", apiFlavor: nil, routingDeadlineMs: nil, region: nil)
            try await withLiveSwitchboard(sb, workers: false) { base in
                func post(_ body: String, key: String) async throws -> (Int, String) {
                    var request = HTTPClientRequest(url: "\(base)/pbx/test-callback/\(fx.connection.id)")
                    request.method = .POST
                    request.headers.add(name: "X-Key", value: key)
                    request.body = .bytes(ByteBuffer(string: body))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                    var buffer = try await response.body.collect(upTo: 1 << 16)
                    return (Int(response.status.code), buffer.readString(length: buffer.readableBytes) ?? "")
                }
                #expect(try await post(#"{"call":"cb-1","from":"+79101112233"}"#, key: "wrong").0 == 401)
                let (status, body) = try await post(#"{"call":"cb-1","from":"+79101112233"}"#, key: fx.secret)
                #expect(status == 200)
                #expect(body == #"{"ok":true}"#)
                #expect(try await sb.calls.find(connectionId: fx.connection.id, externalId: "cb-1") != nil)
                try await eventually("a route command") { !routed.list.withLock { $0 }.isEmpty }
                #expect(routed.list.withLock { $0 } == ["cb-1 → ivan"])
                // A caller with no personal manager is left to the PBX's own plan: no command.
                #expect(try await post(#"{"call":"cb-2","from":"+79990000000"}"#, key: fx.secret).0 == 200)
                try await eventually("the second lookup") { lookup.finished >= 2 }
                try await Task.sleep(for: .milliseconds(100))
                #expect(routed.list.withLock { $0 } == ["cb-1 → ivan"])
                #expect(routed.stray.withLock { $0 }.isEmpty)
            }
        }
    }
}
