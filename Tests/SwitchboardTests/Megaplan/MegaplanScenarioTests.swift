import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardPBX
import SwitchboardSandbox
import SwitchboardSimulator
import SwitchboardStorage

/// A tenant wired end to end: PBX simulator → Switchboard → Megaplan sandbox (demo account), connected with the
/// account's login and password.
struct MegaplanWorld {
    let sb: Switchboard
    let sandbox: MegaplanSandbox
    let sandboxURL: String
    let base: String
    let fx: PBXFixture
    let integration: Integration
    let credential: CRMCredential
    let employees: [String: Employee]

    var player: ScenarioPlayer { fx.player(base) }

    /// The demo account's employees: Анна (ext. 101), Борис (ext. 102), Вера (no telephony settings).
    static let ANNA = "1000001", BORIS = "1000002", VERA = "1000003"
    /// The demo account's client Ольга Клиентова (1000100), whose responsible is Борис.
    static let olga = "79165551234", OLGA = "1000100"
    static let line = "74951234567"

    static func settings(_ change: (inout MegaplanSettings) -> Void = { _ in }) -> MegaplanSettings {
        var s = MegaplanSettings()
        s.defaultResponsible = VERA
        s.personalManager = true
        change(&s)
        return s
    }

    static func with(_ backend: Backend, options: MegaplanSandbox.Options? = nil, settings: MegaplanSettings = settings(),
                     workers: Bool = true, pbxProtocol: PBXProtocol = .itoolabs, _ body: (MegaplanWorld) async throws -> Void) async throws {
        var o = MegaplanSandbox.Options()
        o.requestsPerSecond = nil
        let sandbox = MegaplanSandbox(seed: .demo, options: options ?? o)
        try await withLiveApplication({ sandbox.application(logger: testLogger(), onRunning: $0) }) { sandboxURL in
            let storage = try await TestStorage.make(backend)
            var config = storage.config
            config.retryBaseMs = 100
            let sb = try await Switchboard.open(config: config, logger: testLogger())
            do {
                try await withLiveSwitchboard(sb, workers: workers) { base in
                    let fx = try await PBXFixture.make(sb, protocol: pbxProtocol, deadlineMs: 10_000)
                    var employees: [String: Employee] = [:]
                    for (login, ext) in [("anna", "101"), ("boris", "102"), ("vera", "103"), ("ivan", "104")] {
                        employees[login] = try await sb.pbx.upsertEmployee(tenantId: fx.tenant.id, connectionId: fx.connection.id,
                                                                           login: login, extension_: ext, name: login, email: nil,
                                                                           directNumber: nil)
                    }
                    let credential = try await sb.credentials.create(
                        tenantId: fx.tenant.id, crm: .megaplan, name: "Megaplan", baseURL: sandboxURL, authKind: .password,
                        secret: CRMSecret(login: "admin@demo.example", password: "demo-password"))
                    let integration = try await sb.integrations.create(
                        tenantId: fx.tenant.id, crm: .megaplan, name: "Megaplan", credentialId: credential.id,
                        pbxConnectionId: fx.connection.id, active: true,
                        settings: try JSON.decode(JSONValue.self, from: JSON.string(settings)))
                    try await sb.integrations.replaceMappings(tenantId: fx.tenant.id, integrationId: integration.id, [
                        EmployeeMapping(crmUserId: ANNA, crmUserName: "Анна", employeeId: employees["anna"]!.id),
                        EmployeeMapping(crmUserId: BORIS, crmUserName: "Борис", employeeId: employees["boris"]!.id),
                        EmployeeMapping(crmUserId: VERA, crmUserName: "Вера", employeeId: employees["vera"]!.id),
                    ])
                    try await body(MegaplanWorld(sb: sb, sandbox: sandbox, sandboxURL: sandboxURL, base: base, fx: fx,
                                                 integration: integration, credential: credential, employees: employees))
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

    func settled(_ what: String = "the Megaplan jobs to finish") async throws {
        try await eventually(timeout: .seconds(180), what) {
            let jobs = try await sb.queue.list(tenantId: fx.tenant.id, limit: 1000)
            return !jobs.isEmpty && jobs.allSatisfy { $0.state == .done || $0.state == .dead }
        }
    }

    func dead() async throws -> [Job] { try await sb.queue.list(tenantId: fx.tenant.id, state: .dead) }

    /// Plays the first ring, waits for the card to pop up in Megaplan, then plays the rest.
    func playRingingFirst(_ s: SimScenario) async throws {
        try await player.play(Array(s.steps.prefix(1)))
        try await eventually("the call card to pop up in Megaplan") { !sandbox.snapshot().popups.isEmpty }
        try await player.play(Array(s.steps.dropFirst()))
        try await settled()
    }

    var state: MegaplanSandboxSnapshot { sandbox.snapshot() }

    /// Runs a simulated PBX API for the connection's commands; `body` gets it and the web phone's command addresses.
    func withPBX(_ body: (SimulatedPBXServer, [String: String]) async throws -> Void) async throws {
        let pbx = SimulatedPBXServer(key: "pbx-key", accounts: [])
        let links = try #require(sb.connectors[.megaplan]?.credentialLinks(credential))
        var urls: [String: String] = [:]
        for (k, v) in links { urls[String(k.dropLast(3))] = v }
        try await withLiveApplication({ pbx.application(logger: testLogger(), onRunning: $0) }) { pbxURL in
            _ = try await sb.pbx.update(tenantId: fx.tenant.id, id: fx.connection.id, name: nil, apiURL: pbxURL,
                                        apiKey: "pbx-key", apiFlavor: nil, routingDeadlineMs: nil, region: nil)
            try await body(pbx, urls)
        }
    }

    /// The call cards Switchboard made for one of its calls (by the PBX's call id, through Switchboard's call).
    func cards(_ s: SimScenario) async throws -> [MegaplanJSON] {
        guard let call = try await sb.calls.find(connectionId: fx.connection.id, externalId: s.callId) else { return [] }
        return state.list("CallInfo").filter { $0["providerId"]?.string == call.id }
    }

    /// Clients whose phone ends in the same digits.
    func clients(_ phone: String) -> [MegaplanJSON] {
        (state.list("ContractorHuman") + state.list("ContractorCompany")).filter { c in
            (c["contactInfo"]?.array ?? []).contains { ($0["value"]?.string ?? "").filter(\.isNumber).hasSuffix(String(phone.suffix(10))) }
        }
    }

    /// Todos (communications and todos) linked to a call card.
    func todos(card: MegaplanJSON?) -> [MegaplanJSON] {
        guard let id = card?["id"]?.string else { return [] }
        return state.list("Todo").filter { t in (t["relations"]?.array ?? []).contains { $0["contentType"] == "CallInfo" && $0["id"]?.string == id } }
    }

    /// Requests Megaplan received, by "METHOD path" (a path's ids are part of it).
    func requests(_ prefix: String) -> Int { state.requests.filter { $0.key.hasPrefix(prefix) }.values.reduce(0, +) }
}

@Suite("Megaplan end to end: PBX simulator → Switchboard → sandbox")
struct MegaplanScenarioTests {
    @Test("answered, unknown caller: the card pops up for the employee, moves to talking and is finished with the recording; a client for the talker, bound to the call, and a communication of 120 minutes",
          arguments: Backend.available)
    func answeredUnknown(_ backend: Backend) async throws {
        let settings = MegaplanWorld.settings { $0.communication.enabled = true }
        try await MegaplanWorld.with(backend, settings: settings) { w in
            let s = ITooLabsScenarios.answered(client: "79031112233", line: MegaplanWorld.line, employee: "anna", talk: 47)
            try await w.player.play(Array(s.steps.prefix(2)))
            try await eventually("the card to move to talking") {
                w.state.popups.contains { $0.employeeId == MegaplanWorld.ANNA && $0.state == "talking" }
            }
            #expect(w.state.popups.first?.state == "calling" && w.state.popups.first?.employeeId == MegaplanWorld.ANNA)
            try await w.player.play(Array(s.steps.dropFirst(2)))
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let cards = try await w.cards(s)
            #expect(cards.count == 1)
            let card = try #require(cards.first)
            #expect(card["type"] == "in" && card["state"] == "finished")
            #expect(card["toUser"]?["id"]?.string == MegaplanWorld.ANNA)
            #expect(card["recordLinks"]?.array?.first?.string?.hasSuffix(".mp3") == true)
            let client = try #require(w.clients("79031112233").first)
            #expect(w.clients("79031112233").count == 1)
            #expect(client["responsibles"]?.array?.first?["id"]?.string == MegaplanWorld.ANNA)
            #expect(card["fromUser"]?["id"] == client["id"])  // setContractor
            let communication = try #require(w.todos(card: card).first)
            #expect(w.todos(card: card).count == 1)
            #expect(communication["category"]?["masterType"] == "call")
            #expect(communication["responsible"]?["id"]?.string == MegaplanWorld.ANNA)
            let from = try #require(communication["when"]?["from"]?["value"]?.string.flatMap { ISO8601DateFormatter().date(from: $0) })
            let to = try #require(communication["when"]?["to"]?["value"]?.string.flatMap { ISO8601DateFormatter().date(from: $0) })
            #expect(to.timeIntervalSince(from) == 120 * 60)
            #expect((communication["relations"]?.array ?? []).contains { $0["id"] == client["id"] })
            // What the scenario cost: one token, card, talking, finish, client search and creation, binding, category, todo.
            #expect(w.requests("POST /api/v3/auth/access_token") == 1)
            let cardRequests = w.state.requests.filter { $0.key.hasPrefix("POST /api/v3/callInfo") && !$0.key.hasSuffix("/todos") }
            #expect(cardRequests.values.reduce(0, +) == 4)  // create, talking, finish, setContractor
            #expect(w.requests("GET /api/v3/contractor") == 1 && w.requests("POST /api/v3/contractorHuman") == 1)
            #expect(w.requests("POST /api/v3/callInfo/\(card["id"]!.string!)/todos") == 1)
            #expect(w.state.requests.values.reduce(0, +) == 9)
            // The journal shows every request and answer, never the password or a token.
            let secret = try #require(try await w.sb.credentials.secret(tenantId: w.fx.tenant.id, id: w.credential.id))
            var journal = ""
            for job in try await w.sb.queue.list(tenantId: w.fx.tenant.id, limit: 100) {
                for a in try await w.sb.queue.attempts(tenantId: w.fx.tenant.id, jobId: job.id) {
                    for e in a.exchanges { journal += e.request + (e.response ?? "") + (e.note ?? "") }
                }
            }
            #expect(journal.contains("POST /api/v3/contractorHuman") && journal.contains("auth/access_token (password grant)"))
            for hidden in [secret.password, secret.accessToken, secret.refreshToken].compactMap({ $0 }) {
                #expect(!journal.contains(hidden))
            }
        }
    }

    @Test("missed, known caller: the card ends as 'miss', no new client; the todo goes to the default responsible, the process to the client's responsible",
          arguments: Backend.available)
    func missedKnown(_ backend: Backend) async throws {
        let settings = MegaplanWorld.settings {
            $0.todo.enabled = true
            $0.process.enabled = true
            $0.process.programId = "8"
            $0.process.responsible = .client
        }
        try await MegaplanWorld.with(backend, settings: settings) { w in
            let before = w.state.list("ContractorHuman").count
            let s = ITooLabsScenarios.missed(client: MegaplanWorld.olga, line: MegaplanWorld.line, employee: "anna")
            try await w.playRingingFirst(s)
            #expect(try await w.dead().isEmpty)
            let card = try #require(try await w.cards(s).first)
            #expect(card["type"] == "miss" && card["state"] == "finished")
            #expect(card["fromUser"]?["id"]?.string == MegaplanWorld.OLGA)
            #expect(w.state.list("ContractorHuman").count == before)
            let todo = try #require(w.todos(card: card).first)
            #expect(todo["responsible"]?["id"]?.string == MegaplanWorld.VERA && todo["category"]?["masterType"] == "todo")
            let deal = try #require(w.state.list("Deal").first)
            #expect(w.state.list("Deal").count == 1)
            #expect(deal["program"]?["id"] == "8" && deal["manager"]?["id"]?.string == MegaplanWorld.BORIS)
            #expect(deal["contractor"]?["id"]?.string == MegaplanWorld.OLGA)
            // Token, card, client search, finish, binding, category, todo, process: nothing else.
            #expect(w.state.requests.values.reduce(0, +) == 8 && w.requests("POST /api/v3/deal") == 1)
        }
    }

    @Test("transfer: the new client goes to the first or the last talker as set; both cards are finished, the first as talked too",
          arguments: Backend.available, [MegaplanSettings.Talker.first, .last])
    func transfer(_ backend: Backend, _ talker: MegaplanSettings.Talker) async throws {
        try await MegaplanWorld.with(backend, settings: MegaplanWorld.settings { $0.createClient.responsibleTalker = talker }) { w in
            let s = ITooLabsScenarios.blindTransfer(client: "79035556677", line: MegaplanWorld.line, from: "anna", to: "boris", talk: 90)
            // Each phone rings for a while: the first card, then the transfer's, pop up before the call goes on.
            try await w.player.play(Array(s.steps.prefix(1)))
            try await eventually("Anna's card") { w.state.popups.contains { $0.employeeId == MegaplanWorld.ANNA } }
            try await w.player.play(Array(s.steps[1..<4]))
            try await eventually("Boris's card") { w.state.popups.contains { $0.employeeId == MegaplanWorld.BORIS } }
            try await w.player.play(Array(s.steps.dropFirst(4)))
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let expected = talker == .first ? MegaplanWorld.ANNA : MegaplanWorld.BORIS
            #expect(w.clients("79035556677").first?["responsibles"]?.array?.first?["id"]?.string == expected)
            let cards = try await w.cards(s)
            #expect(cards.count == 2 && cards.allSatisfy { $0["state"] == "finished" && $0["type"] == "in" })
            // The recording is on the card of the employee who owns the call.
            let main = try #require(cards.first { $0["toUser"]?["id"]?.string == expected })
            #expect(main["recordLinks"]?.array?.count == 1)
        }
    }

    @Test("outgoing: the dialler's card of type 'out', the new client is theirs; an unanswered outgoing call ends as 'fail'",
          arguments: Backend.available)
    func outgoing(_ backend: Backend) async throws {
        try await MegaplanWorld.with(backend) { w in
            let s = ITooLabsScenarios.outgoing(client: "79039990011", employee: "boris", talk: 25)
            try await w.player.play(s.steps)
            let n = ITooLabsScenarios.outgoingUnanswered(client: "79039990012", employee: "anna")
            try await w.player.play(n.steps)
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let card = try #require(try await w.cards(s).first)
            #expect(card["type"] == "out" && card["fromUser"]?["id"]?.string == MegaplanWorld.BORIS)
            #expect(card["toUser"]?["id"] == w.clients("79039990011").first?["id"])
            #expect(w.clients("79039990011").first?["responsibles"]?.array?.first?["id"]?.string == MegaplanWorld.BORIS)
            #expect(try await w.cards(n).first?["type"] == "fail")
        }
    }

    @Test("filters: another virtual number reaches nothing; a filtered client number gets a card but no client; an unmapped employee's call goes to the history without a popup",
          arguments: Backend.available)
    func filters(_ backend: Backend) async throws {
        let settings = MegaplanWorld.settings {
            $0.lineFilter.enabled = true
            $0.lineFilter.numbers = ["+7 (495) 123-45-67"]
            $0.numberFilter = ["8 903 777-00-00"]
        }
        try await MegaplanWorld.with(backend, settings: settings) { w in
            let other = ITooLabsScenarios.answered(client: "79037770001", line: "74990000000", employee: "anna", talk: 5)
            let filtered = ITooLabsScenarios.answered(client: "79037770000", line: MegaplanWorld.line, employee: "anna", talk: 5)
            let unmapped = ITooLabsScenarios.answered(client: "79037770002", line: MegaplanWorld.line, employee: "ivan", talk: 5)
            for s in [other, filtered, unmapped] { try await w.player.play(s.steps) }
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            #expect(try await w.cards(other).isEmpty && w.clients("79037770001").isEmpty)
            #expect(try await w.cards(filtered).count == 1 && w.clients("79037770000").isEmpty)
            let history = try #require(try await w.cards(unmapped).first)
            #expect(w.state.historyCallIds.contains(history["id"]!.string!))
            #expect(!w.state.popups.contains { $0.callInfoId == history["id"]?.string })
            // Nobody mapped talked: the new client goes to the default responsible.
            #expect(w.clients("79037770002").first?["responsibles"]?.array?.first?["id"]?.string == MegaplanWorld.VERA)
        }
    }

    @Test("extra fields: the virtual number and the line's campaign go into a new client, and with 'update always' into a known one",
          arguments: Backend.available)
    func extraFields(_ backend: Backend) async throws {
        let settings = MegaplanWorld.settings {
            $0.extraFields.enabled = true
            $0.extraFields.updateAlways = true
            $0.extraFields.fields = ["virtualNumber": "Category1000047CustomFieldVirtualnyiNomer",
                                     "utm_source": "Category1000047CustomFieldUtmMetka"]
            $0.extraFields.byLine = ["+7 495 123-45-67": ["utm_source": "yandex"]]
        }
        try await MegaplanWorld.with(backend, settings: settings) { w in
            try await w.player.play(ITooLabsScenarios.answered(client: "79036660001", line: MegaplanWorld.line, employee: "anna", talk: 5).steps)
            try await w.player.play(ITooLabsScenarios.answered(client: MegaplanWorld.olga, line: MegaplanWorld.line, employee: "boris", talk: 5).steps)
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            for phone in ["79036660001", MegaplanWorld.olga] {
                let c = try #require(w.clients(phone).first)
                #expect(c["Category1000047CustomFieldVirtualnyiNomer"]?.string == MegaplanWorld.line)
                #expect(c["Category1000047CustomFieldUtmMetka"] == "yandex")
            }
        }
    }

    @Test("replayed and reordered PBX events make one card, one client and one communication", arguments: Backend.available)
    func replay(_ backend: Backend) async throws {
        try await MegaplanWorld.with(backend, settings: MegaplanWorld.settings { $0.communication.enabled = true }) { w in
            let s = ITooLabsScenarios.answered(client: "79030001122", line: MegaplanWorld.line, employee: "anna", talk: 33)
            try await w.player.play(s.steps)
            try await w.player.play(s.duplicatedAndReordered().steps)
            try await w.player.play(s.steps)
            try await w.settled()
            let cards = try await w.cards(s)
            #expect(cards.count == 1 && w.clients("79030001122").count == 1)
            #expect(w.todos(card: cards.first).count == 1)
        }
    }

    @Test("two calls at once from one unknown number make one client, each call its own card", arguments: Backend.available)
    func concurrentCalls(_ backend: Backend) async throws {
        try await MegaplanWorld.with(backend) { w in
            let (a, b, merged) = ITooLabsScenarios.overlapping(client: "79030003344", line: MegaplanWorld.line)
            try await w.player.play(merged)
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            #expect(w.clients("79030003344").count == 1)
            let cardA = try #require(try await w.cards(a).first), cardB = try #require(try await w.cards(b).first)
            #expect(cardA["type"] == "in" && cardB["type"] == "miss")
            #expect(cardA["fromUser"]?["id"] == cardB["fromUser"]?["id"])
        }
    }

    @Test("Megaplan down for a while, then a token that expired and a 429 storm: every call arrives once, nothing dies",
          arguments: Backend.available)
    func outageTokenAndRateLimit(_ backend: Backend) async throws {
        var options = MegaplanSandbox.Options()
        options.requestsPerSecond = 2
        try await MegaplanWorld.with(backend, options: options, settings: MegaplanWorld.settings { $0.communication.enabled = true }) { w in
            w.sandbox.startOutage(status: 503, requests: 6)
            let first = ITooLabsScenarios.answered(client: "79042220001", line: MegaplanWorld.line, employee: "anna", talk: 5)
            try await w.player.play(first.steps)
            try await w.settled()
            #expect(try await w.cards(first).count == 1 && w.clients("79042220001").count == 1)
            w.sandbox.expireAccessTokens()
            let numbers = ["79042220002", "79042220003", "79042220004"]
            var scenarios: [SimScenario] = []
            for n in numbers {
                let s = ITooLabsScenarios.answered(client: n, line: MegaplanWorld.line, employee: "boris", talk: 5)
                scenarios.append(s)
                try await w.player.play(s.steps)
            }
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            for (n, s) in zip(numbers, scenarios) {
                let cards = try await w.cards(s)
                #expect(cards.count == 1 && cards.first?["state"] == "finished")
                #expect(w.clients(n).count == 1 && w.todos(card: cards.first).count == 1)
            }
            #expect(w.state.rejected429 > 0)
            // One password grant, then one refresh after the expiry (the outage's failed grants aside).
            #expect(w.state.requests["POST /api/v3/auth/access_token", default: 0] >= 2)
            #expect(try await w.sb.credentials.get(tenantId: w.fx.tenant.id, id: w.credential.id)?.status == "ok")
        }
    }

    @Test("personal manager through callRoute; the web phone's do-not-disturb takes the manager out of routing and reaches the PBX",
          arguments: Backend.available)
    func personalManagerAndDND(_ backend: Backend) async throws {
        try await MegaplanWorld.with(backend) { w in
            try await w.withPBX { pbx, urls in
                var r = try await w.player.askContact(phone: MegaplanWorld.olga)
                #expect(try JSON.decode([String: String].self, from: r.body)["responsible"] == "boris")
                let sent = try await steer(w, "webphone/dnd", ["url": .string(urls["dnd"]!), "employeeId": .string(MegaplanWorld.BORIS),
                                                               "enabled": true])
                #expect(sent["status"]?.int == 200)
                #expect(pbx.isDND("boris"))
                r = try await w.player.askContact(phone: MegaplanWorld.olga)
                #expect(try JSON.decode([String: String].self, from: r.body)["responsible"] == nil)
                _ = try await steer(w, "webphone/dnd", ["url": .string(urls["dnd"]!), "employeeId": .string(MegaplanWorld.BORIS),
                                                        "enabled": false])
                #expect(!pbx.isDND("boris"))
                r = try await w.player.askContact(phone: MegaplanWorld.olga)
                #expect(try JSON.decode([String: String].self, from: r.body)["responsible"] == "boris")
            }
        }
    }

    @Test("click-to-call from the web phone rings the employee, then the client; hang-up says what the PBX's API allows; a wrong key is refused",
          arguments: Backend.available)
    func webPhone(_ backend: Backend) async throws {
        try await MegaplanWorld.with(backend) { w in
            try await w.withPBX { pbx, urls in
                pbx.player = w.player
                let clicked = try await steer(w, "webphone/call", ["url": .string(urls["call"]!), "employeeId": .string(MegaplanWorld.ANNA),
                                                                   "phone": "+7 916 222-33-44"])
                #expect(clicked["status"]?.int == 200)
                let make = try #require(pbx.commands.first { $0.cmd == "makeCall" })
                #expect(make.fields["user"] == "anna" && make.fields["phone"] == "79162223344")
                try await eventually("the click-to-call to reach Megaplan as an outgoing call") {
                    w.state.list("CallInfo").contains { $0["type"] == "out" && $0["state"] == "finished" && $0["toPhone"] == "79162223344" }
                }
                try await w.settled()
                // Hang-up: the simulated ITooLabs API has no hang-up command, and the answer says so.
                let s = ITooLabsScenarios.answered(client: "79162223355", line: MegaplanWorld.line, employee: "anna", talk: 5)
                try await w.player.play(Array(s.steps.prefix(2)))
                try await eventually("the card to pop up") { try await !w.cards(s).isEmpty }
                let hung = try await steer(w, "webphone/hangup", ["url": .string(urls["hangup"]!), "employeeId": .string(MegaplanWorld.ANNA),
                                                                  "callInfoId": .string(try await w.cards(s).first!["id"]!.string!)])
                #expect(hung["status"]?.int == 409)
                let refusal = try #require(w.state.sent.last)
                #expect(refusal.kind == "hangup")
                // A forged address.
                let forged = try await steer(w, "webphone/call", ["url": .string(urls["call"]!.replacingOccurrences(of: "/call", with: "x/call")),
                                                                  "employeeId": .string(MegaplanWorld.ANNA), "phone": "79160000000"])
                #expect(forged["status"]?.int == 401)
                try await w.player.play(Array(s.steps.dropFirst(2)))
                try await w.settled()
            }
        }
    }

    @Test("on a PBX speaking Switchboard's own protocol, the web phone's hang-up ends the call at the PBX, and the card is finished",
          arguments: Backend.available)
    func webPhoneHangUpNative(_ backend: Backend) async throws {
        try await MegaplanWorld.with(backend, pbxProtocol: .switchboard) { w in
            try await w.withPBX { pbx, urls in
                pbx.player = w.player
                let s = NativeScenarios.answered(client: "+79162223366", line: "+" + MegaplanWorld.line, employee: "anna", talk: 5)
                try await w.player.play(Array(s.steps.prefix(2)))
                try await eventually("the card to pop up") { try await !w.cards(s).isEmpty }
                let hung = try await steer(w, "webphone/hangup", ["url": .string(urls["hangup"]!), "employeeId": .string(MegaplanWorld.ANNA),
                                                                  "callInfoId": .string(try await w.cards(s).first!["id"]!.string!)])
                #expect(hung["status"]?.int == 200)
                #expect(pbx.commands.last?.cmd == "hangup" && pbx.commands.last?.fields["call_id"] == s.callId)
                let call = try #require(try await w.sb.calls.find(connectionId: w.fx.connection.id, externalId: s.callId))
                try await eventually("the call to end in Switchboard") {
                    try await w.sb.calls.get(tenantId: w.fx.tenant.id, id: call.id)?.isOver == true
                }
                try await w.settled()
                try await eventually("the card to be finished in Megaplan") {
                    try await w.cards(s).allSatisfy { $0["state"]?.string == "finished" }
                }
            }
        }
    }

    @Test("the call journal names everything the Megaplan jobs keep for a call (no kind falls through to a bare 'done')",
          arguments: Backend.available)
    func journalNamesWhatWasMade(_ backend: Backend) async throws {
        let settings = MegaplanWorld.settings {
            $0.communication.enabled = true
            $0.extraFields.enabled = true
            $0.extraFields.updateAlways = true
        }
        try await MegaplanWorld.with(backend, settings: settings) { w in
            let s = ITooLabsScenarios.answered(client: "79031119988", line: MegaplanWorld.line, employee: "anna", talk: 12)
            try await w.player.play(s.steps)
            try await w.settled()
            let call = try #require(try await w.sb.calls.find(connectionId: w.fx.connection.id, externalId: s.callId))
            let kept = try await w.sb.entities.all(integrationId: w.integration.id, scope: call.id).keys
                .filter { !$0.hasSuffix(".intent") && $0 != "caller" }
            #expect(kept.count >= 4)
            let named = try #require(w.sb.connectors[.megaplan]?.madeKinds)
            for kind in kept {
                #expect(named.contains { $0.kind.hasSuffix(".") ? kind.hasPrefix($0.kind) : kind == $0.kind }, "no name for \(kind)")
            }
        }
    }

    @Test("connection test and users: account, employees, extensions from the telephony settings", arguments: Backend.available)
    func checkAndUsers(_ backend: Backend) async throws {
        try await MegaplanWorld.with(backend) { w in
            let web = ScenarioPlayer(baseURL: w.base, connectionId: "", secret: "")
            let auth = ["Authorization": "Bearer \(w.fx.tenant.token)"]
            let test = try await web.post("/api/v1/credentials/\(w.credential.id)/test", body: [], headers: auth)
            #expect(test.status == 200 && test.body.contains("3 employees"))
            let users = try await web.get("/api/v1/credentials/\(w.credential.id)/users", headers: auth)
            let list = try JSON.decode([CRMUserSummary].self, from: users.body)
            #expect(list.count == 3)
            #expect(list.first { $0.id == MegaplanWorld.ANNA }?.extension_ == "101")
            #expect(list.first { $0.id == MegaplanWorld.VERA }?.extension_ == nil)
            #expect(list.first { $0.id == MegaplanWorld.BORIS }?.email == "boris@demo.example")
            // A wrong password, even with working tokens kept: the test proves the password, says so, and marks the credentials.
            var secret = try #require(try await w.sb.credentials.secret(tenantId: w.fx.tenant.id, id: w.credential.id))
            #expect(secret.refreshToken != nil)
            secret.password = "wrong-password"
            _ = try await w.sb.credentials.update(tenantId: w.fx.tenant.id, id: w.credential.id, name: nil, baseURL: nil, secret: secret)
            let bad = try await web.post("/api/v1/credentials/\(w.credential.id)/test", body: [], headers: auth)
            #expect(bad.status == 422 && bad.body.contains("refused the login and password") && !bad.body.contains("wrong-password"))
            #expect(try await w.sb.credentials.get(tenantId: w.fx.tenant.id, id: w.credential.id)?.status == "failed")
        }
    }

    /// Makes the sandbox send what Megaplan's web phone sends; its answer names the status Switchboard gave.
    func steer(_ w: MegaplanWorld, _ path: String, _ body: MegaplanJSON) async throws -> MegaplanJSON {
        let r = try await ScenarioPlayer(baseURL: w.sandboxURL, connectionId: "", secret: "")
            .post("/sandbox/" + path, body: Array(body.data), headers: ["Content-Type": "application/json"])
        return MegaplanJSON.parse(Data(r.body.utf8)) ?? .null
    }
}
