import Foundation
import Logging
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardOutbound
import SwitchboardPBX
import SwitchboardSimulator
import SwitchboardStorage

/// A CRM connector's lookup that behaves as told: answers at once, slowly, or fails.
final class FakeManagerLookup: ManagerLookup, @unchecked Sendable {
    enum Mode: Sendable { case fast, slow(Duration), failing, blocked(Gate) }
    private let lock = NSLock()
    private var _mode: Mode
    private var _calls = 0
    private var _finished = 0
    var finished: Int { lock.withLock { _finished } }
    /// last 10 digits → responsible CRM user
    let owners: [String: String]

    init(mode: Mode, owners: [String: String]) {
        _mode = mode
        self.owners = owners
    }

    var mode: Mode {
        get { lock.withLock { _mode } }
        set { lock.withLock { _mode = newValue } }
    }
    var calls: Int { lock.withLock { _calls } }

    func responsible(for phone: PhoneNumber, integration: Integration) async throws -> ResponsibleUser? {
        lock.withLock { _calls += 1 }
        switch mode {
        case .fast: break
        case .slow(let d): try await Task.sleep(for: d)
        case .failing: throw DeliveryFailure("CRM answered 503")
        case .blocked(let gate): await gate.wait()
        }
        lock.withLock { _finished += 1 }
        return owners[phone.last10 ?? ""].map { ResponsibleUser(crmUserId: $0, contactName: "Client \($0)") }
    }
}

struct DeliveryFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A tenant whose amoCRM integration forwards callers to their personal manager.
func routingFixture(_ sb: Switchboard, protocol proto: PBXProtocol, deadlineMs: Int = 300,
                    personalManager: Bool = true, active: Bool = true) async throws -> PBXFixture {
    let fx = try await PBXFixture.make(sb, protocol: proto, deadlineMs: deadlineMs)
    let ivan = try await sb.pbx.upsertEmployee(tenantId: fx.tenant.id, connectionId: fx.connection.id, login: "ivan",
                                               extension_: "101", name: "Ivan", email: nil, directNumber: nil)
    let integration = try await sb.integrations.create(
        tenantId: fx.tenant.id, crm: .amocrm, name: "amo", credentialId: nil, pbxConnectionId: fx.connection.id,
        active: active, settings: .object(["personalManager": .bool(personalManager)]))
    try await sb.integrations.replaceMappings(tenantId: fx.tenant.id, integrationId: integration.id, [
        EmployeeMapping(crmUserId: "555", crmUserName: "Ivan P.", employeeId: ivan.id),
    ])
    return fx
}

@Suite("Personal-manager routing and PBX commands")
struct RoutingAndCommandTests {
    static let owners = ["9101112233": "555", "9104445566": "777"]

    @Test("ITooLabs cmd=contact: fast CRM answers the manager, then from cache", arguments: Backend.available)
    func fastLookup(_ backend: Backend) async throws {
        let lookup = FakeManagerLookup(mode: .fast, owners: Self.owners)
        let storage = try await TestStorage.make(backend)
        let sb = try await Switchboard.open(config: storage.config, logger: testLogger(), lookups: [.amocrm: lookup])
        let fx = try await routingFixture(sb, protocol: .itoolabs, deadlineMs: 10_000)
        try await withLiveSwitchboard(sb, workers: false) { base in
            let p = fx.player(base)
            var r = try await p.askContact(phone: "89101112233")
            #expect(r.status == 200)
            #expect(try JSON.decode([String: String].self, from: r.body) == ["responsible": "ivan", "contact_name": "Client 555"])
            r = try await p.askContact(phone: "+7 910 111-22-33")
            #expect(try JSON.decode([String: String].self, from: r.body)["responsible"] == "ivan")
            #expect(lookup.calls == 1)  // the second answer came from the cache
            // A contact whose manager is not mapped to an employee, and an unknown caller: "no preference" is {}.
            r = try await p.askContact(phone: "79104445566")
            #expect(r.body == "{}")
            r = try await p.askContact(phone: "79990000000")
            #expect(r.body == "{}")
        }
        await sb.shutdown()
        await storage.cleanUp()
    }

    @Test("a slow CRM: the answer comes within the deadline as 'no preference', and the late answer fills the cache",
          arguments: Backend.available)
    func slowLookup(_ backend: Backend) async throws {
        let lookup = FakeManagerLookup(mode: .slow(.milliseconds(1500)), owners: Self.owners)
        let storage = try await TestStorage.make(backend)
        let sb = try await Switchboard.open(config: storage.config, logger: testLogger(), lookups: [.amocrm: lookup])
        let fx = try await routingFixture(sb, protocol: .switchboard, deadlineMs: 200)
        try await withLiveSwitchboard(sb, workers: false) { base in
            let p = fx.player(base)
            let r = try await p.askRoute(phone: "+79101112233", deadlineMs: 1000)
            let answer = try JSON.decode(NativeProtocol.RoutingAnswer.self, from: r.body)
            #expect(answer.decision == "no_preference")
            #expect(answer.reason.contains("did not answer within"))
            try await eventually("the late CRM answer to reach the cache") {
                let again = try JSON.decode(NativeProtocol.RoutingAnswer.self,
                                            from: try await p.askRoute(phone: "+79101112233").body)
                return again.decision == "employee" && again.employee?.login == "ivan" && again.reason == "cache"
            }
            #expect(lookup.calls == 1)
        }
        await sb.shutdown()
        await storage.cleanUp()
    }

    @Test("a failing CRM, routing switched off, or the integration inactive: no preference, no lookup",
          arguments: Backend.available)
    func noPreference(_ backend: Backend) async throws {
        let lookup = FakeManagerLookup(mode: .failing, owners: Self.owners)
        let storage = try await TestStorage.make(backend)
        let sb = try await Switchboard.open(config: storage.config, logger: testLogger(), lookups: [.amocrm: lookup])
        let failing = try await routingFixture(sb, protocol: .switchboard, deadlineMs: 10_000)
        let off = try await routingFixture(sb, protocol: .switchboard, personalManager: false)
        let inactive = try await routingFixture(sb, protocol: .itoolabs, active: false)
        try await withLiveSwitchboard(sb, workers: false) { base in
            var answer = try JSON.decode(NativeProtocol.RoutingAnswer.self,
                                         from: try await failing.player(base).askRoute(phone: "+79101112233").body)
            #expect(answer.decision == "no_preference")
            #expect(answer.reason.contains("lookup failed"))
            let calls = lookup.calls
            answer = try JSON.decode(NativeProtocol.RoutingAnswer.self, from: try await off.player(base).askRoute(phone: "+79101112233").body)
            #expect(answer.decision == "no_preference" && answer.reason.contains("forwarding is off"))
            #expect(try await inactive.player(base).askContact(phone: "+79101112233").body == "{}")
            #expect(lookup.calls == calls)
            // Recovery: once the CRM answers again, so does routing (failures are not cached).
            lookup.mode = .fast
            answer = try JSON.decode(NativeProtocol.RoutingAnswer.self,
                                     from: try await failing.player(base).askRoute(phone: "+79101112233").body)
            #expect(answer.employee?.login == "ivan")
        }
        await sb.shutdown()
        await storage.cleanUp()
    }

    @Test("the routing service answers within its deadline with the CRM slow, fast and failing")
    func deadlineUnit() async throws {
        try await withSwitchboard(.sqlite) { sb in
            let fx = try await routingFixture(sb, protocol: .switchboard)
            let gate = Gate()
            for mode in [FakeManagerLookup.Mode.fast, .blocked(gate), .failing] {
                let lookup = FakeManagerLookup(mode: mode, owners: Self.owners)
                let routing = RoutingService(integrations: sb.integrations, pbx: sb.pbx, lookups: [.amocrm: lookup], logger: testLogger())
                // A generous deadline where the CRM answers: routing returns as soon as it does, so a loaded CI machine costs only time.
                let deadline: Duration
                if case .blocked = mode { deadline = .milliseconds(100) } else { deadline = .seconds(30) }
                let decision = await routing.route(connection: fx.connection, client: PhoneNumber.parse("89101112233"),
                                                   deadline: deadline)
                switch mode {
                case .fast:
                    #expect(decision.employee?.login == "ivan")
                case .blocked:
                    // The CRM has not answered (it cannot until the gate opens), yet routing has.
                    #expect(decision.employee == nil && decision.reason.contains("did not answer within 100 ms"))
                    #expect(lookup.finished == 0)
                    await gate.open()
                    try await eventually("the late answer to be cached") {
                        await routing.route(connection: fx.connection, client: PhoneNumber.parse("89101112233"),
                                            deadline: .seconds(30)).reason == "cache"
                    }
                default:
                    #expect(decision.employee == nil && decision.reason.contains("lookup failed"))
                }
            }
        }
    }

    @Test("click-to-call, DND and accounts go to the PBX with the caller-ID rules", arguments: Backend.available)
    func commands(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let pbx = SimulatedPBXServer(key: "pbx-api-key", accounts: [
                PBXAccount(login: "ivan", name: "Иван", extension: "101", email: "ivan@acme.ru", directNumber: nil),
            ])
            try await withLiveApplication({ pbx.application(logger: testLogger(), onRunning: $0) }) { pbxBase in
                let fx = try await PBXFixture.make(sb, apiURL: pbxBase, apiKey: "pbx-api-key")
                let ivan = try await sb.pbx.upsertEmployee(tenantId: fx.tenant.id, connectionId: fx.connection.id, login: "ivan",
                                                           extension_: "101", name: "Ivan", email: nil, directNumber: nil, hasSIP: false)
                let olga = try await sb.pbx.upsertEmployee(tenantId: fx.tenant.id, connectionId: fx.connection.id, login: "olga",
                                                           extension_: "102", name: "Olga", email: nil, directNumber: nil, hasSIP: true)
                let integration = try await sb.integrations.create(
                    tenantId: fx.tenant.id, crm: .amocrm, name: "amo", credentialId: nil, pbxConnectionId: fx.connection.id,
                    settings: .object(["clickToCall": .object(["callerId": .string("+7 495 000-11-22"), "overrideCallerId": .bool(false)])]))
                try await withLiveSwitchboard(sb, workers: false) { base in
                    pbx.player = fx.player(base)
                    let client = ScenarioPlayer(baseURL: base, connectionId: "", secret: "")
                    let headers = ["Authorization": "Bearer \(fx.tenant.token)", "Content-Type": "application/json"]
                    // Ivan has no SIP line: the tenant's caller ID is shown. Olga has one: the PBX chooses.
                    var r = try await client.post("/api/v1/calls/originate", body: Array("""
                        {"employeeId":"\(ivan.id)","phone":"+7 (910) 765-43-21","integrationId":"\(integration.id)"}
                        """.utf8), headers: headers)
                    #expect(r.status == 202)
                    r = try await client.post("/api/v1/calls/originate", body: Array("""
                        {"employeeId":"\(olga.id)","phone":"89107654322","integrationId":"\(integration.id)"}
                        """.utf8), headers: headers)
                    #expect(r.status == 202)
                    let calls = pbx.commands.filter { $0.cmd == "makeCall" }
                    #expect(calls.count == 2)
                    #expect(calls.first?.fields["user"] == "ivan")
                    #expect(calls.first?.fields["phone"] == "79107654321")  // digits only, no "+"
                    #expect(calls.first?.fields["clid"] == "74950001122")
                    #expect(calls.last?.fields["clid"] == nil)
                    // The simulated PBX plays the outgoing call it started back to Switchboard.
                    try await eventually("the click-to-call to land as an outgoing call") {
                        let list = try await sb.calls.list(tenantId: fx.tenant.id, filter: .init(number: "9107654321"))
                        return list.first?.state == .finalized
                    }
                    let call = try #require(try await sb.calls.list(tenantId: fx.tenant.id, filter: .init(number: "9107654321")).first)
                    #expect(call.direction == .outbound && call.result == .answered && call.talkers == ["ivan"])

                    r = try await client.post("/api/v1/pbx-connections/\(fx.connection.id)/dnd",
                                              body: Array(#"{"employeeId":"\#(ivan.id)","on":true}"#.utf8), headers: headers)
                    #expect(r.status == 200)
                    #expect(pbx.isDND("ivan"))
                    let accounts = try await client.get("/api/v1/pbx-connections/\(fx.connection.id)/accounts", headers: headers)
                    #expect(accounts.body.contains("\"login\":\"ivan\""))
                    let recent = try await client.get("/api/v1/pbx-connections/\(fx.connection.id)/events", headers: headers)
                    #expect(recent.body.contains("OUTGOING"))
                    // A bad number is refused before anything reaches the PBX.
                    r = try await client.post("/api/v1/calls/originate", body: Array("""
                        {"employeeId":"\(ivan.id)","phone":"12"}
                        """.utf8), headers: headers)
                    #expect(r.status == 422)
                    #expect(pbx.commands.filter { $0.cmd == "makeCall" }.count == 2)
                }
            }
        }
    }

    @Test("the ITooLabs client speaks both API generations")
    func bothFlavors() async throws {
        let pbx = SimulatedPBXServer(key: "k", accounts: [PBXAccount(login: "ivan", name: "Ivan", extension: "101")])
        let dev = OutboundHTTP(policy: OutboundPolicy(allowLoopback: true))
        try await withLiveApplication({ pbx.application(logger: testLogger(), onRunning: $0) }) { base in
            let legacy = ITooLabsCommands(baseURL: base, key: "k", flavor: .legacy, http: dev)
            let v1 = ITooLabsCommands(baseURL: base, key: "k", flavor: .v1, http: dev)
            #expect(try await legacy.accounts().map(\.login) == ["ivan"])
            #expect(try await v1.accounts().map(\.login) == ["ivan"])
            #expect(try await legacy.originate(employeeLogin: "ivan", clientNumber: PhoneNumber.parse("89101234567"), callerId: nil) != nil)
            #expect(try await v1.originate(employeeLogin: "ivan", clientNumber: PhoneNumber.parse("89101234567"), callerId: "74950000000") != nil)
            try await legacy.setDND(employeeLogin: "ivan", on: true)
            #expect(try await legacy.getDND(employeeLogin: "ivan"))
            try await legacy.subscribeOnCalls(employeeLogin: "ivan", on: false, groupId: "7")
            await #expect(throws: PBXCommandError.self) { try await legacy.hangup(callId: "x") }
            let wrongKey = ITooLabsCommands(baseURL: base, key: "wrong", flavor: .legacy, http: dev)
            do {
                _ = try await wrongKey.accounts()
                Issue.record("a wrong key must be refused")
            } catch let error as PBXCommandError {
                #expect(error.status == 401 && !error.retryable)
            }
            #expect(pbx.commands.map(\.cmd) == ["accounts", "users", "makeCall", "makecall", "set_dnd", "get_dnd", "subscribeOnCalls"])
            #expect(pbx.commands[3].fields["clid"] == "74950000000")
        }
    }
}


@Suite("Routing cache across instances")
struct RoutingAcrossInstancesTests {
    @Test("on PostgreSQL, an amoCRM webhook received by one instance clears every instance's cached managers")
    func webhookClearsOtherInstances() async throws {
        guard Backend.available.contains(.postgres) else { return }
        let storage = try await TestStorage.make(.postgres)
        let lookupA = FakeManagerLookup(mode: .fast, owners: RoutingAndCommandTests.owners)
        let lookupB = FakeManagerLookup(mode: .fast, owners: RoutingAndCommandTests.owners)
        let a = try await Switchboard.open(config: storage.config, logger: testLogger(), lookups: [.amocrm: lookupA])
        let b = try await Switchboard.open(config: storage.config, logger: testLogger(), lookups: [.amocrm: lookupB])
        let fx = try await routingFixture(a, protocol: .itoolabs, deadlineMs: 10_000)
        let integration = try #require(try await a.integrations.list(tenantId: fx.tenant.id).first)
        let pg = try #require(b.db as? PostgresDatabase)
        let listener = Task { try await NotificationService(db: pg, wake: b.queue.wake, routing: b.routing).run() }
        try await eventually("B's listener to be ready") {
            try await a.db.read { try await $0.one("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()", []) }?
                .int("n") ?? 0 > 0
        }
        try await withLiveSwitchboard(b, workers: false) { baseB in
            // B learns Ivan is the manager of this caller, and answers the next call from its cache.
            var r = try await fx.player(baseB).askContact(phone: "89101112233")
            #expect(r.body.contains("ivan"))
            r = try await fx.player(baseB).askContact(phone: "89101112233")
            #expect(lookupB.calls == 1 && b.routing.cachedNumbers(integrationId: integration.id) == 1)
            try await withLiveSwitchboard(a, workers: false) { baseA in
                // amoCRM tells A that a contact's responsible changed.
                let hook = try await ScenarioPlayer(baseURL: baseA, connectionId: "", secret: "")
                    .post("/webhooks/amocrm/\(integration.id)/\(a.amoWebhookKey(integration.id))",
                          body: Array("contacts%5Bupdate%5D%5B0%5D%5Bid%5D=5001".utf8),
                          headers: ["Content-Type": "application/x-www-form-urlencoded"])
                #expect(hook.status == 200)
            }
            try await eventually("B to forget the cached manager") { b.routing.cachedNumbers(integrationId: integration.id) == 0 }
            // So B asks the CRM again.
            r = try await fx.player(baseB).askContact(phone: "89101112233")
            #expect(r.body.contains("ivan") && lookupB.calls == 2)
        }
        listener.cancel()
        _ = await listener.result
        await a.shutdown(); await b.shutdown()
        await storage.cleanUp()
    }
}

/// Holds waiters until opened.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        waiters.forEach { $0.resume() }
        waiters = []
    }
}
