import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardPBX
import SwitchboardSandbox
import SwitchboardSimulator
import SwitchboardStorage

/// A tenant wired end to end: PBX simulator → Switchboard → amoCRM sandbox.
struct AmoWorld {
    let sb: Switchboard
    let sandbox: AmoSandbox
    let sandboxURL: String
    let base: String
    let fx: PBXFixture
    let integration: Integration
    let credential: CRMCredential

    var player: ScenarioPlayer { fx.player(base) }

    static let P = 7_001, STAGE = 70_011, SERVICE = 7_002, SERVICE_STAGE = 70_021
    static let ANNA = 8_001, BORIS = 8_002, VERA = 8_003
    static let olga = "79165551234"  // the sandbox's existing client, managed by Boris

    static func settings(_ change: (inout AmoSettings) -> Void = { _ in }) -> AmoSettings {
        var s = AmoSettings(defaultResponsibleUserId: VERA)
        s.incoming.answeredUnknown = AmoRule(enabled: true, action: .contactAndDeal, pipelineId: P, statusId: STAGE)
        s.incoming.missedUnknown = AmoRule(enabled: true, action: .unsorted, pipelineId: P)
        s.incoming.answeredKnown = AmoRule(enabled: true, action: .deal, pipelineId: P, statusId: STAGE)
        s.incoming.missedKnown = AmoRule(enabled: true, action: .dealAlways, pipelineId: SERVICE, statusId: SERVICE_STAGE)
        s.incoming.tags = true
        s.incoming.taskForAnswerer = true
        s.outgoing.answeredUnknown = AmoRule(enabled: true, action: .contactAndDeal, pipelineId: P, statusId: STAGE)
        s.personalManager = true
        change(&s)
        return s
    }

    /// Runs `body` with everything up: the sandbox, Switchboard (HTTP and workers), a mapped tenant.
    static func with(_ backend: Backend, sandboxOptions: AmoSandbox.Options = .init(), oauth: Bool = false,
                     settings: AmoSettings = settings(), active: Bool = true, workers: Bool = true,
                     _ body: (AmoWorld) async throws -> Void) async throws {
        let sandbox = AmoSandbox(seed: .demo, options: sandboxOptions)
        try await withLiveApplication({ sandbox.application(logger: testLogger(), onRunning: $0) }) { sandboxURL in
            let storage = try await TestStorage.make(backend)
            var config = storage.config
            config.retryBaseMs = 100
            if oauth {
                config.connectorSettings["AMOCRM_CLIENT_ID"] = AmoSandboxSeed.demo.client_id
                config.connectorSettings["AMOCRM_CLIENT_SECRET"] = AmoSandboxSeed.demo.client_secret
            }
            let sb = try await Switchboard.open(config: config, logger: testLogger())
            do {
                try await withLiveSwitchboard(sb, workers: workers) { base in
                    // A generous routing deadline: on a loaded machine the sandbox's answer must not turn into a time-out.
                    let fx = try await PBXFixture.make(sb, deadlineMs: 10_000)
                    var employees: [String: Employee] = [:]
                    for login in ["anna", "boris", "vera", "ivan"] {
                        employees[login] = try await sb.pbx.upsertEmployee(tenantId: fx.tenant.id, connectionId: fx.connection.id,
                                                                           login: login, extension_: nil, name: login, email: nil,
                                                                           directNumber: nil)
                    }
                    let credential = try await sb.credentials.create(
                        tenantId: fx.tenant.id, crm: .amocrm, name: "Sandbox", baseURL: sandboxURL, authKind: oauth ? .oauth : .token,
                        secret: oauth ? CRMSecret() : CRMSecret(token: "demo-long-lived-token"))
                    let integration = try await sb.integrations.create(
                        tenantId: fx.tenant.id, crm: .amocrm, name: "amoCRM", credentialId: credential.id,
                        pbxConnectionId: fx.connection.id, active: active,
                        settings: try JSON.decode(JSONValue.self, from: JSON.string(settings)))
                    try await sb.integrations.replaceMappings(tenantId: fx.tenant.id, integrationId: integration.id, [
                        EmployeeMapping(crmUserId: String(ANNA), crmUserName: "Анна", employeeId: employees["anna"]!.id),
                        EmployeeMapping(crmUserId: String(BORIS), crmUserName: "Борис", employeeId: employees["boris"]!.id),
                        EmployeeMapping(crmUserId: String(VERA), crmUserName: "Вера", employeeId: employees["vera"]!.id),
                    ])
                    try await body(AmoWorld(sb: sb, sandbox: sandbox, sandboxURL: sandboxURL, base: base, fx: fx,
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

    /// Waits until the tenant's jobs have all run (none queued or running).
    func settled(_ what: String = "the CRM jobs to finish") async throws {
        try await eventually(timeout: .seconds(180), what) {
            let jobs = try await sb.queue.list(tenantId: fx.tenant.id, limit: 1000)
            return !jobs.isEmpty && jobs.allSatisfy { $0.state == .done || $0.state == .dead }
        }
    }

    func play(_ s: SimScenario) async throws {
        try await player.play(s)
    }

    func dead() async throws -> [Job] { try await sb.queue.list(tenantId: fx.tenant.id, state: .dead) }
}

@Suite("amoCRM end to end: PBX simulator → Switchboard → sandbox")
struct AmoScenarioTests {
    @Test("answered call from an unknown number: contact + deal with tags, the call with its recording, a task",
          arguments: Backend.available)
    func answeredUnknown(_ backend: Backend) async throws {
        try await AmoWorld.with(backend) { w in
            let s = ITooLabsScenarios.answered(client: "79031112233", employee: "anna", talk: 47)
            // A real phone rings for seconds; the card must reach amoCRM while it rings (CORE-4), so the
            // rest of the call is played once it has (a card for a call already over is rightly skipped).
            try await w.player.play(Array(s.steps.prefix(1)))
            try await eventually("the incoming-call card to reach amoCRM") { !w.sandbox.snapshot().events.isEmpty }
            try await w.player.play(Array(s.steps.dropFirst()))
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let st = w.sandbox.snapshot()
            let contact = try #require(st.contacts.first { $0.phones.contains("+79031112233") })
            #expect(contact.tags == ["+79031112233"])
            #expect(contact.responsible_user_id == AmoWorld.ANNA)
            let lead = try #require(st.leads.first { $0.contact_ids == [contact.id] })
            #expect(lead.pipeline_id == AmoWorld.P && lead.status_id == AmoWorld.STAGE)
            #expect(lead.tags == ["+79031112233"] && lead.responsible_user_id == AmoWorld.ANNA)
            #expect(st.calls.count == 1)
            #expect(st.calls[0].entity_type == "leads" && st.calls[0].entity_id == lead.id)
            #expect(st.calls[0].duration == 47 && st.calls[0].link?.hasSuffix(".mp3") == true && st.calls[0].call_status == 4)
            #expect(st.tasks.count == 1 && st.tasks[0].responsible_user_id == AmoWorld.ANNA && st.tasks[0].entity_id == lead.id)
            #expect(st.events.map(\.users) == [[AmoWorld.ANNA]])  // the card for Anna while her phone rang (CORE-4)
            #expect(st.unsorted.isEmpty)
            // One request makes the contact and the deal together.
            #expect(st.requests["POST /api/v4/leads/complex"] == 1 && st.requests["POST /api/v4/contacts"] == nil)
            // The journal has the plan's reasons and every request with its answer.
            let call = try #require(try await w.sb.calls.find(connectionId: w.fx.connection.id, externalId: s.callId))
            let finished = try #require(try await w.sb.queue.list(tenantId: w.fx.tenant.id, callId: call.id)
                .first { $0.kind == CallJobKind.finished(.amocrm) })
            let attempts = try await w.sb.queue.attempts(tenantId: w.fx.tenant.id, jobId: finished.id)
            #expect(attempts.last?.exchanges.contains { $0.note?.contains("create a contact and a deal") == true } == true)
            // The plan is listed, a line per step, before its first request.
            let exchanges = attempts.last?.exchanges ?? []
            let planned = exchanges.compactMap(\.note).filter { $0.hasPrefix("plan: ") }
            #expect(planned.count == 3 && planned.first?.hasPrefix("plan: create a contact and a deal in pipeline") == true)
            #expect(planned.contains("plan: log the call, made by \(AmoWorld.ANNA), with its recording"))
            let firstPlan = exchanges.firstIndex { $0.note?.hasPrefix("plan: ") == true } ?? .max
            let firstWrite = exchanges.firstIndex { $0.request.hasPrefix("POST ") } ?? -1
            #expect(firstPlan < firstWrite)
            #expect(attempts.last?.exchanges.contains { $0.request.hasPrefix("POST /api/v4/calls") && $0.status == 200 } == true)
            #expect(!(attempts.last?.exchanges.contains { $0.request.contains("demo-long-lived-token") } ?? true))
        }
    }

    @Test("missed call from an unknown number → Unsorted entry with the call; missed existing client → a new deal always",
          arguments: Backend.available)
    func missedCalls(_ backend: Backend) async throws {
        try await AmoWorld.with(backend) { w in
            try await w.play(ITooLabsScenarios.missed(client: "79032223344", employee: "boris"))
            try await w.play(ITooLabsScenarios.missed(client: AmoWorld.olga, employee: "anna"))
            try await w.settled()
            #expect(try await w.dead().isEmpty)
            let st = w.sandbox.snapshot()
            #expect(st.unsorted.count == 1)
            #expect(st.unsorted[0].pipeline_id == AmoWorld.P && st.unsorted[0].metadata["from"] == "+79032223344")
            let olga = try #require(st.contacts.first { $0.id == 5_001 })
            let serviceLeads = st.leads.filter { $0.pipeline_id == AmoWorld.SERVICE }
            #expect(serviceLeads.count == 1 && serviceLeads[0].contact_ids == [olga.id])
            #expect(serviceLeads[0].responsible_user_id == AmoWorld.BORIS)  // missed: the client's own manager
            #expect(st.tasks.isEmpty)  // no task on missed calls
            #expect(st.calls.count == 2)  // one with the Unsorted entry, one for Olga
            #expect(st.calls.contains { $0.entity_type == "leads" && $0.entity_id == serviceLeads[0].id })
        }
    }

    @Test("existing client with an open deal: the deal is reused, the call lands on it", arguments: Backend.available)
    func existingClientOpenDeal(_ backend: Backend) async throws {
        try await AmoWorld.with(backend) { w in
            try await w.play(ITooLabsScenarios.answered(client: AmoWorld.olga, employee: "boris"))
            try await w.settled()
            let firstLead = try #require(w.sandbox.snapshot().leads.first)
            // The second call finds the deal the first made, and reuses it.
            try await w.play(ITooLabsScenarios.answered(client: "8 (916) 555-12-34", employee: "anna"))
            try await w.settled()
            let st = w.sandbox.snapshot()
            #expect(st.leads.count == 1)
            #expect(st.calls.count == 2 && st.calls.allSatisfy { $0.entity_type == "leads" && $0.entity_id == firstLead.id })
            #expect(st.contacts.count == 1)  // no duplicate contact
            #expect(st.tasks.count == 2)
        }
    }

    @Test("outgoing, filtered numbers, a switched-off integration and unmapped employees", arguments: Backend.available)
    func filtersAndSwitches(_ backend: Backend) async throws {
        try await AmoWorld.with(backend, settings: AmoWorld.settings { $0.incoming.filterNumbers = ["+7 903 000-00-00"] }) { w in
            try await w.play(ITooLabsScenarios.outgoing(client: "79034445566", employee: "vera"))
            try await w.play(ITooLabsScenarios.answered(client: "89030000000", employee: "anna"))  // filtered
            try await w.play(ITooLabsScenarios.answered(client: "79035556677", employee: "ivan"))  // ivan is not mapped
            try await w.settled()
            var st = w.sandbox.snapshot()
            let outgoing = try #require(st.contacts.first { $0.phones == ["+79034445566"] })
            #expect(outgoing.responsible_user_id == AmoWorld.VERA)
            #expect(!st.contacts.contains { $0.phones.contains("+79030000000") })
            let ivans = try #require(st.contacts.first { $0.phones == ["+79035556677"] })
            #expect(ivans.responsible_user_id == AmoWorld.VERA)  // the default responsible: the talker is unmapped
            #expect(st.events.allSatisfy { !$0.phone_number.contains("79035556677") })  // no card for an unmapped employee
            #expect(st.tasks.isEmpty)  // outgoing has no task switch on, Anna's call is filtered, Ivan is not mapped

            // Switched off: nothing reaches amoCRM.
            var off = w.integration
            off.active = false
            _ = try await w.sb.integrations.update(off)
            let before = st.contacts.count
            try await w.play(ITooLabsScenarios.answered(client: "79036667788", employee: "anna"))
            try await eventually("the call to be stored") {
                try await w.sb.calls.list(tenantId: w.fx.tenant.id, filter: .init(number: "9036667788")).first?.isOver == true
            }
            st = w.sandbox.snapshot()
            #expect(st.contacts.count == before)
        }
    }

    @Test("amoCRM down for a while: every action arrives after it recovers, in order, once", arguments: Backend.available)
    func outage(_ backend: Backend) async throws {
        try await AmoWorld.with(backend) { w in
            // Counted in requests, not seconds: however slow the machine, the first requests meet the outage.
            w.sandbox.startOutage(status: 503, requests: 8)
            let calls = ["79041110001", "79041110002", "79041110003"]
            for n in calls { try await w.play(ITooLabsScenarios.answered(client: n, employee: "anna")) }
            try await w.settled("the calls to reach amoCRM after the outage")
            #expect(try await w.dead().isEmpty)
            let st = w.sandbox.snapshot()
            #expect(st.contacts.filter { calls.map { "+" + $0 }.contains($0.phones.first ?? "") }.count == 3)
            #expect(st.leads.count == 3 && st.calls.count == 3 && st.tasks.count == 3)
            // In order: the deals were made in the order the calls ended.
            let order = st.leads.sorted { $0.id < $1.id }.compactMap { lead in st.contacts.first { lead.contact_ids.contains($0.id) }?.phones.first }
            #expect(order == calls.map { "+" + $0 })
            let retried = try await w.sb.queue.list(tenantId: w.fx.tenant.id).filter { $0.attempts > 1 }
            #expect(!retried.isEmpty)
        }
    }

    @Test("a 429 storm: Switchboard backs off and every call lands once", arguments: Backend.available)
    func rateLimitStorm(_ backend: Backend) async throws {
        var options = AmoSandbox.Options()
        options.requestsPerSecond = 2  // far below what Switchboard allows itself
        try await AmoWorld.with(backend, sandboxOptions: options) { w in
            // However slow the machine (a slow one spaces requests out by itself), the storm starts with 429s.
            w.sandbox.startOutage(status: 429, requests: 6)
            let numbers = (0..<4).map { "7905111000\($0)" }
            for n in numbers { try await w.play(ITooLabsScenarios.answered(client: n, employee: "boris")) }
            try await w.settled("the calls to land despite the 429s")
            #expect(try await w.dead().isEmpty)
            let st = w.sandbox.snapshot()
            var limited = 0
            for job in try await w.sb.queue.list(tenantId: w.fx.tenant.id) {
                limited += try await w.sb.queue.attempts(tenantId: w.fx.tenant.id, jobId: job.id)
                    .filter { $0.detail?.contains("429") == true }.count
            }
            #expect(limited > 0)
            #expect(st.leads.count == 4 && st.calls.count == 4 && st.tasks.count == 4)
            #expect(Set(st.contacts.flatMap(\.phones)).isSuperset(of: numbers.map { "+" + $0 }))
        }
    }

    @Test("OAuth: connect through the authorization code, tokens expiring mid-run are refreshed", arguments: Backend.available)
    func oauth(_ backend: Backend) async throws {
        var options = AmoSandbox.Options()
        options.accessTokenLifetime = 3600
        try await AmoWorld.with(backend, sandboxOptions: options, oauth: true) { w in
            let client = ScenarioPlayer(baseURL: w.base, connectionId: "", secret: "")
            let headers = ["Authorization": "Bearer \(w.fx.tenant.token)", "Content-Type": "application/json"]
            let start = try await client.post("/api/v1/credentials/\(w.credential.id)/oauth", body: [], headers: headers)
            let url = try JSON.decode([String: String].self, from: start.body)["authorizeURL"] ?? ""
            #expect(url.hasPrefix(w.sandboxURL + "/oauth?"))
            // The tenant approves in amoCRM, which sends the browser back to Switchboard's callback.
            let approve = try await ScenarioPlayer(baseURL: "", connectionId: "", secret: "").get(url)
            #expect(approve.status == 302 || approve.status == 200)
            try await eventually("the credential to be connected") {
                try await w.sb.credentials.get(tenantId: w.fx.tenant.id, id: w.credential.id)?.status == "ok"
            }
            let test = try await client.post("/api/v1/credentials/\(w.credential.id)/test", body: [], headers: headers)
            #expect(test.status == 200 && test.body.contains("connection works, account demo, 3 users"))

            try await w.play(ITooLabsScenarios.answered(client: "79061110001", employee: "anna"))
            try await w.settled()
            w.sandbox.expireAccessTokens()
            try await w.play(ITooLabsScenarios.answered(client: "79061110002", employee: "anna"))
            try await w.play(ITooLabsScenarios.answered(client: "79061110003", employee: "vera"))
            try await w.settled("the calls after the token expired")
            #expect(try await w.dead().isEmpty)
            #expect(w.sandbox.snapshot().leads.count == 3)
            #expect(w.sandbox.snapshot().requests["POST /oauth2/access_token"] ?? 0 >= 2)  // the code, then a refresh
            let secret = try #require(try await w.sb.credentials.secret(tenantId: w.fx.tenant.id, id: w.credential.id))
            #expect(secret.refreshToken?.hasPrefix("sbx-rt-") == true)
        }
    }

    @Test("a revoked long-lived token dead-letters with a reason and marks the credentials for re-connection",
          arguments: Backend.available)
    func revokedToken(_ backend: Backend) async throws {
        try await AmoWorld.with(backend) { w in
            _ = try await w.sb.credentials.update(tenantId: w.fx.tenant.id, id: w.credential.id, name: nil, baseURL: nil,
                                                  secret: CRMSecret(token: "revoked"))
            try await w.play(ITooLabsScenarios.answered(client: "79071110001", employee: "anna"))
            try await w.settled()
            let dead = try await w.dead()
            #expect(dead.contains { $0.lastError?.contains("connect the account again") == true })
            #expect(try await w.sb.credentials.get(tenantId: w.fx.tenant.id, id: w.credential.id)?.status == "reconnect")
            #expect(w.sandbox.snapshot().leads.isEmpty)
        }
    }

    @Test("personal manager: routing answers with the contact's responsible; amoCRM's webhook refreshes it",
          arguments: Backend.available)
    func personalManager(_ backend: Backend) async throws {
        try await AmoWorld.with(backend) { w in
            let api = ScenarioPlayer(baseURL: w.base, connectionId: "", secret: "")
            let auth = ["Authorization": "Bearer \(w.fx.tenant.token)", "Content-Type": "application/json"]
            // Saving the integration (on, with personal-manager forwarding) subscribes Switchboard to contact changes.
            let saved = try await api.request(.PATCH, "/api/v1/integrations/\(w.integration.id)", body: Array(#"{"active":true}"#.utf8),
                                              headers: auth)
            #expect(saved.status == 200)
            #expect(w.sandbox.snapshot().requests["POST /api/v4/webhooks"] == 1)
            var r = try await w.player.askContact(phone: AmoWorld.olga)
            #expect(try JSON.decode([String: String].self, from: r.body)["responsible"] == "boris")
            // In amoCRM, Olga now belongs to Anna; amoCRM tells Switchboard, which forgets the cached answer.
            await w.sandbox.setResponsible(contactId: 5_001, userId: AmoWorld.ANNA)
            r = try await w.player.askContact(phone: AmoWorld.olga)
            #expect(try JSON.decode([String: String].self, from: r.body)["responsible"] == "anna")
            // A webhook with a wrong key is refused.
            let info = try JSON.decode([String: String].self, from: try await api.get(
                "/api/v1/integrations/\(w.integration.id)/amocrm/widget", headers: auth).body)
            let webhookURL = try #require(info["webhookURL"])
            let bad = try await ScenarioPlayer(baseURL: "", connectionId: "", secret: "")
                .post(webhookURL.replacingOccurrences(of: w.integration.id + "/", with: w.integration.id + "/x"), body: [], headers: [:])
            #expect(bad.status == 401)
        }
    }

    @Test("the widget's click-to-call: the employee mapped to the amoCRM user is rung first, with the caller-ID rules",
          arguments: Backend.available)
    func widgetClickToCall(_ backend: Backend) async throws {
        let settings = AmoWorld.settings { $0.clickToCall = ClickToCallSettings(callerId: "+7 495 111-22-33", overrideCallerId: true) }
        try await AmoWorld.with(backend, settings: settings) { w in
            let pbx = SimulatedPBXServer(key: "pbx-key", accounts: [])
            try await withLiveApplication({ pbx.application(logger: testLogger(), onRunning: $0) }) { pbxURL in
                _ = try await w.sb.pbx.update(tenantId: w.fx.tenant.id, id: w.fx.connection.id, name: nil, apiURL: pbxURL,
                                              apiKey: "pbx-key", apiFlavor: nil, routingDeadlineMs: nil, region: nil)
                pbx.player = w.player
                let info = try await ScenarioPlayer(baseURL: w.base, connectionId: "", secret: "")
                    .get("/api/v1/integrations/\(w.integration.id)/amocrm/widget", headers: ["Authorization": "Bearer \(w.fx.tenant.token)"])
                let widget = try JSON.decode([String: String].self, from: info.body)
                let url = try #require(widget["clickToCallURL"]), key = try #require(widget["widgetKey"])
                let web = ScenarioPlayer(baseURL: "", connectionId: "", secret: "")
                let json = ["Content-Type": "application/json"]
                var r = try await web.post(url, body: Array(#"{"phone":"+7 916 222-33-44","amo_user_id":8002,"key":"\#(key)"}"#.utf8), headers: json)
                #expect(r.status == 202)
                let make = try #require(pbx.commands.first { $0.cmd == "makeCall" })
                #expect(make.fields["user"] == "boris" && make.fields["phone"] == "79162223344" && make.fields["clid"] == "74951112233")
                r = try await web.post(url, body: Array(#"{"phone":"+79162223344","amo_user_id":8002,"key":"wrong"}"#.utf8), headers: json)
                #expect(r.status == 401)
                r = try await web.post(url, body: Array(#"{"phone":"+79162223344","amo_user_id":9999,"key":"\#(key)"}"#.utf8), headers: json)
                #expect(r.status == 422 && r.body.contains("not mapped"))
                #expect(pbx.commands.filter { $0.cmd == "makeCall" }.count == 1)
                // The call the PBX starts comes back as an outgoing call and lands in amoCRM.
                try await eventually("the click-to-call to reach amoCRM") {
                    w.sandbox.snapshot().contacts.contains { $0.phones == ["+79162223344"] }
                }
            }
        }
    }

    @Test("what the cabinet needs: connection test, live pipelines and users, settings checked field by field",
          arguments: Backend.available)
    func cabinetAPI(_ backend: Backend) async throws {
        try await AmoWorld.with(backend) { w in
            let api = ScenarioPlayer(baseURL: w.base, connectionId: "", secret: "")
            let auth = ["Authorization": "Bearer \(w.fx.tenant.token)", "Content-Type": "application/json"]
            let test = try await api.post("/api/v1/credentials/\(w.credential.id)/test", body: [], headers: auth)
            #expect(test.status == 200 && test.body.contains("connection works, account demo, 3 users"))
            let pipelines = try JSON.decode([AmoAPI.Pipeline].self, from: try await api.get(
                "/api/v1/credentials/\(w.credential.id)/amocrm/pipelines", headers: auth).body)
            #expect(pipelines.map(\.id) == [AmoWorld.P, AmoWorld.SERVICE])
            #expect(pipelines[0].statuses.contains { $0.id == AmoWorld.STAGE })
            let users = try JSON.decode([AmoAPI.User].self, from: try await api.get(
                "/api/v1/credentials/\(w.credential.id)/amocrm/users", headers: auth).body)
            #expect(users.map(\.id) == [AmoWorld.ANNA, AmoWorld.BORIS, AmoWorld.VERA])

            // A deal action without a stage, and no default responsible: both named, nothing saved.
            let bad = try await api.request(.PATCH, "/api/v1/integrations/\(w.integration.id)", body: Array("""
                {"settings":{"incoming":{"answeredUnknown":{"enabled":true,"action":"contactAndDeal","pipelineId":7001}}}}
                """.utf8), headers: auth)
            #expect(bad.status == 422)
            let problems = try JSON.decode(JSONValue.self, from: bad.body)["error"]?["problems"]
            guard case .array(let items)? = problems else { throw TestFailure("no problems listed: \(bad.body)") }
            #expect(items.compactMap { $0["field"]?.stringValue } == ["settings.defaultResponsibleUserId",
                                                                      "settings.incoming.answeredUnknown.statusId"])
            #expect(try await w.sb.integrations.get(tenantId: w.fx.tenant.id, id: w.integration.id)?.settings == w.integration.settings)

            // A wrong token: the test says why, and the credentials show it.
            _ = try await w.sb.credentials.update(tenantId: w.fx.tenant.id, id: w.credential.id, name: nil, baseURL: nil,
                                                  secret: CRMSecret(token: "wrong"))
            let failed = try await api.post("/api/v1/credentials/\(w.credential.id)/test", body: [], headers: auth)
            #expect(failed.status == 422 && failed.body.contains("401"))
        }
    }

    @Test("the cabinet's amoCRM page: live pipelines and users, every setting, errors next to the field, one Save",
          arguments: Backend.available)
    func cabinetSettingsPage(_ backend: Backend) async throws {
        try await AmoWorld.with(backend, active: false) { w in
            let user = try await w.sb.tenants.addUser(tenantId: w.fx.tenant.id, email: "owner@acme.ru", passwordHash: Passwords.hash("long password"))
            let (session, csrf) = try await SessionStore(db: w.sb.db).create(user: user)
            let web = ScenarioPlayer(baseURL: w.base, connectionId: "", secret: "")
            let cookie = ["Cookie": "sb_session=\(session)"]
            let page = try await web.get("/cabinet/integrations/\(w.integration.id)", headers: cookie)
            #expect(page.status == 200)
            for text in ["Воронка → Первичный контакт", "Анна Смирнова", "Переадресация на персонального менеджера",
                         "Ответственный менеджер по умолчанию в amoCRM", "Интеграция активна", "Создавать сделку всегда",
                         "Фильтровать номера", "title=\"Пока выключено, в amoCRM ничего не отправляется"] {
                #expect(page.body.contains(text), "the page shows \(text)")
            }
            let form = ["Cookie": "sb_session=\(session)", "Content-Type": "application/x-www-form-urlencoded"]
            func encode(_ f: [String: String]) -> [UInt8] { Array(FormURLEncoding.encode(f).utf8) }
            var fields = ["csrf": csrf, "credentialId": w.credential.id,
                          "incoming.answeredUnknown.enabled": "1", "incoming.answeredUnknown.action": "contactAndDeal",
                          "incoming.answeredUnknown.target": "p:\(AmoWorld.P)",
                          "incoming.missedUnknown.action": "unsorted", "incoming.answeredKnown.action": "deal",
                          "incoming.missedKnown.action": "deal", "outgoing.answeredUnknown.action": "contactOnly",
                          "outgoing.missedUnknown.action": "contactOnly", "outgoing.answeredKnown.action": "deal",
                          "outgoing.missedKnown.action": "deal", "incoming.tags": "1", "personalManager": "1",
                          "incoming.filterNumbers": "+7 903 000-00-00\n", "responsibleTalker": "first", "active": "1",
                          "map.\(AmoWorld.ANNA)": "", "defaultResponsibleUserId": ""]
            // A deal without a stage and no default responsible: refused, the messages stand next to their fields.
            var r = try await web.post("/cabinet/integrations/\(w.integration.id)", body: encode(fields), headers: form)
            #expect(r.status == 422)
            #expect(r.body.contains("выберите этап") && r.body.contains("выберите ответственного по умолчанию"))
            #expect(try await w.sb.integrations.get(tenantId: w.fx.tenant.id, id: w.integration.id)?.active == false)
            fields["incoming.answeredUnknown.target"] = "s:\(AmoWorld.P):\(AmoWorld.STAGE)"
            fields["defaultResponsibleUserId"] = String(AmoWorld.VERA)
            r = try await web.post("/cabinet/integrations/\(w.integration.id)", body: encode(fields), headers: form)
            #expect(r.status == 200 && r.body.contains("Сохранено"))
            let saved = try #require(try await w.sb.integrations.get(tenantId: w.fx.tenant.id, id: w.integration.id))
            #expect(saved.active)
            let settings = try JSON.decode(AmoSettings.self, from: JSON.string(saved.settings))
            #expect(settings.incoming.answeredUnknown == AmoRule(enabled: true, action: .contactAndDeal, pipelineId: AmoWorld.P, statusId: AmoWorld.STAGE))
            #expect(settings.incoming.tags && settings.personalManager && settings.responsibleTalker == .first)
            #expect(settings.incoming.filterNumbers == ["+7 903 000-00-00"] && settings.defaultResponsibleUserId == AmoWorld.VERA)
            // Anna's mapping was cleared in the form; the others were not in it and are gone too (the form is the whole truth).
            #expect(try await w.sb.integrations.mappings(tenantId: w.fx.tenant.id, integrationId: w.integration.id).isEmpty)
            // amoCRM unreadable while the page is drawn: what is saved stays selected, so a Save cannot lose it.
            w.sandbox.startOutage(status: 503, requests: 100)
            let offline = try await web.get("/cabinet/integrations/\(w.integration.id)", headers: cookie)
            w.sandbox.endOutage()
            #expect(offline.body.contains("value=\"s:\(AmoWorld.P):\(AmoWorld.STAGE)\" selected"))
            #expect(offline.body.contains("value=\"\(AmoWorld.VERA)\" selected"))
            #expect(offline.body.contains("amoCRM: "))  // and the page says amoCRM could not be read
            // Without the session's CSRF token nothing is saved.
            fields["csrf"] = "forged"
            r = try await web.post("/cabinet/integrations/\(w.integration.id)", body: encode(fields), headers: form)
            #expect(r.status == 403)
        }
    }
}
