import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
@testable import SwitchboardCRM
import SwitchboardPBX
import SwitchboardSandbox
import SwitchboardSimulator
import SwitchboardStorage

/// A tenant wired end to end: PBX simulator → Switchboard → Bitrix24 sandbox, with the Switchboard application
/// installed on the portal the way Bitrix24 installs it (ONAPPINSTALL to the handler address).
struct B24World {
    let sb: Switchboard
    let sandbox: B24Sandbox
    let wire: B24Wire
    let base: String
    let fx: PBXFixture
    let integration: Integration
    let credential: CRMCredential
    let employees: [String: Employee]

    var player: ScenarioPlayer { fx.player(base) }

    static let ANNA = 1, BORIS = 2, VERA = 3
    static let olga = "79165551234"  // the portal's contact 11, managed by Boris
    static let line = "74951234567"

    static func settings(_ change: (inout B24Settings) -> Void = { _ in }) -> B24Settings {
        var s = B24Settings()
        s.incoming.defaultResponsible = VERA
        s.incoming.responsibleTalker = .first
        s.outgoing.defaultResponsible = VERA
        s.incoming.personalManager = true
        change(&s)
        return s
    }

    static func with(_ backend: Backend, options: B24Sandbox.Options = .init(), crmMode: Int = 1,
                     settings: B24Settings = settings(), routingForBoris: Bool = true,
                     _ body: (B24World) async throws -> Void) async throws {
        var seed = B24SandboxSeed.demo
        seed.crm_mode = crmMode
        let sandbox = B24Sandbox(seed: seed, options: options)
        try await withLiveApplication({ sandbox.application(logger: testLogger(), onRunning: $0) }) { sandboxURL in
            let storage = try await TestStorage.make(backend)
            var config = storage.config
            config.retryBaseMs = 100
            config.connectorSettings["BITRIX24_OAUTH_URL"] = sandboxURL
            let sb = try await Switchboard.open(config: config, logger: testLogger())
            do {
                try await withLiveSwitchboard(sb) { base in
                    let fx = try await PBXFixture.make(sb, deadlineMs: 10_000)
                    var employees: [String: Employee] = [:]
                    for login in ["anna", "boris", "vera", "ivan"] {
                        employees[login] = try await sb.pbx.upsertEmployee(tenantId: fx.tenant.id, connectionId: fx.connection.id,
                                                                           login: login, extension_: nil, name: login, email: nil,
                                                                           directNumber: nil)
                    }
                    let credential = try await sb.credentials.create(
                        tenantId: fx.tenant.id, crm: .bitrix24, name: "Portal", baseURL: sandboxURL, authKind: .oauth,
                        secret: CRMSecret(login: seed.client_id, password: seed.client_secret))
                    let wire = B24Wire(base: sandboxURL)
                    let handler = try #require(sb.connectors[.bitrix24]?.credentialLinks(credential)["applicationHandlerURL"])
                    let installed = try await wire.steer("install", ["handler": handler])
                    #expect(installed.json["handler_status"] as? Int == 200)
                    try await eventually("the application's events to be bound") { sandbox.snapshot().handlers.count == B24Connector.boundEvents.count }
                    let integration = try await sb.integrations.create(
                        tenantId: fx.tenant.id, crm: .bitrix24, name: "Bitrix24", credentialId: credential.id,
                        pbxConnectionId: fx.connection.id, active: true,
                        settings: try JSON.decode(JSONValue.self, from: JSON.string(settings)))
                    try await sb.integrations.replaceMappings(tenantId: fx.tenant.id, integrationId: integration.id, [
                        EmployeeMapping(crmUserId: String(ANNA), crmUserName: "Анна", employeeId: employees["anna"]!.id),
                        EmployeeMapping(crmUserId: String(BORIS), crmUserName: "Борис", employeeId: employees["boris"]!.id,
                                        useForRouting: routingForBoris),
                        EmployeeMapping(crmUserId: String(VERA), crmUserName: "Вера", employeeId: employees["vera"]!.id),
                    ])
                    try await body(B24World(sb: sb, sandbox: sandbox, wire: wire, base: base, fx: fx, integration: integration,
                                            credential: credential, employees: employees))
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

    func settled(_ what: String = "the Bitrix24 jobs to finish", timeout: Duration = .seconds(180)) async throws {
        try await eventually(timeout: timeout, what) {
            let jobs = try await sb.queue.list(tenantId: fx.tenant.id, limit: 1000)
            return !jobs.isEmpty && jobs.allSatisfy { $0.state == .done || $0.state == .dead }
        }
    }

    func dead() async throws -> [Job] { try await sb.queue.list(tenantId: fx.tenant.id, state: .dead) }

    /// Plays the first ring, waits for the card to reach Bitrix24, then plays the rest (a phone rings for seconds).
    func playRingingFirst(_ s: SimScenario) async throws {
        try await player.play(Array(s.steps.prefix(1)))
        try await eventually("the call to be registered in Bitrix24") { !sandbox.snapshot().calls.isEmpty }
        try await player.play(Array(s.steps.dropFirst()))
        try await settled()
    }

    /// The sandbox's calls for a phone number (digits).
    func calls(_ phone: String) -> [[String: JSONValue]] {
        sandbox.snapshot().calls.filter { ($0["PHONE_NUMBER"]?.stringValue ?? "").filter(\.isNumber) == phone }
    }

    func leads(_ phone: String) -> [[String: JSONValue]] {
        sandbox.snapshot().leads.filter { B24World.phones($0).contains(phone) }
    }

    static func phones(_ record: [String: JSONValue]) -> [String] {
        guard case .array(let list)? = record["PHONE"] else { return [] }
        return list.compactMap { $0["VALUE"]?.stringValue?.filter(\.isNumber) }
    }
}

extension JSONValue {
    var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .number(let n): return n == n.rounded() ? String(Int(n)) : String(n)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    var intList: [Int] {
        guard case .array(let l) = self else { return [] }
        return l.compactMap { $0.stringValue.flatMap { Int($0) } }
    }
}

@Suite("Bitrix24 end to end: PBX simulator → Switchboard → sandbox")
struct B24ScenarioTests {
    @Test("answered, unknown caller, leads mode, IP telephony: card while ringing, a lead for the talker, the call finished with its recording",
          arguments: Backend.available)
    func answeredUnknownLeads(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            let s = ITooLabsScenarios.answered(client: "79031112233", line: B24World.line, employee: "anna", talk: 47)
            try await w.player.play(Array(s.steps.prefix(1)))
            try await eventually("the card to reach Bitrix24") { !w.calls("79031112233").isEmpty }
            let ringing = try #require(w.calls("79031112233").first)
            #expect(ringing["SHOWN_TO"]?.intList == [B24World.ANNA])
            #expect(ringing["LINE_NUMBER"]?.stringValue == B24World.line && ringing["TYPE"]?.stringValue == "2")
            try await w.player.play(Array(s.steps.dropFirst()))
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let calls = w.calls("79031112233")
            #expect(calls.count == 1)
            let finish = try #require(calls.first?["FINISH"])
            #expect(finish["CALL_FAILED_CODE"]?.stringValue == "200" && finish["CALL_DURATION"]?.stringValue == "47")
            #expect(finish["FINISHED_BY"]?.stringValue == String(B24World.ANNA))
            #expect(calls.first?["RECORD"]?["RECORD_URL"]?.stringValue?.hasSuffix(".mp3") == true)
            let lead = try #require(w.leads("79031112233").first)
            #expect(w.leads("79031112233").count == 1)
            #expect(lead["ASSIGNED_BY_ID"]?.stringValue == String(B24World.ANNA))
            let st = w.sandbox.snapshot()
            #expect(st.lines.contains { $0["NUMBER"]?.stringValue == B24World.line })
            #expect(st.activities.contains { $0["OWNER_ID"]?.stringValue == lead["ID"]?.stringValue && $0["COMPLETED"]?.stringValue == "Y" })
            #expect(st.chat.isEmpty)  // the chat message is off by default
            // Requests this scenario cost: line, register, one batch (finish + record).
            #expect(st.requests["telephony.externalcall.register"] == 1 && st.requests["batch"] == 2)
        }
    }

    @Test("the guide's matrix: answered or missed × known or unknown caller × leads or deals mode — exactly the records it describes, once",
          arguments: Backend.available, [(1, true, false), (1, false, false), (1, true, true), (1, false, true),
                                         (2, true, false), (2, false, false), (2, true, true), (2, false, true)])
    func matrix(_ backend: Backend, _ c: (mode: Int, answered: Bool, known: Bool)) async throws {
        try await B24World.with(backend, crmMode: c.mode) { w in
            let number = c.known ? B24World.olga : "7905\(c.mode)\(c.answered ? 1 : 0)112233"
            let before = w.sandbox.snapshot()
            let s = c.answered ? ITooLabsScenarios.answered(client: number, line: B24World.line, employee: "anna", talk: 21)
                               : ITooLabsScenarios.missed(client: number, line: B24World.line, employee: "anna")
            try await w.playRingingFirst(s)
            #expect(try await w.dead().isEmpty)
            let st = w.sandbox.snapshot()
            let call = try #require(w.calls(number).first)
            #expect(w.calls(number).count == 1)
            let responsible = String(c.answered ? B24World.ANNA : B24World.VERA)
            #expect(call["FINISH"]?["CALL_FAILED_CODE"]?.stringValue == (c.answered ? "200" : "304"))
            #expect(call["FINISH"]?["FINISHED_BY"]?.stringValue == responsible)
            if c.known {
                // Olga's contact: the call lands on it, nothing new is made, her manager stays Boris.
                #expect(call["CRM_ENTITY_TYPE"]?.stringValue == "CONTACT" && call["CRM_ENTITY_ID"]?.stringValue == "11")
                #expect(st.leads.count == before.leads.count && st.contacts.count == before.contacts.count && st.deals.count == before.deals.count)
                #expect(st.contacts.first { $0["ID"]?.stringValue == "11" }?["ASSIGNED_BY_ID"]?.stringValue == String(B24World.BORIS))
            } else if c.mode == 1 {
                // Classic CRM: one lead, the talker's or (missed) the default responsible's.
                #expect(w.leads(number).count == 1 && st.deals.count == before.deals.count)
                #expect(w.leads(number).first?["ASSIGNED_BY_ID"]?.stringValue == responsible)
            } else {
                // Simple CRM: a contact and a deal, no lead.
                #expect(w.leads(number).isEmpty)
                let contact = try #require(st.contacts.first { B24World.phones($0).contains(number) })
                let deals = st.deals.filter { $0["CONTACT_ID"]?.stringValue == contact["ID"]?.stringValue }
                #expect(deals.count == 1 && deals.first?["ASSIGNED_BY_ID"]?.stringValue == responsible)
            }
            // The call activity, answered ones completed, a missed incoming one left open for a call-back.
            let activity = try #require(st.activities.first { $0["SUBJECT"]?.stringValue?.hasSuffix(number) == true
                || ($0["SUBJECT"]?.stringValue ?? "").filter(\.isNumber).hasSuffix(number) })
            #expect(activity["COMPLETED"]?.stringValue == (c.answered ? "Y" : "N"))
        }
    }

    @Test("a queue ringing three employees: a card for each as they ring, closed for the others when the call ends",
          arguments: Backend.available)
    func queue(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            let s = ITooLabsScenarios.queue(client: "79043330011", line: B24World.line, employees: ["anna", "boris", "vera"], talk: 40)
            try await w.player.play(Array(s.steps.prefix(3)))
            try await eventually("every ringing employee to see the card") {
                w.calls("79043330011").first?["SHOWN_TO"]?.intList == [B24World.ANNA, B24World.BORIS, B24World.VERA]
            }
            try await w.player.play(Array(s.steps.dropFirst(3)))
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let call = try #require(w.calls("79043330011").first)
            #expect(call["SHOWN_TO"]?.intList == [] && call["FINISH"]?["FINISHED_BY"]?.stringValue == String(B24World.BORIS))
            let st = w.sandbox.snapshot()
            #expect(st.requests["telephony.externalcall.register"] == 1 && st.requests["telephony.externalcall.show"] == 2)
            #expect(st.requests["telephony.externalcall.hide"] == 1)
        }
    }

    @Test("missed, unknown caller: the lead goes to the default responsible, status 304", arguments: Backend.available)
    func missedUnknown(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            let s = ITooLabsScenarios.missed(client: "79032223344", line: B24World.line, employee: "anna")
            try await w.playRingingFirst(s)
            #expect(try await w.dead().isEmpty)
            let call = try #require(w.calls("79032223344").first)
            #expect(call["FINISH"]?["CALL_FAILED_CODE"]?.stringValue == "304")
            #expect(call["FINISH"]?["FINISHED_BY"]?.stringValue == String(B24World.VERA))
            #expect(call["RECORD"] == nil)
            #expect(w.leads("79032223344").first?["ASSIGNED_BY_ID"]?.stringValue == String(B24World.VERA))
            let activity = try #require(w.sandbox.snapshot().activities.first { $0["DIRECTION"]?.stringValue == "1" })
            #expect(activity["COMPLETED"]?.stringValue == "N")
        }
    }

    @Test("deals mode (simple CRM): an unknown caller gets a contact and a deal, not a lead", arguments: Backend.available)
    func answeredUnknownDeals(_ backend: Backend) async throws {
        try await B24World.with(backend, crmMode: 2) { w in
            try await w.playRingingFirst(ITooLabsScenarios.answered(client: "79047775566", line: B24World.line, employee: "boris", talk: 30))
            #expect(try await w.dead().isEmpty)
            let st = w.sandbox.snapshot()
            #expect(w.leads("79047775566").isEmpty)
            let contact = try #require(st.contacts.first { B24World.phones($0).contains("79047775566") })
            let deal = try #require(st.deals.first { $0["CONTACT_ID"]?.stringValue == contact["ID"]?.stringValue })
            #expect(deal["ASSIGNED_BY_ID"]?.stringValue == String(B24World.BORIS))
        }
    }

    @Test("known caller: nothing new is created; the call lands on the contact", arguments: Backend.available)
    func answeredKnown(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            let before = w.sandbox.snapshot()
            try await w.playRingingFirst(ITooLabsScenarios.answered(client: B24World.olga, line: B24World.line, employee: "anna", talk: 20))
            let st = w.sandbox.snapshot()
            #expect(st.leads.count == before.leads.count && st.contacts.count == before.contacts.count && st.deals.count == before.deals.count)
            let call = try #require(w.calls(B24World.olga).first)
            #expect(call["CRM_ENTITY_TYPE"]?.stringValue == "CONTACT" && call["CRM_ENTITY_ID"]?.stringValue == "11")
            #expect(st.activities.contains { $0["OWNER_TYPE_ID"]?.stringValue == "3" && $0["OWNER_ID"]?.stringValue == "11" })
        }
    }

    @Test("transfer: the new lead goes to the first or the last talker as set", arguments: Backend.available,
          [B24Settings.Talker.first, .last])
    func transfer(_ backend: Backend, _ talker: B24Settings.Talker) async throws {
        try await B24World.with(backend, settings: B24World.settings { $0.incoming.responsibleTalker = talker }) { w in
            let s = ITooLabsScenarios.blindTransfer(client: "79035556677", line: B24World.line, from: "anna", to: "boris", talk: 90)
            try await w.playRingingFirst(s)
            #expect(try await w.dead().isEmpty)
            let expected = talker == .first ? B24World.ANNA : B24World.BORIS
            #expect(w.leads("79035556677").first?["ASSIGNED_BY_ID"]?.stringValue == String(expected))
            let call = try #require(w.calls("79035556677").first)
            #expect(call["FINISH"]?["FINISHED_BY"]?.stringValue == String(expected))
            #expect(call["SHOWN_TO"]?.intList == [])  // both cards are closed
        }
    }

    @Test("WebRTC mode: the call is registered without a card of its own", arguments: Backend.available)
    func webRTC(_ backend: Backend) async throws {
        try await B24World.with(backend, settings: B24World.settings { $0.telephonyMode = .webrtc }) { w in
            let s = ITooLabsScenarios.answered(client: "79036667788", line: B24World.line, employee: "anna", talk: 10)
            try await w.player.play(Array(s.steps.prefix(1)))
            try await eventually("the call to be registered") { !w.calls("79036667788").isEmpty }
            #expect(w.calls("79036667788").first?["SHOWN_TO"]?.intList == [])
            try await w.player.play(Array(s.steps.dropFirst()))
            try await w.settled()
            #expect(w.calls("79036667788").first?["FINISH"]?["CALL_FAILED_CODE"]?.stringValue == "200")
        }
    }

    @Test("CallTracking: the chosen UTM tags of the virtual number reach the new lead; the chat message when on",
          arguments: Backend.available)
    func utmAndChat(_ backend: Backend) async throws {
        let settings = B24World.settings {
            $0.callTracking.enabled = true
            $0.callTracking.tags = ["utm_source", "utm_campaign"]
            $0.callTracking.byLine = ["+7 495 123-45-67": ["utm_source": "yandex", "utm_campaign": "spring", "utm_medium": "cpc"]]
            $0.chatMessage = true
        }
        try await B24World.with(backend, settings: settings) { w in
            try await w.playRingingFirst(ITooLabsScenarios.answered(client: "79037778899", line: B24World.line, employee: "anna", talk: 15))
            #expect(try await w.dead().isEmpty)
            let lead = try #require(w.leads("79037778899").first)
            #expect(lead["UTM_SOURCE"]?.stringValue == "yandex" && lead["UTM_CAMPAIGN"]?.stringValue == "spring")
            let medium = lead["UTM_MEDIUM"]?.stringValue ?? ""
            #expect(medium.isEmpty)  // not among the chosen tags
            let chat = w.sandbox.snapshot().chat
            #expect(chat.count == 1 && chat.first?["USER_ID"]?.stringValue == String(B24World.ANNA))
        }
    }

    @Test("an employee not mapped to a Bitrix24 user: no card, the call goes to the default responsible",
          arguments: Backend.available)
    func unmappedEmployee(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            let s = ITooLabsScenarios.answered(client: "79038889900", line: B24World.line, employee: "ivan", talk: 12)
            try await w.player.play(s.steps)
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let call = try #require(w.calls("79038889900").first)
            #expect(call["FINISH"]?["FINISHED_BY"]?.stringValue == String(B24World.VERA))
            #expect(w.calls("79038889900").count == 1)
        }
    }

    @Test("outgoing: registered as TYPE 1 for the dialler, who becomes responsible for the new lead", arguments: Backend.available)
    func outgoing(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            try await w.player.play(ITooLabsScenarios.outgoing(client: "79039990011", employee: "boris", talk: 25).steps)
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let call = try #require(w.calls("79039990011").first)
            #expect(call["TYPE"]?.stringValue == "1" && call["FINISH"]?["FINISHED_BY"]?.stringValue == String(B24World.BORIS))
            #expect(w.leads("79039990011").first?["ASSIGNED_BY_ID"]?.stringValue == String(B24World.BORIS))
        }
    }

    @Test("replayed and reordered PBX events make one call and one lead in Bitrix24", arguments: Backend.available)
    func replay(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            let s = ITooLabsScenarios.answered(client: "79030001122", line: B24World.line, employee: "anna", talk: 33)
            try await w.player.play(s.steps)
            try await w.player.play(s.steps)
            try await w.settled()
            #expect(w.calls("79030001122").count == 1 && w.leads("79030001122").count == 1)
            #expect(w.sandbox.snapshot().requests["telephony.externalcall.finish"] == 1)
        }
    }

    @Test("a full request bucket (QUERY_LIMIT_EXCEEDED) delays the calls, loses and doubles nothing", arguments: Backend.available)
    func queryLimitStorm(_ backend: Backend) async throws {
        var options = B24Sandbox.Options()
        // Switchboard paces at 2 requests a second less its margin; a bucket draining at 0.5 a second overflows
        // whatever the machine's speed, so the limit is met however late the first request comes.
        options.burst = 3
        options.drainPerSecond = 0.5
        try await B24World.with(backend, options: options) { w in
            // Other applications keep the portal's bucket full for the next five requests, however loaded the machine.
            w.sandbox.exhaustQueryLimit(requests: 5)
            let numbers = ["79041110001", "79041110002", "79041110003"]
            for n in numbers {
                try await w.player.play(ITooLabsScenarios.answered(client: n, line: B24World.line, employee: "anna", talk: 9).steps)
            }
            try await w.settled(timeout: .seconds(240))
            #expect(try await w.dead().isEmpty)
            #expect(w.sandbox.snapshot().rejected_query_limit >= 5)
            for n in numbers {
                #expect(w.calls(n).count == 1 && w.leads(n).count == 1)
                #expect(w.calls(n).first?["FINISH"] != nil)
            }
        }
    }

    @Test("an access token expiring mid-run is renewed once (single-use refresh); revoked access asks to reconnect",
          arguments: Backend.available)
    func tokenExpiry(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            try await w.player.play(ITooLabsScenarios.answered(client: "79042220001", line: B24World.line, employee: "anna", talk: 5).steps)
            try await w.settled()
            w.sandbox.expireAccessTokens()
            try await w.player.play(ITooLabsScenarios.answered(client: "79042220002", line: B24World.line, employee: "anna", talk: 5).steps)
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            #expect(w.calls("79042220002").first?["FINISH"] != nil)
            #expect(w.sandbox.snapshot().requests["oauth/token"] == 1)
            #expect(try await w.sb.credentials.get(tenantId: w.fx.tenant.id, id: w.credential.id)?.status == "ok")

            w.sandbox.revokeTokens()
            try await w.player.play(ITooLabsScenarios.answered(client: "79042220003", line: B24World.line, employee: "anna", talk: 5).steps)
            try await w.settled()
            #expect(w.calls("79042220003").isEmpty)
            #expect(try await w.dead().count >= 1)
            #expect(try await w.sb.credentials.get(tenantId: w.fx.tenant.id, id: w.credential.id)?.status == "reconnect")
        }
    }

    @Test("personal manager: routing answers with the record's responsible, only for users used for lookup; CRM events refresh it",
          arguments: Backend.available)
    func personalManager(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            var r = try await w.player.askContact(phone: B24World.olga)
            #expect(try JSON.decode([String: String].self, from: r.body)["responsible"] == "boris")
            // Olga's deal changes hands in the portal: Bitrix24 posts ONCRMDEALUPDATE... but only contact, company and
            // lead changes are bound; a contact update reaches Switchboard and the cached answer is forgotten.
            _ = try await w.wire.call("crm.contact.update", ["id": 11, "fields": ["ASSIGNED_BY_ID": B24World.ANNA]],
                                      auth: w.sandbox.issueTokens().access)
            try await eventually("the contact update to reach Switchboard") {
                w.sandbox.snapshot().deliveries.contains { $0["event"]?.stringValue == "ONCRMCONTACTUPDATE" && $0["status"]?.stringValue == "200" }
            }
            r = try await w.player.askContact(phone: B24World.olga)
            #expect(try JSON.decode([String: String].self, from: r.body)["responsible"] == "anna")
        }
        try await B24World.with(backend, routingForBoris: false) { w in
            let r = try await w.player.askContact(phone: B24World.olga)
            #expect(try JSON.decode([String: String].self, from: r.body)["responsible"] == nil)
        }
    }

    @Test("click-to-call from Bitrix24: the PBX rings the employee, the call reuses Bitrix24's CALL_ID and is finished there",
          arguments: Backend.available)
    func clickToCall(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            let pbx = SimulatedPBXServer(key: "pbx-key", accounts: [])
            try await withLiveApplication({ pbx.application(logger: testLogger(), onRunning: $0) }) { pbxURL in
                _ = try await w.sb.pbx.update(tenantId: w.fx.tenant.id, id: w.fx.connection.id, name: nil, apiURL: pbxURL,
                                              apiKey: "pbx-key", apiFlavor: nil, routingDeadlineMs: nil, region: nil)
                pbx.player = w.player
                let clicked = try await w.wire.steer("click-to-call", ["user_id": B24World.BORIS, "phone": "+79162223344"])
                let callId = try #require(clicked.json["CALL_ID"] as? String)
                #expect(clicked.json["handler_statuses"] as? [Int] == [200])
                let make = try #require(pbx.commands.first { $0.cmd == "makeCall" })
                #expect(make.fields["user"] == "boris" && make.fields["phone"] == "79162223344")
                try await eventually("the click-to-call to be finished in Bitrix24") {
                    w.sandbox.snapshot().calls.first { $0["CALL_ID"]?.stringValue == callId }?["FINISH"] != nil
                }
                try await w.settled()
                // Never registered a second time.
                #expect(w.calls("79162223344").count == 1)
                #expect(w.sandbox.snapshot().requests["telephony.externalcall.register"] == nil)

                // A visitor orders a callback through a CRM form: the default responsible's phone rings first.
                let callback = try await w.wire.steer("callback-start", ["phone": "+79163334455"])
                #expect(callback.json["handler_statuses"] as? [Int] == [200])
                let second = try #require(pbx.commands.last { $0.cmd == "makeCall" })
                #expect(second.fields["user"] == "vera" && second.fields["phone"] == "79163334455")
            }
        }
    }

    @Test("an event without the application token is refused; an installation for another portal is refused",
          arguments: Backend.available)
    func inboundRefusals(_ backend: Backend) async throws {
        try await B24World.with(backend) { w in
            let handler = try #require(w.sb.connectors[.bitrix24]?.credentialLinks(w.credential)["applicationHandlerURL"])
            let web = ScenarioPlayer(baseURL: "", connectionId: "", secret: "")
            let form = ["Content-Type": "application/x-www-form-urlencoded"]
            var r = try await web.post(handler, body: Array("event=ONEXTERNALCALLSTART&data[USER_ID]=2&data[PHONE_NUMBER]=79160000000&auth[application_token]=forged".utf8),
                                       headers: form)
            #expect(r.status == 401)
            r = try await web.post(handler + "x", body: Array("event=ONAPPINSTALL".utf8), headers: form)
            #expect(r.status == 401)
            r = try await web.post(handler, body: Array("event=ONAPPINSTALL&auth[access_token]=a&auth[refresh_token]=b&auth[application_token]=c&auth[domain]=evil.example".utf8),
                                   headers: form)
            #expect(r.status == 422)
            // The real installation still stands.
            let test = try await ScenarioPlayer(baseURL: w.base, connectionId: "", secret: "")
                .post("/api/v1/credentials/\(w.credential.id)/test", body: [], headers: ["Authorization": "Bearer \(w.fx.tenant.token)"])
            #expect(test.status == 200 && test.body.contains("55 users") && test.body.contains("CRM mode: leads"))
        }
    }
}
