import AsyncHTTPClient
import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardPBX
import SwitchboardSandbox
import SwitchboardSimulator
import SwitchboardStorage

/// A tenant wired end to end: PBX simulator → Switchboard → MoySklad sandbox, with the telephony application's access
/// key and JSON API login in one credential set, and the employees' extensions the same in the PBX and in MoySklad
/// (the guide's step 3).
struct MSWorld {
    let sb: Switchboard
    let sandbox: MoySkladSandbox
    let base: String
    let sandboxURL: String
    let fx: PBXFixture
    let integration: Integration
    let credential: CRMCredential

    var player: ScenarioPlayer { fx.player(base) }

    static let ANNA = MoySkladSandboxSeed.demo.employees[0].id, BORIS = MoySkladSandboxSeed.demo.employees[1].id,
               VERA = MoySkladSandboxSeed.demo.employees[2].id
    static let olga = "79165551234"  // the account's counterparty, owned by Boris
    static let olgaId = MoySkladSandboxSeed.demo.counterparties[0].id
    static let line = "74951234567"

    static func settings(_ change: (inout MSSettings) -> Void = { _ in }) -> MSSettings {
        var s = MSSettings()
        s.defaultResponsible = VERA
        s.personalManager = true
        change(&s)
        return s
    }

    static func with(_ backend: Backend, options: MoySkladSandbox.Options = .init(), settings: MSSettings = settings(),
                     login: String? = "admin@demo", password: String? = "demo-password", workers: Bool = true,
                     _ body: (MSWorld) async throws -> Void) async throws {
        let sandbox = MoySkladSandbox(seed: .demo, options: options)
        try await withLiveApplication({ sandbox.application(logger: testLogger(), onRunning: $0) }) { sandboxURL in
            let storage = try await TestStorage.make(backend)
            var config = storage.config
            config.retryBaseMs = 100
            let sb = try await Switchboard.open(config: config, logger: testLogger())
            do {
                try await withLiveSwitchboard(sb, workers: workers) { base in
                    let fx = try await PBXFixture.make(sb, deadlineMs: 10_000)
                    var employees: [String: Employee] = [:]
                    for (login, ext) in [("anna", "101"), ("boris", "102"), ("vera", "103"), ("ivan", "199")] {
                        employees[login] = try await sb.pbx.upsertEmployee(tenantId: fx.tenant.id, connectionId: fx.connection.id,
                                                                           login: login, extension_: ext, name: login, email: nil,
                                                                           directNumber: nil)
                    }
                    let credential = try await sb.credentials.create(
                        tenantId: fx.tenant.id, crm: .moysklad, name: "МойСклад", baseURL: sandboxURL, authKind: .token,
                        secret: CRMSecret(login: login, password: password, token: MoySkladSandboxSeed.demo.phoneAccessKey))
                    let integration = try await sb.integrations.create(
                        tenantId: fx.tenant.id, crm: .moysklad, name: "МойСклад", credentialId: credential.id,
                        pbxConnectionId: fx.connection.id, active: true,
                        settings: try JSON.decode(JSONValue.self, from: JSON.string(settings)))
                    try await sb.integrations.replaceMappings(tenantId: fx.tenant.id, integrationId: integration.id, [
                        EmployeeMapping(crmUserId: ANNA, crmUserName: "Анна", employeeId: employees["anna"]!.id),
                        EmployeeMapping(crmUserId: BORIS, crmUserName: "Борис", employeeId: employees["boris"]!.id),
                        EmployeeMapping(crmUserId: VERA, crmUserName: "Вера", employeeId: employees["vera"]!.id),
                    ])
                    try await body(MSWorld(sb: sb, sandbox: sandbox, base: base, sandboxURL: sandboxURL, fx: fx,
                                           integration: integration, credential: credential))
                }
            } catch {
                await sb.shutdown()
                await storage.cleanUp()
                throw error
            }
            await sb.shutdown()
            await storage.cleanUp()
        }
    }

    func settled(_ what: String = "the MoySklad jobs to finish") async throws {
        try await eventually(timeout: .seconds(180), what) {
            let jobs = try await sb.queue.list(tenantId: fx.tenant.id, limit: 1000)
            return !jobs.isEmpty && jobs.allSatisfy { $0.state == .done || $0.state == .dead }
        }
    }

    func dead() async throws -> [Job] { try await sb.queue.list(tenantId: fx.tenant.id, state: .dead) }

    func play(_ s: SimScenario) async throws { try await play(s.steps) }

    /// Plays one request at a time and lets the jobs it made run before the next, as phones ring and answer for seconds
    /// (a finished call's job waits for the final record, which comes last).
    func playPaced(_ steps: [SimStep]) async throws {
        for step in steps {
            try await player.play([step])
            try await eventually(timeout: .seconds(120), "the due MoySklad jobs to finish") {
                let later = Date().addingTimeInterval(5)
                return try await sb.queue.list(tenantId: fx.tenant.id, limit: 1000)
                    .allSatisfy { $0.state == .done || $0.state == .dead || $0.runAt > later }
            }
        }
        try await settled()
    }

    /// Requests to MoySklad whose "METHOD path" starts with `prefix`.
    func requests(_ prefix: String) -> Int { state.requests.filter { $0.key.hasPrefix(prefix) }.values.reduce(0, +) }

    func play(_ steps: [SimStep]) async throws {
        try await player.play(steps)
        try await settled()
    }

    var state: MoySkladSandboxSnapshot { sandbox.snapshot() }

    func calls(_ number: String) -> [MoySkladSandboxSnapshot.Call] {
        state.calls.filter { String($0.number.filter(\.isNumber).suffix(10)) == String(number.suffix(10)) }
    }

    func counterparties(_ number: String) -> [MoySkladSandboxSnapshot.Counterparty] {
        state.counterparties.filter { String(($0.phone ?? "").filter(\.isNumber).suffix(10)) == String(number.suffix(10)) }
    }

    func events(_ call: MoySkladSandboxSnapshot.Call?) -> [String] {
        (call?.events ?? []).sorted { $0.sequence < $1.sequence }.map { $0.eventType + ($0.extension.map { " " + $0 } ?? "") }
    }

    /// An employee-to-employee call: `from` rings `to` by extension, who answers.
    static func internalCall(from: String, to: String, toExt: String) -> [SimStep] {
        let id = "int-" + UUID().uuidString.prefix(8).lowercased()
        func event(_ type: String) -> SimStep {
            .itoolabs(["cmd": "event", "type": type, "callid": id, "user": to, "ext": toExt, "phone": from, "diversion": "",
                       "direction": "internal"])
        }
        return [
            event("INCOMING"), event("ACCEPTED"), event("COMPLETED"),
            .itoolabs(["cmd": "history", "type": "internal", "status": "Success", "callid": id, "phone": from, "diversion": "",
                       "user": to, "ext": toExt, "duration": "12", "start": ITooLabsAdapter.formatTime(Date().addingTimeInterval(-20))]),
        ]
    }
}

@Suite("MoySklad end to end: PBX simulator → Switchboard → sandbox")
struct MoySkladScenarioTests {
    @Test("answered, unknown caller: SHOW while ringing, STARTTIME on answer, a counterparty for the talker, the call closed with its recording",
          arguments: Backend.available)
    func answeredUnknown(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            let s = ITooLabsScenarios.answered(client: "79031112233", line: MSWorld.line, employee: "anna", talk: 47)
            try await w.player.play(Array(s.steps.prefix(1)))
            try await eventually("the card to reach MoySklad") { w.state.popups["101"]?.isEmpty == false }
            try await w.player.play(Array(s.steps.prefix(2).dropFirst()))
            try await eventually("the timer to start") { w.state.timers["101"]?.isEmpty == false }
            try await w.player.play(Array(s.steps.dropFirst(2)))
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let calls = w.calls("79031112233")
            #expect(calls.count == 1)
            let call = try #require(calls.first)
            #expect(call.externalId != s.callId && call.isIncoming && call.number == "+79031112233")
            #expect(w.events(call) == ["SHOW 101", "STARTTIME 101", "HIDE_ALL"])
            #expect(call.endTime != nil && call.recordUrl == ["https://pbx.example/rec/\(s.callId).mp3"])
            #expect(call.employeeId == MSWorld.ANNA && call.comment == "Входящий звонок, разговор 47 с")
            let cp = try #require(w.counterparties("79031112233").first)
            #expect(w.counterparties("79031112233").count == 1 && cp.ownerId == MSWorld.ANNA && cp.createdByAPI)
            #expect(call.counterpartyId == cp.id)
            #expect(w.state.popups.isEmpty && w.state.timers.isEmpty && w.state.tasks.isEmpty && w.state.orders.isEmpty)
            // Requests this scenario cost: Phone API create + event + update; JSON API token, search, create.
            let r = w.state.requests
            #expect(r["POST /api/phone/1.0/call"] == 1 && w.requests("PUT /api/phone/1.0/call/extid/") == 1)
            #expect(w.requests("POST /api/phone/1.0/call/extid/") == 1)
            #expect(r["POST /api/remap/1.2/security/token"] == 1 && r["GET /api/remap/1.2/entity/counterparty"] == 1
                && r["POST /api/remap/1.2/entity/counterparty"] == 1)
            #expect(w.requests("") == 6)
        }
    }

    @Test("missed, unknown caller: the counterparty and a task go to the default responsible", arguments: Backend.available)
    func missedUnknown(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            try await w.playPaced(ITooLabsScenarios.missed(client: "79032223344", line: MSWorld.line, employee: "anna").steps)
            #expect(try await w.dead().isEmpty)
            let call = try #require(w.calls("79032223344").first)
            #expect(w.events(call) == ["SHOW 101", "HIDE_ALL"] && call.employeeId == nil && call.recordUrl.isEmpty)
            #expect(call.comment == "Входящий звонок, пропущен")
            let cp = try #require(w.counterparties("79032223344").first)
            #expect(cp.ownerId == MSWorld.VERA && call.counterpartyId == cp.id)
            let task = try #require(w.state.tasks.first)
            #expect(w.state.tasks.count == 1 && task.assigneeId == MSWorld.VERA && task.agent == "counterparty/\(cp.id)")
            #expect(task.description.hasPrefix("Перезвонить: Входящий звонок, пропущен, +79032223344") && task.dueToDate != nil)
        }
    }

    @Test("known caller with an order rule: nothing new but the order, in the chosen status, for the talker; the call lands on the counterparty",
          arguments: Backend.available)
    func knownCallerOrder(_ backend: Backend) async throws {
        let settings = MSWorld.settings {
            $0.incomingAnswered.createOrder = true
            $0.order.state = "Новый"
        }
        try await MSWorld.with(backend, settings: settings) { w in
            try await w.play(ITooLabsScenarios.answered(client: MSWorld.olga, line: MSWorld.line, employee: "anna", talk: 20))
            #expect(try await w.dead().isEmpty)
            #expect(w.state.counterparties.count == 1)
            let call = try #require(w.calls(MSWorld.olga).first)
            #expect(call.counterpartyId == MSWorld.olgaId)
            let order = try #require(w.state.orders.first)
            #expect(w.state.orders.count == 1 && order.agentId == MSWorld.olgaId && order.ownerId == MSWorld.ANNA)
            #expect(order.stateId == MoySkladSandboxSeed.demo.orderStates[0].id)
            #expect(order.organizationId == MoySkladSandboxSeed.demo.organizations[0].id)
        }
    }

    @Test("outgoing: the dialler's card, the counterparty owned by the dialler; an unanswered one makes a task for them",
          arguments: Backend.available)
    func outgoing(_ backend: Backend) async throws {
        try await MSWorld.with(backend, settings: MSWorld.settings { $0.outgoingMissed.createTask = true }) { w in
            try await w.playPaced(ITooLabsScenarios.outgoing(client: "79039990011", employee: "boris", talk: 25).steps)
            let call = try #require(w.calls("79039990011").first)
            #expect(!call.isIncoming && call.employeeId == MSWorld.BORIS && w.events(call) == ["SHOW 102", "STARTTIME 102", "HIDE_ALL"])
            #expect(w.counterparties("79039990011").first?.ownerId == MSWorld.BORIS && w.state.tasks.isEmpty)
            try await w.play(ITooLabsScenarios.outgoingUnanswered(client: "79039990022", employee: "boris"))
            #expect(try await w.dead().isEmpty)
            #expect(w.counterparties("79039990022").isEmpty)  // outgoingMissed makes no counterparty by default
            let task = try #require(w.state.tasks.first)
            #expect(w.state.tasks.count == 1 && task.assigneeId == MSWorld.BORIS && task.agent == nil)
            #expect(w.calls("79039990022").first?.comment == "Исходящий звонок, клиент не ответил")
        }
    }

    @Test("transfer: the new counterparty goes to the first or the last talker as set; every card closes",
          arguments: Backend.available, [MSSettings.Talker.first, .last])
    func transfer(_ backend: Backend, _ talker: MSSettings.Talker) async throws {
        try await MSWorld.with(backend, settings: MSWorld.settings { $0.responsibleTalker = talker }) { w in
            try await w.playPaced(ITooLabsScenarios.blindTransfer(client: "79035556677", line: MSWorld.line, from: "anna", to: "boris",
                                                                  talk: 90).steps)
            #expect(try await w.dead().isEmpty)
            let expected = talker == .first ? MSWorld.ANNA : MSWorld.BORIS
            #expect(w.counterparties("79035556677").first?.ownerId == expected)
            let call = try #require(w.calls("79035556677").first)
            #expect(w.events(call) == ["SHOW 101", "STARTTIME 101", "SHOW 102", "STARTTIME 102", "HIDE_ALL"])
            #expect(w.state.popups.isEmpty && w.calls("79035556677").count == 1)
        }
    }

    @Test("a queue rings three: three cards, the answerer's timer starts, the others' cards close", arguments: Backend.available)
    func queue(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            let s = ITooLabsScenarios.queue(client: "79036667788", line: MSWorld.line, employees: ["anna", "boris", "vera"], talk: 30)
            try await w.playPaced(Array(s.steps.prefix(4)))
            #expect(w.state.timers.keys.sorted() == ["102"] && w.state.popups.keys.sorted() == ["102"])
            try await w.playPaced(Array(s.steps.dropFirst(4)))
            let call = try #require(w.calls("79036667788").first)
            #expect(w.events(call) == ["SHOW 101", "SHOW 102", "SHOW 103", "STARTTIME 102", "HIDE 101", "HIDE 103", "HIDE_ALL"])
            #expect(w.counterparties("79036667788").first?.ownerId == MSWorld.BORIS)
        }
    }

    @Test("filters: a call on another line is not this integration's; an ignored number is logged without entities",
          arguments: Backend.available)
    func filters(_ backend: Backend) async throws {
        let settings = MSWorld.settings {
            $0.lines = ["+7 (495) 123-45-67"]
            $0.ignoredNumbers = ["8 903 777-00-11"]
        }
        try await MSWorld.with(backend, settings: settings) { w in
            try await w.play(ITooLabsScenarios.answered(client: "79037770022", line: "74990000000", employee: "anna", talk: 5))
            #expect(w.state.calls.isEmpty && w.state.counterparties.count == 1)
            try await w.play(ITooLabsScenarios.missed(client: "79037770011", line: MSWorld.line, employee: "anna"))
            #expect(w.calls("79037770011").count == 1 && w.counterparties("79037770011").isEmpty && w.state.tasks.isEmpty)
            #expect(try await w.dead().isEmpty)
        }
    }

    @Test("internal calls are logged only with \"Показывать внутренние звонки\" on, without counterparties", arguments: Backend.available)
    func internalCalls(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            try await w.play(MSWorld.internalCall(from: "102", to: "anna", toExt: "101"))
            #expect(w.state.calls.isEmpty)
        }
        try await MSWorld.with(backend, settings: MSWorld.settings { $0.showInternalCalls = true }) { w in
            try await w.playPaced(MSWorld.internalCall(from: "102", to: "anna", toExt: "101"))
            #expect(try await w.dead().isEmpty)
            let call = try #require(w.state.calls.first)
            #expect(w.state.calls.count == 1 && call.number == "102" && call.endTime != nil)
            #expect(w.events(call) == ["SHOW 101", "STARTTIME 101", "HIDE_ALL"] && call.comment == "Внутренний звонок, разговор 12 с")
            #expect(w.state.counterparties.count == 1 && w.state.requests["GET /api/remap/1.2/entity/counterparty"] == nil)
        }
    }

    @Test("extra fields: written into a new counterparty; into an existing one only with \"update always\"", arguments: Backend.available,
          [false, true])
    func extraFields(_ backend: Backend, _ always: Bool) async throws {
        let settings = MSWorld.settings {
            $0.extraFields = [.init(attribute: "attr-line", source: "line"), .init(attribute: "attr-source", source: "utm_source")]
            $0.utmByLine = ["+7 495 123-45-67": ["utm_source": "yandex"]]
            $0.extraFieldsUpdateAlways = always
        }
        try await MSWorld.with(backend, settings: settings) { w in
            try await w.play(ITooLabsScenarios.answered(client: "79038889900", line: MSWorld.line, employee: "anna", talk: 5))
            #expect(w.counterparties("79038889900").first?.attributes == ["attr-line": "+74951234567", "attr-source": "yandex"])
            try await w.play(ITooLabsScenarios.answered(client: MSWorld.olga, line: MSWorld.line, employee: "anna", talk: 5))
            let olga = try #require(w.state.counterparties.first { $0.id == MSWorld.olgaId })
            #expect(olga.attributes == (always ? ["attr-line": "+74951234567", "attr-source": "yandex"] : [:]))
            #expect(try await w.dead().isEmpty)
        }
    }

    @Test("replayed and reordered PBX events make one call, one counterparty, one task", arguments: Backend.available)
    func replay(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            let s = ITooLabsScenarios.missed(client: "79030001122", line: MSWorld.line, employee: "anna")
            try await w.player.play(s.steps)
            try await w.player.play(s.duplicatedAndReordered().steps)
            try await w.settled()
            #expect(w.calls("79030001122").count == 1 && w.counterparties("79030001122").count == 1 && w.state.tasks.count == 1)
            // Each write once: the call (made whole at its end when no card was shown in time), the counterparty, the task.
            #expect(w.state.requests["POST /api/phone/1.0/call"] == 1 && w.requests("PUT /api/phone/1.0/call/extid/") <= 1)
            #expect(w.state.requests["POST /api/remap/1.2/entity/counterparty"] == 1 && w.state.requests["POST /api/remap/1.2/entity/task"] == 1)
        }
    }

    @Test("MoySklad down for a while (503, code 1074): the call waits and arrives once", arguments: Backend.available)
    func outage(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            w.sandbox.startOutage(status: 503, requests: 4)
            try await w.play(ITooLabsScenarios.answered(client: "79041110009", line: MSWorld.line, employee: "anna", talk: 9))
            #expect(try await w.dead().isEmpty)
            #expect(w.calls("79041110009").count == 1 && w.counterparties("79041110009").count == 1)
            #expect(w.calls("79041110009").first?.endTime != nil)
        }
    }

    @Test("a 429 storm (code 1049) delays the calls, loses and doubles nothing", arguments: Backend.available)
    func rateLimitStorm(_ backend: Backend) async throws {
        var options = MoySkladSandbox.Options()
        options.windowUnits = 6
        options.userAuthWeight = 2
        try await MSWorld.with(backend, options: options) { w in
            // Other applications spend the account's window for the next four requests, however loaded the machine.
            w.sandbox.spendWindow(requests: 4)
            let numbers = ["79041110001", "79041110002", "79041110003"]
            for n in numbers {
                try await w.player.play(ITooLabsScenarios.missed(client: n, line: MSWorld.line, employee: "anna").steps)
            }
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            #expect(w.state.rejected1049 > 0)
            for n in numbers {
                #expect(w.calls(n).count == 1 && w.counterparties(n).count == 1)
                #expect(w.calls(n).first?.endTime != nil)
            }
            #expect(w.state.tasks.count == numbers.count)
        }
    }

    @Test("a revoked access token is issued again once; a refused password asks to reconnect", arguments: Backend.available)
    func tokenExpiry(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            try await w.play(ITooLabsScenarios.answered(client: "79042220001", line: MSWorld.line, employee: "anna", talk: 5))
            w.sandbox.expireAccessTokens()
            try await w.play(ITooLabsScenarios.answered(client: "79042220002", line: MSWorld.line, employee: "anna", talk: 5))
            #expect(try await w.dead().isEmpty)
            #expect(w.counterparties("79042220002").count == 1)
            #expect(w.state.requests["POST /api/remap/1.2/security/token"] == 2)
            #expect(try await w.sb.credentials.get(tenantId: w.fx.tenant.id, id: w.credential.id)?.status == "ok")
        }
        try await MSWorld.with(backend, password: "wrong") { w in
            try await w.play(ITooLabsScenarios.answered(client: "79042220003", line: MSWorld.line, employee: "anna", talk: 5))
            let dead = try await w.dead()
            #expect(dead.count == 1 && dead.first?.lastError?.contains("МойСклад не принял учётные данные") == true)
            #expect(w.counterparties("79042220003").isEmpty)
            #expect(try await w.sb.credentials.get(tenantId: w.fx.tenant.id, id: w.credential.id)?.status == "reconnect")
        }
    }

    @Test("personal manager: routing answers with the counterparty's owner; an owner changed in MoySklad reaches routing by webhook",
          arguments: Backend.available)
    func personalManager(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            // Saving the integration subscribes to counterparty changes, once however often it is saved.
            await w.sb.integrationSaved(w.integration)
            await w.sb.integrationSaved(w.integration)
            let address = try #require((w.sb.connectors[.moysklad]?.context as? MSConnector)?.eventsURL(w.credential))
            #expect(w.state.webhooks.map(\.url) == [address] && w.state.webhooks.first?.entityType == "counterparty")
            var r = try await w.player.askContact(phone: MSWorld.olga)
            #expect(try JSON.decode([String: String].self, from: r.body)["responsible"] == "boris")
            let unknown = try await w.player.askContact(phone: "79990000001")
            #expect(try JSON.decode([String: String].self, from: unknown.body)["responsible"] == nil)
            // A user gives Olga to Anna in MoySklad: the webhook makes every instance forget the cached answer.
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(decompression: .enabled(limit: .none)))
            let owner = ["meta": ["href": "\(w.sandboxURL)/api/remap/1.2/entity/employee/\(MSWorld.ANNA)", "type": "employee",
                                  "mediaType": "application/json"]]
            let put = try await MSClient(base: w.sandboxURL, client: http).remap(.PUT, "/entity/counterparty/\(MSWorld.olgaId)", ["owner": owner])
            try await http.shutdown()
            #expect(put.status == 200)
            try await eventually("the change to reach Switchboard") { w.state.deliveries.contains { $0.url == address && $0.attempts == [200] } }
            r = try await w.player.askContact(phone: MSWorld.olga)
            #expect(try JSON.decode([String: String].self, from: r.body)["responsible"] == "anna")
        }
    }

    @Test("click-to-call: MoySklad's signed post makes the PBX ring the employee, and the call is logged once; a forged one is refused",
          arguments: Backend.available)
    func clickToCall(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            let pbx = SimulatedPBXServer(key: "pbx-key", accounts: [])
            try await withLiveApplication({ pbx.application(logger: testLogger(), onRunning: $0) }) { pbxURL in
                _ = try await w.sb.pbx.update(tenantId: w.fx.tenant.id, id: w.fx.connection.id, name: nil, apiURL: pbxURL,
                                              apiKey: "pbx-key", apiFlavor: nil, routingDeadlineMs: nil, region: nil)
                pbx.player = w.player
                let address = try #require(w.sb.connectors[.moysklad]?.credentialLinks(w.credential)["webhookURL"])
                let web = ScenarioPlayer(baseURL: "", connectionId: "", secret: "")
                let body = Array(#"{"srcNumber":"102","destNumber":"+79162223344","uid":"boris@demo"}"#.utf8)
                let forged = try await web.post(address, body: body, headers: ["Content-Type": "application/json",
                                                                               "Lognex-Content-MD5": String(repeating: "0", count: 32)])
                #expect(forged.status == 401 && forged.body.contains("Lognex-Content-MD5"))
                #expect(pbx.commands.isEmpty)
                let clicked = try await msSteer(w.sandboxURL, "click-to-call",
                                                       ["uid": "boris@demo", "destNumber": "+79162223344", "url": address])
                #expect(clicked["status"] as? Int == 200)
                let make = try #require(pbx.commands.first { $0.cmd == "makeCall" })
                #expect(make.fields["user"] == "boris" && make.fields["phone"] == "79162223344")
                try await eventually("the click-to-call to be logged in MoySklad") { w.calls("79162223344").first?.endTime != nil }
                try await w.settled()
                #expect(w.calls("79162223344").count == 1 && w.calls("79162223344").first?.isIncoming == false)
            }
        }
    }

    @Test("test and users: the account, its employees and their extensions", arguments: Backend.available)
    func checkAndUsers(_ backend: Backend) async throws {
        try await MSWorld.with(backend) { w in
            let api = ScenarioPlayer(baseURL: w.base, connectionId: "", secret: "")
            let auth = ["Authorization": "Bearer \(w.fx.tenant.token)"]
            let test = try await api.post("/api/v1/credentials/\(w.credential.id)/test", body: [], headers: auth)
            #expect(test.status == 200 && test.body.contains("3 employees") && test.body.contains("3 with extensions"))
            let users = try #require(try await w.sb.connectors[.moysklad]?.users?(w.credential))
            #expect(users.count == 3 && users.first { $0.id == MSWorld.BORIS }?.extension_ == "102")
        }
        try await MSWorld.with(backend, login: nil, password: nil) { w in
            #expect(await w.sb.connectors[.moysklad]?.check?(w.credential).message.en.contains("no JSON API access") == true)
        }
    }
}

/// A steering call to the MoySklad sandbox (`/sandbox/…`) through the simulator's plain HTTP poster.
func msSteer(_ base: String, _ path: String, _ body: [String: Any]) async throws -> [String: Any] {
    let player = ScenarioPlayer(baseURL: base, connectionId: "", secret: "")
    let r = try await player.post("/sandbox/" + path, body: Array(try JSONSerialization.data(withJSONObject: body)),
                                  headers: ["Content-Type": "application/json"])
    return (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any] ?? [:]
}
