import Foundation
import NIOCore
import NIOHTTP1
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardPBX
import SwitchboardSandbox
import SwitchboardSimulator
import SwitchboardStorage

/// A running Switchboard (HTTP and workers, real storage) with a tenant wired to the amoCRM sandbox and a simulated
/// ITooLabs PBX API: everything the fuzz cases refer to.
struct FuzzWorld {
    let sb: Switchboard
    let base: String
    let ids: FuzzIds
    let client: FuzzClient

    static func with(_ backend: Backend, _ body: (FuzzWorld) async throws -> Void) async throws {
        let sandbox = AmoSandbox(seed: .demo)
        let pbx = SimulatedPBXServer(key: "pbx-api-key", accounts: [PBXAccount(login: "anna", name: "Анна", extension: "101")])
        try await withLiveApplication({ sandbox.application(logger: testLogger(), onRunning: $0) }) { sandboxURL in
            try await withLiveApplication({ pbx.application(logger: testLogger(), onRunning: $0) }) { pbxURL in
                let storage = try await TestStorage.make(backend)
                var config = storage.config
                config.retryBaseMs = 100
                config.connectorSettings["AMOCRM_CLIENT_ID"] = AmoSandboxSeed.demo.client_id
                config.connectorSettings["AMOCRM_CLIENT_SECRET"] = AmoSandboxSeed.demo.client_secret
                let sb = try await Switchboard.open(config: config, logger: testLogger())
                let http = FuzzClient.makeHTTP()
                do {
                    try await withLiveSwitchboard(sb) { base in
                        let client = FuzzClient(base: base, http: http)
                        let ids = try await setUp(sb, client: client, sandboxURL: sandboxURL, pbxURL: pbxURL)
                        try await body(FuzzWorld(sb: sb, base: base, ids: ids, client: client))
                    }
                } catch {
                    try? await http.shutdown()
                    await sb.shutdown()
                    await storage.cleanUp()
                    throw error
                }
                try await http.shutdown()
                await sb.shutdown()
                await storage.cleanUp()
            }
        }
    }

    static func setUp(_ sb: Switchboard, client: FuzzClient, sandboxURL: String, pbxURL: String) async throws -> FuzzIds {
        let tenant = try await TestTenant.make(sb, name: "Fuzz")
        let other = try await TestTenant.make(sb, name: "Other")
        let t = tenant.id
        let (itoolabs, itoolabsSecret) = try await sb.pbx.create(tenantId: t, name: "ITooLabs", protocol: .itoolabs, apiURL: pbxURL,
                                                                 apiKey: "pbx-api-key", routingDeadlineMs: 300)
        let (native, nativeSecret) = try await sb.pbx.create(tenantId: t, name: "Native", protocol: .switchboard, apiURL: nil, apiKey: nil,
                                                             routingDeadlineMs: 300)
        var employees: [String: String] = [:]
        for login in FuzzCorpus.logins {
            employees[login] = try await sb.pbx.upsertEmployee(tenantId: t, connectionId: itoolabs.id, login: login, extension_: nil,
                                                               name: login, email: nil, directNumber: nil).id
        }
        let credential = try await sb.credentials.create(tenantId: t, crm: .amocrm, name: "Sandbox", baseURL: sandboxURL, authKind: .token,
                                                         secret: CRMSecret(token: "demo-long-lived-token"))
        let settings = JSON.string(AmoWorld.settings())
        let integration = try await sb.integrations.create(tenantId: t, crm: .amocrm, name: "amoCRM", credentialId: credential.id,
                                                           pbxConnectionId: itoolabs.id, active: true,
                                                           settings: try JSON.decode(JSONValue.self, from: settings))
        try await sb.integrations.replaceMappings(tenantId: t, integrationId: integration.id, [
            EmployeeMapping(crmUserId: String(AmoWorld.ANNA), crmUserName: "Анна", employeeId: employees["anna"]!),
            EmployeeMapping(crmUserId: String(AmoWorld.BORIS), crmUserName: "Борис", employeeId: employees["boris"]!),
            EmployeeMapping(crmUserId: String(AmoWorld.VERA), crmUserName: "Вера", employeeId: employees["vera"]!),
        ])
        // What the fuzz may change or delete, so the rest stays valid.
        let (spareToken, _) = try await sb.tenants.createToken(tenantId: t, name: "spare")
        let (sparePBX, _) = try await sb.pbx.create(tenantId: t, name: "Spare", protocol: .itoolabs, apiURL: nil, apiKey: nil)
        let spareEmployee = try await sb.pbx.upsertEmployee(tenantId: t, connectionId: sparePBX.id, login: "spare", extension_: "999",
                                                            name: "Spare", email: nil, directNumber: nil)
        let spareCredential = try await sb.credentials.create(tenantId: t, crm: .amocrm, name: "Spare", baseURL: sandboxURL,
                                                              authKind: .token, secret: CRMSecret(token: "demo-long-lived-token"))
        let spareIntegration = try await sb.integrations.create(tenantId: t, crm: .amocrm, name: "Spare", credentialId: credential.id,
                                                                pbxConnectionId: itoolabs.id)
        // Another tenant's records, which this tenant's token must never reach.
        let (foreignPBX, _) = try await sb.pbx.create(tenantId: other.id, name: "B", protocol: .itoolabs, apiURL: nil, apiKey: nil)
        let foreignCredential = try await sb.credentials.create(tenantId: other.id, crm: .amocrm, name: "B", baseURL: "https://b.amocrm.ru",
                                                                authKind: .token, secret: CRMSecret(token: "b"))
        let foreignIntegration = try await sb.integrations.create(tenantId: other.id, crm: .amocrm, name: "B", credentialId: nil,
                                                                  pbxConnectionId: nil)
        // A job nobody can run (it goes to the dead letters, and can be replayed) and a call.
        let jobId = try #require(try await sb.queue.enqueue(JobSpec(tenantId: t, partitionKey: "fuzz", kind: "fuzz.unknown", payload: "{}")))
        let history = FuzzCorpus.form([("cmd", "history"), ("callid", "fz-setup"), ("status", "Success"), ("type", "in"),
                                       ("phone", "79101234567"), ("user", "anna"), ("duration", "30"),
                                       ("start", CompactUTC.format(Date().addingTimeInterval(-120))), ("crm_token", itoolabsSecret)])
        let reply = try await client.send(FuzzRequest(method: .POST, target: "/pbx/itoolabs/\(itoolabs.id)",
                                                      headers: [("Content-Type", "application/x-www-form-urlencoded")], body: formBody(history)))
        #expect(reply.status == 200, "the setup's call: \(reply.text)")
        let call = try #require(try await sb.calls.find(connectionId: itoolabs.id, externalId: "fz-setup"))
        // The cabinet: a user, a session for the forms and another one the logout form may end.
        let email = "boss@fuzz.test", password = "correct horse battery"
        let user = try await sb.tenants.addUser(tenantId: t, email: email, passwordHash: Passwords.hash(password))
        let sessions = SessionStore(db: sb.db)
        let session = try await sessions.create(user: user)
        let logout = try await sessions.create(user: user)
        return FuzzIds(
            token: tenant.token, otherToken: other.token, itoolabs: itoolabs.id, itoolabsSecret: itoolabsSecret, native: native.id,
            nativeSecret: nativeSecret, sandboxURL: sandboxURL, pbxURL: pbxURL, employees: employees, credential: credential.id,
            integration: integration.id, integrationSettings: settings, webhookKey: sb.amoWebhookKey(integration.id),
            widgetKey: sb.vault.mac(integration.id, purpose: "amocrm-widget"),
            oauthState: OAuthFlow.state(for: spareCredential, vault: sb.vault), jobId: jobId, callId: call.id,
            spareToken: spareToken.id, sparePBX: sparePBX.id, spareEmployee: spareEmployee.id, spareCredential: spareCredential.id,
            spareIntegration: spareIntegration.id, foreignIds: [foreignPBX.id, foreignCredential.id, foreignIntegration.id],
            session: session.id, csrf: session.csrf, logoutSession: logout.id, logoutCsrf: logout.csrf, email: email, password: password)
    }
}

/// What a run found: every case that broke the rules, and how the answers were spread.
struct FuzzReport {
    struct Failure {
        var index: Int
        var name: String
        var mutations: [String]
        var problem: String
        var request: FuzzRequest
        var reply: FuzzReply?
    }

    var failures: [Failure] = []
    var statuses: [Int: Int] = [:]
    /// The 502s of routes that talk to the CRM or the PBX, with their reasons (allowed, but shown).
    var upstream502: [String] = []

    var spread: String {
        statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
    }
}

enum FuzzOracle {
    /// The rules every answer keeps: never 5xx (a 502 naming the CRM's or the PBX's failure is allowed where Switchboard
    /// talks to one on the caller's behalf), never a connection dropped, and a refusal always says why.
    static func problem(_ t: FuzzTemplate, _ reply: FuzzReply) -> String? {
        problem(t, reply, request: nil, ids: nil)
    }

    /// With the request and the world: also that no secret comes back unless the request carried it, and that the
    /// tenant's own token never reads another tenant's records.
    static func problem(_ t: FuzzTemplate, _ reply: FuzzReply, request: FuzzRequest?, ids: FuzzIds?) -> String? {
        if let request, let ids {
            let sent = String(decoding: request.body ?? [], as: UTF8.self) + request.target
            let text = reply.text
            for secret in ["demo-long-lived-token", "pbx-api-key", ids.itoolabsSecret, ids.nativeSecret, ids.password]
            where text.contains(secret) && !sent.contains(secret) {
                // The setup route and the cabinet's PBX page give a connection's inbound secret to its tenant, by design.
                if secret == ids.itoolabsSecret || secret == ids.nativeSecret,
                   t.name == "GET pbx-connections/{id}/setup" || (t.family == .cabinet && request.target.hasPrefix("/cabinet/pbx")) {
                    continue
                }
                return "the answer carries a secret the request did not (\(secret.prefix(4))…)"
            }
            let ownToken = request.headers.contains { $0.0 == "Authorization" && $0.1 == "Bearer \(ids.token)" }
            if ownToken, (200..<300).contains(reply.status), let foreign = ids.foreignIds.first(where: { text.contains($0) }) {
                return "the tenant's token read another tenant's record \(foreign)"
            }
        }
        if reply.status >= 500 {
            if t.upstream && reply.status == 502 && reply.reason != nil { return nil }
            return "answered \(reply.status)"
        }
        if (400..<500).contains(reply.status) && reply.reason == nil {
            return "answered \(reply.status) without a reason (content-type \(reply.contentType ?? "none"))"
        }
        if (300..<400).contains(reply.status) && t.family != .cabinet && t.family != .oauth {
            return "answered \(reply.status), a redirect"
        }
        return nil
    }
}

@Suite("Fuzz: every webhook and API body, malformed, huge, mistyped, badly signed", .serialized)
struct FuzzTests {
    /// SWITCHBOARD_FUZZ_SEED and SWITCHBOARD_FUZZ_CASES change the run; SWITCHBOARD_FUZZ_CASE replays one case.
    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["SWITCHBOARD_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5B_2026_0008
    }
    static var cases: Int { ProcessInfo.processInfo.environment["SWITCHBOARD_FUZZ_CASES"].flatMap { Int($0) } ?? 2000 }
    static var only: Int? { ProcessInfo.processInfo.environment["SWITCHBOARD_FUZZ_CASE"].flatMap { Int($0) } }

    static func run(_ world: FuzzWorld, seed: UInt64, cases: Range<Int>, concurrency: Int = 4) async -> FuzzReport {
        let templates = FuzzCorpus.all(world.ids)
        let client = world.client
        let ids = world.ids
        var report = FuzzReport()
        await withTaskGroup(of: (Int, FuzzCase, Result<FuzzReply, any Error>).self) { group in
            var next = cases.lowerBound
            func add() {
                guard next < cases.upperBound else { return }
                let index = next
                next += 1
                var rng = FuzzRandom(seed: seed, case: index)
                let (_, make) = rng.pick(templates)
                let fuzzCase = FuzzMutator.make(make(&rng), ids, &rng)
                group.addTask {
                    do { return (index, fuzzCase, .success(try await client.send(fuzzCase.request))) } catch {
                        return (index, fuzzCase, .failure(error))
                    }
                }
            }
            for _ in 0..<concurrency { add() }
            while let (index, c, result) = await group.next() {
                add()
                switch result {
                case .success(let reply):
                    report.statuses[reply.status, default: 0] += 1
                    if reply.status == 502 { report.upstream502.append("\(c.template.name): \(reply.reason ?? "")") }
                    if let problem = FuzzOracle.problem(c.template, reply, request: c.request, ids: ids) {
                        report.failures.append(.init(index: index, name: c.template.name, mutations: c.mutations, problem: problem,
                                                     request: c.request, reply: reply))
                    }
                case .failure(let error):
                    report.statuses[0, default: 0] += 1
                    report.failures.append(.init(index: index, name: c.template.name, mutations: c.mutations,
                                                 problem: "no answer: \(error)", request: c.request, reply: nil))
                }
            }
        }
        return report
    }

    static func record(_ report: FuzzReport, seed: UInt64, backend: Backend) {
        // One report per kind of failure (route and problem), with the first case that shows it.
        var seen = Set<String>()
        for f in report.failures.sorted(by: { $0.index < $1.index }) {
            let kind = f.name + " | " + f.problem
            guard seen.insert(kind).inserted else { continue }
            let reply = f.reply.map { "\($0.status) \($0.contentType ?? "") \(FuzzText.shown($0.body, limit: 300))" } ?? "none"
            Issue.record("""
                fuzz (\(backend)) \(f.name): \(f.problem)
                replay: SWITCHBOARD_FUZZ_SEED=\(seed) SWITCHBOARD_FUZZ_CASE=\(f.index)
                mutations: \(f.mutations.joined(separator: "; "))
                request:
                \(f.request.summary)
                reply: \(reply)
                """)
        }
    }

    @Test("seeded random mutations of valid requests to every route: no 5xx, no dropped connection, a reason for every 4xx",
          arguments: Backend.available)
    func randomized(_ backend: Backend) async throws {
        let seed = Self.seed
        try await FuzzWorld.with(backend) { world in
            let range = Self.only.map { $0..<($0 + 1) } ?? 0..<Self.cases
            let report = await Self.run(world, seed: seed, cases: range)
            print("fuzz \(backend): seed \(seed), \(range.count) cases; answers \(report.spread); failures \(report.failures.count)")
            for line in Set(report.upstream502) { print("fuzz \(backend): upstream 502 \(line)") }
            Self.record(report, seed: seed, backend: backend)
            // Still up, and still answering.
            let health = try await world.client.send(FuzzRequest(method: .GET, target: "/healthz", headers: [], body: nil))
            #expect(health.status == 200)
        }
    }
}

/// Hand-written nasty inputs, each with the answer it must get.
extension FuzzTests {
    struct Nasty {
        var name: String
        var request: FuzzRequest
        var allowed: ClosedRange<Int>
        var says: String? = nil
        var family: FuzzFamily = .api
    }

    static func form(_ fields: [(String, String)]) -> [UInt8] { formBody(fields.map { ($0.0, Array($0.1.utf8)) }) }

    static func nastyCases(_ w: FuzzWorld) -> [Nasty] {
        let ids = w.ids
        let itl = "/pbx/itoolabs/\(ids.itoolabs)"
        let formCT = ("Content-Type", "application/x-www-form-urlencoded")
        let jsonCT = ("Content-Type", "application/json")
        let auth = ("Authorization", "Bearer \(ids.token)")
        let start = CompactUTC.format(Date().addingTimeInterval(-900))
        func history(_ extra: [(String, String)]) -> [UInt8] {
            var f: [(String, String)] = [("cmd", "history"), ("callid", "nasty-h"), ("status", "Success"), ("type", "in"),
                                         ("phone", "79101234567"), ("start", start), ("duration", "60"), ("crm_token", ids.itoolabsSecret)]
            for (k, v) in extra { f.removeAll { $0.0 == k }; f.append((k, v)) }
            return form(f)
        }
        func post(_ path: String, _ headers: [(String, String)], _ body: [UInt8]) -> FuzzRequest {
            FuzzRequest(method: .POST, target: path, headers: headers, body: body)
        }
        func get(_ path: String) -> FuzzRequest { FuzzRequest(method: .GET, target: path, headers: [auth], body: nil) }
        let tenMB = [UInt8](repeating: UInt8(ascii: "a"), count: 10 << 20)
        let deep = Array(String(repeating: "[", count: 100_000).utf8)
        func nativeEvent(_ fields: String) -> [UInt8] {
            Array("""
                {"event_id":"nasty-\(UUID().uuidString)","type":"call.finalized","call_id":"nasty-n",\
                "occurred_at":"\(ISO8601DateFormatter().string(from: Date()))",\(fields)}
                """.utf8)
        }
        func signed(_ path: String, _ body: [UInt8]) -> FuzzRequest {
            post(path, [jsonCT] + FuzzMutator.signatureHeaders(body, secret: ids.nativeSecret, mode: .valid), body)
        }
        let events = "/pbx/events/\(ids.native)", route = "/pbx/route/\(ids.native)"
        let loginHeaders = [formCT, ("Cookie", "sb_login=nonce1")]
        var cases: [Nasty] = [
            // ITooLabs.
            Nasty(name: "history: Int64 overflow duration", request: post(itl, [formCT], history([("duration", "9223372036854775808")])),
                  allowed: 400...400, says: "duration", family: .itoolabs),
            Nasty(name: "history: negative duration", request: post(itl, [formCT], history([("duration", "-5")])),
                  allowed: 400...400, says: "duration -5", family: .itoolabs),
            Nasty(name: "history: huge wait", request: post(itl, [formCT], history([("wait", "99999999999999999999")])),
                  allowed: 400...400, says: "wait", family: .itoolabs),
            Nasty(name: "history JSON: duration as an overflowing number",
                  request: post(itl, [jsonCT], Array("""
                    {"cmd":"history","callid":"nasty-hj","status":"Success","start":"\(start)","duration":9223372036854775808,\
                    "crm_token":"\(ids.itoolabsSecret)"}
                    """.utf8)), allowed: 400...400, says: "duration", family: .itoolabs),
            Nasty(name: "history JSON: duration 1e400",
                  request: post(itl, [jsonCT], Array("""
                    {"cmd":"history","callid":"nasty-hj2","status":"Success","duration":1e400,"crm_token":"\(ids.itoolabsSecret)"}
                    """.utf8)), allowed: 400...400, family: .itoolabs),
            Nasty(name: "rating: Int64 overflow",
                  request: post(itl, [formCT], form([("cmd", "rating"), ("callid", "nasty-r"), ("rating", "9223372036854775808"),
                                                     ("crm_token", ids.itoolabsSecret)])), allowed: 400...400, says: "rating", family: .itoolabs),
            Nasty(name: "event: NUL in callid (form)",
                  request: post(itl, [formCT], form([("cmd", "event"), ("type", "INCOMING"), ("callid", "a\u{0}b"), ("phone", "79101234567"),
                                                     ("user", "anna"), ("crm_token", ids.itoolabsSecret)])), allowed: 400...400, family: .itoolabs),
            Nasty(name: "event: NUL in phone (JSON)",
                  request: post(itl, [jsonCT], Array("""
                    {"cmd":"event","type":"INCOMING","callid":"nasty-nul","phone":"7910\\u0000","user":"anna","crm_token":"\(ids.itoolabsSecret)"}
                    """.utf8)), allowed: 400...400, family: .itoolabs),
            Nasty(name: "event: bytes that are not UTF-8 in form values",
                  request: post(itl, [formCT], Array("cmd=event&type=INCOMING&callid=nasty-%FF%FE&phone=7910%C3%28&user=%C0%AF&crm_token=".utf8)
                                + Array(fuzzEscape(ids.itoolabsSecret).utf8)), allowed: 200...499, family: .itoolabs),
            Nasty(name: "event: raw bytes that are not UTF-8",
                  request: post(itl, [formCT], Array("cmd=event&type=INCOMING&callid=nasty-raw\u{1}".utf8) + [0xFF, 0xFE, 0xC3]
                                + Array("&phone=79101234567&crm_token=".utf8) + Array(fuzzEscape(ids.itoolabsSecret).utf8)),
                  allowed: 200...499, family: .itoolabs),
            Nasty(name: "ITooLabs: 10 MB body", request: post(itl, [formCT], tenMB), allowed: 413...413, family: .itoolabs),
            Nasty(name: "ITooLabs: JSON nested 100 000 deep", request: post(itl, [jsonCT], deep), allowed: 400...400, family: .itoolabs),
            Nasty(name: "ITooLabs: duplicated keys (JSON)",
                  request: post(itl, [jsonCT], Array("""
                    {"cmd":"event","cmd":"contact","phone":"79101234567","callid":"nasty-d","crm_token":"x","crm_token":"\(ids.itoolabsSecret)"}
                    """.utf8)), allowed: 200...499, family: .itoolabs),
            Nasty(name: "ITooLabs: duplicated keys (form)",
                  request: post(itl, [formCT], form([("cmd", "history"), ("cmd", "contact"), ("phone", "79101234567"),
                                                     ("crm_token", ids.itoolabsSecret)])), allowed: 200...299, family: .itoolabs),
            Nasty(name: "ITooLabs: unknown connection", request: post("/pbx/itoolabs/nope", [formCT], history([])),
                  allowed: 404...404, family: .itoolabs),
            Nasty(name: "ITooLabs: a native connection's id", request: post("/pbx/itoolabs/\(ids.native)", [formCT], history([])),
                  allowed: 404...404, family: .itoolabs),
            Nasty(name: "ITooLabs: NUL in the connection id", request: post("/pbx/itoolabs/%00", [formCT], history([])),
                  allowed: 400...404, family: .itoolabs),

            // The native protocol.
            Nasty(name: "native: Int64 overflow sequence",
                  request: signed(events, nativeEvent(#""sequence":9223372036854775808,"final":{"status":"answered"}"#)),
                  allowed: 400...400, family: .native),
            Nasty(name: "native: negative duration",
                  request: signed(events, nativeEvent(#""final":{"status":"answered","duration_sec":-5}"#)),
                  allowed: 400...400, says: "duration -5", family: .native),
            Nasty(name: "native: huge duration",
                  request: signed(events, nativeEvent(#""final":{"status":"answered","duration_sec":9223372036854775807}"#)),
                  allowed: 400...400, says: "duration", family: .native),
            Nasty(name: "native: occurred_at in year 99999",
                  request: signed(events, Array(#"{"event_id":"n-y","type":"call.ended","call_id":"n-y","occurred_at":"99999-01-01T00:00:00Z"}"#.utf8)),
                  allowed: 400...400, family: .native),
            Nasty(name: "native: NUL in event_id and call_id",
                  request: signed(events, Array(#"{"event_id":"a\u0000","type":"call.ended","call_id":"b\u0000","occurred_at":"\#(ISO8601DateFormatter().string(from: Date()))"}"#.utf8)),
                  allowed: 400...400, family: .native),
            Nasty(name: "native: 1001 events", request: signed(events, Array("{\"events\":[".utf8)
                    + Array((0..<1001).map { i in String(decoding: nativeEvent(#""sequence":\#(i),"final":{"status":"answered"}"#), as: UTF8.self) }
                        .joined(separator: ",").utf8) + Array("]}".utf8)),
                  allowed: 413...413, family: .native),
            Nasty(name: "native: 10 MB body", request: signed(events, tenMB), allowed: 413...413, family: .native),
            Nasty(name: "native: nested 100 000 deep", request: signed(events, deep), allowed: 400...400, family: .native),
            Nasty(name: "native: stale signature",
                  request: post(events, [jsonCT] + FuzzMutator.signatureHeaders(nativeEvent(#""final":{"status":"answered"}"#),
                                                                                   secret: ids.nativeSecret, mode: .stale),
                                nativeEvent(#""final":{"status":"answered"}"#)), allowed: 401...401, family: .native),
            Nasty(name: "native route: Int64 overflow deadline",
                  request: signed(route, Array(#"{"client_number":"79101234567","deadline_ms":9223372036854775808}"#.utf8)),
                  allowed: 400...400, family: .native),
            Nasty(name: "native route: negative deadline",
                  request: signed(route, Array(#"{"client_number":"79101234567","deadline_ms":-1}"#.utf8)), allowed: 200...499, family: .native),
            Nasty(name: "native route: NUL in the number",
                  request: signed(route, Array(#"{"client_number":"7910\u0000","call_id":"\u0000"}"#.utf8)), allowed: 200...499, family: .native),

            // The management API.
            Nasty(name: "API: NUL in a name", request: post("/api/v1/pbx-connections", [jsonCT, auth],
                                                            Array(#"{"name":"a\u0000b","protocol":"itoolabs"}"#.utf8)),
                  allowed: 400...422, says: "NUL"),
            Nasty(name: "API: NUL in a key", request: post("/api/v1/tokens", [jsonCT, auth], Array(#"{"name":"ok","\u0000":1}"#.utf8)),
                  allowed: 200...499),
            Nasty(name: "API: 10 MB body", request: post("/api/v1/credentials", [jsonCT, auth], tenMB), allowed: 413...413),
            Nasty(name: "API: Int64 overflow deadline", request: post("/api/v1/pbx-connections", [jsonCT, auth],
                                                                      Array(#"{"name":"x","protocol":"itoolabs","routingDeadlineMs":9223372036854775808}"#.utf8)),
                  allowed: 400...400),
            Nasty(name: "API: settings nested 100 000 deep", request: post("/api/v1/integrations", [jsonCT, auth],
                                                                          Array(#"{"crm":"amocrm","settings":"#.utf8) + deep),
                  allowed: 400...400),
            Nasty(name: "API: duplicated keys", request: post("/api/v1/tokens", [jsonCT, auth], Array(#"{"name":"a","name":"b"}"#.utf8)),
                  allowed: 200...499),
            Nasty(name: "API: job id beyond Int64", request: get("/api/v1/jobs/99999999999999999999"), allowed: 404...404),
            Nasty(name: "API: negative job id", request: get("/api/v1/jobs/-1"), allowed: 404...404),
            Nasty(name: "API: NUL as a path parameter", request: get("/api/v1/credentials/%00"), allowed: 400...404),
            Nasty(name: "API: NUL in a job's path parameter", request: get("/api/v1/calls/a%00b"), allowed: 400...404),
            Nasty(name: "API: limit beyond Int64", request: get("/api/v1/calls?limit=99999999999999999999"), allowed: 400...400, says: "limit"),
            Nasty(name: "API: limit not a number", request: get("/api/v1/jobs?limit=abc"), allowed: 400...400, says: "limit"),
            Nasty(name: "API: an unknown CRM as a filter", request: get("/api/v1/credentials?crm=nope"), allowed: 400...400, says: "crm"),
            Nasty(name: "API: a filter given twice", request: get("/api/v1/jobs?state=dead&state=zombie"), allowed: 400...400, says: "state"),
            Nasty(name: "API: a date that is not one", request: get("/api/v1/calls?from=%FF%FE"), allowed: 400...400, says: "from"),
            Nasty(name: "API: NUL in a query filter", request: get("/api/v1/calls?number=%00&employee=%00"), allowed: 200...499),
            Nasty(name: "API: NUL in the job filter", request: get("/api/v1/jobs?callId=%00"), allowed: 200...499),
            Nasty(name: "API: NUL in the token", request: FuzzRequest(method: .GET, target: "/api/v1/tenant",
                                                                     headers: [("Authorization", "Bearer a%00")], body: nil), allowed: 401...401),

            // amoCRM's webhook, the widget, OAuth.
            Nasty(name: "amo webhook: wrong key", request: post("/webhooks/amocrm/\(ids.integration)/nope", [formCT], form([("a", "b")])),
                  allowed: 401...401, family: .amoWebhook),
            Nasty(name: "amo webhook: 10 MB", request: post("/webhooks/amocrm/\(ids.integration)/\(ids.webhookKey)", [formCT], tenMB),
                  allowed: 413...413, family: .amoWebhook),
            Nasty(name: "amo webhook: NUL and non-UTF-8 fields",
                  request: post("/webhooks/amocrm/\(ids.integration)/\(ids.webhookKey)", [formCT], Array("a%00=%00&%FF=%FE".utf8)),
                  allowed: 200...200, family: .amoWebhook),
            Nasty(name: "widget: Int64 overflow user id",
                  request: post("/integrations/amocrm/\(ids.integration)/click-to-call", [jsonCT],
                                Array(#"{"phone":"79101234567","amo_user_id":9223372036854775808,"key":"\#(ids.widgetKey)"}"#.utf8)),
                  allowed: 400...400, family: .widget),
            Nasty(name: "OAuth: a made-up code with a valid state",
                  request: FuzzRequest(method: .GET, target: "/oauth/amocrm/callback?code=made-up&state=\(fuzzEscape(ids.oauthState))",
                                       headers: [], body: nil), allowed: 400...400, says: "did not accept", family: .oauth),
            Nasty(name: "OAuth: NUL in the state", request: FuzzRequest(method: .GET, target: "/oauth/amocrm/callback?code=x&state=%00.%00.%00",
                                                                        headers: [], body: nil), allowed: 400...400, family: .oauth),

            // The cabinet's sign-in.
            Nasty(name: "sign-in without CSRF", request: post("/cabinet/login", [formCT], form([("email", ids.email), ("password", ids.password)])),
                  allowed: 403...403, family: .cabinet),
            Nasty(name: "sign-in: NUL in the e-mail", request: post("/cabinet/login", loginHeaders,
                                                                   form([("csrf", "nonce1"), ("email", "a\u{0}@x.ru"), ("password", "x")])),
                  allowed: 400...499, family: .cabinet),
            Nasty(name: "sign-in: 100 kB e-mail", request: post("/cabinet/login", loginHeaders,
                                                               form([("csrf", "nonce1"), ("email", String(repeating: "e", count: 100_000)),
                                                                     ("password", "x")])), allowed: 400...499, family: .cabinet),
            Nasty(name: "sign-in: password not UTF-8", request: post("/cabinet/login", loginHeaders,
                                                                    Array("csrf=nonce1&email=boss%40fuzz.test&password=%FF%FE".utf8)),
                  allowed: 401...401, family: .cabinet),
            Nasty(name: "sign-in: 10 MB", request: post("/cabinet/login", loginHeaders, tenMB), allowed: 413...413, family: .cabinet),
            Nasty(name: "cabinet form: NUL in a name", request: post("/cabinet/pbx", [formCT, ("Cookie", "sb_session=\(ids.session)")],
                                                                    form([("csrf", ids.csrf), ("name", "a\u{0}b")])),
                  allowed: 400...499, family: .cabinet),
        ]
        // A signed event sent twice: the second is a duplicate, acknowledged and not stored again.
        let once = nativeEvent(#""final":{"status":"answered"}"#)
        let replay = signed(events, once)
        cases.append(Nasty(name: "native: replayed request (first)", request: replay, allowed: 200...200, says: #""accepted":1"#, family: .native))
        cases.append(Nasty(name: "native: replayed request (again)", request: replay, allowed: 200...200, says: #""duplicates":1"#, family: .native))
        return cases
    }

    @Test("hand-written nasty inputs: overflowing numbers, 10 MB bodies, NUL bytes, deep nesting, duplicated keys, bytes that are not UTF-8, replays",
          arguments: Backend.available)
    func handWritten(_ backend: Backend) async throws {
        try await FuzzWorld.with(backend) { world in
            for c in Self.nastyCases(world) {
                let reply: FuzzReply
                do { reply = try await world.client.send(c.request) } catch {
                    Issue.record("\(c.name): no answer: \(error)")
                    continue
                }
                let template = FuzzTemplate(name: c.name, family: c.family, method: c.request.method, segments: [])
                if let problem = FuzzOracle.problem(template, reply) {
                    Issue.record("\(c.name): \(problem): \(FuzzText.shown(reply.body, limit: 300))")
                }
                #expect(c.allowed.contains(reply.status), "\(c.name): \(reply.status) \(FuzzText.shown(reply.body, limit: 300))")
                if let says = c.says {
                    #expect(reply.text.contains(says), "\(c.name): \(FuzzText.shown(reply.body, limit: 300))")
                }
            }
            // Bytes that are not UTF-8, and NUL, in the request line itself.
            let port = try #require(Int(world.base.split(separator: ":").last ?? ""))
            for path in [[0xFF, 0xFE], [0x25, 0x30, 0x30], [0xC3, 0x28]] as [[UInt8]] {
                let head = Array("GET /api/v1/credentials/".utf8) + path
                    + Array(" HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(world.ids.token)\r\nConnection: close\r\n\r\n".utf8)
                let status = try await Self.rawStatus(port: port, head)
                #expect((400..<500).contains(status), "GET with path bytes \(path): \(status)")
            }
            let health = try await world.client.send(FuzzRequest(method: .GET, target: "/healthz", headers: [], body: nil))
            #expect(health.status == 200)
        }
    }

    /// Sends bytes as they are and returns the status of the answer.
    static func rawStatus(port: Int, _ bytes: [UInt8]) async throws -> Int {
        let connection = try await RawConnection.open(port: port)
        defer { Task { await connection.close() } }
        try await connection.channel.writeAndFlush(ByteBuffer(bytes: bytes))
        try await eventually(timeout: .seconds(20), "an answer") { connection.inbox.received.contains("\r\n") || connection.isClosed }
        let line = connection.inbox.received.split(separator: "\r\n").first ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
