import Foundation
import NIOHTTP1
import SwitchboardCore
import SwitchboardPBX

/// Who answers a request and how its refusals look.
enum FuzzFamily: String, CaseIterable, Sendable {
    case api, itoolabs, native, amoWebhook, widget, oauth, cabinet, operations
}

enum FuzzPayload {
    case none
    case json(FJ)
    case form([(String, [UInt8])])
}

enum FuzzAuth {
    case none
    case bearer(String)
    /// The native protocol's HMAC headers, made over the body as finally sent.
    case signed(secret: String)
    case session(String)
    /// The sign-in form's double-submit cookie.
    case loginNonce(String)
}

enum FuzzSegment {
    case lit(String)
    case param(String)
}

/// A valid request, before mutation.
struct FuzzTemplate {
    var name: String
    var family: FuzzFamily
    var method: HTTPMethod
    var segments: [FuzzSegment]
    var query: [(String, String)] = []
    var payload: FuzzPayload = .none
    var contentType: String?
    var auth: FuzzAuth = .none
    /// Talks to the CRM or the PBX on the caller's behalf: a 502 that names the upstream's failure is a fair answer.
    var upstream = false
}

extension JSONValue {
    var fj: FJ {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number: return .lit(stringValue ?? "0")
        case .string(let s): return .str(s)
        case .array(let a): return .arr(a.map(\.fj))
        case .object(let o): return .obj(o.sorted { $0.key < $1.key }.map { ($0.key, $0.value.fj) })
        }
    }
}

/// Everything the valid requests refer to.
struct FuzzIds: Sendable {
    var token: String
    var otherToken: String
    var itoolabs: String
    var itoolabsSecret: String
    var native: String
    var nativeSecret: String
    var sandboxURL: String
    var pbxURL: String
    var employees: [String: String]
    var credential: String
    var integration: String
    var integrationSettings: String
    var webhookKey: String
    var widgetKey: String
    var oauthState: String
    var jobId: Int64
    var callId: String
    var spareToken: String
    var sparePBX: String
    var spareEmployee: String
    var spareCredential: String
    var spareIntegration: String
    var foreignIds: [String]
    var session: String
    var csrf: String
    var logoutSession: String
    var logoutCsrf: String
    var email: String
    var password: String
}

/// The valid requests of every route the fuzzer covers, each with fresh values from the generator.
enum FuzzCorpus {
    static let phones = ["79101234567", "89165551234", "+7 (916) 555-12-34", "74951112233", "79031112233"]
    static let logins = ["anna", "boris", "vera", "ivan"]

    static func itoolabsFields(_ cmd: String, _ ids: FuzzIds, _ rng: inout FuzzRandom) -> [(String, String)] {
        let callId = "fz-\(rng.int(1...40))"
        var f: [(String, String)] = [("cmd", cmd), ("callid", callId), ("crm_token", ids.itoolabsSecret)]
        switch cmd {
        case "event":
            let type = rng.pick(["INCOMING", "OUTGOING", "ACCEPTED", "COMPLETED", "CANCELLED", "TRANSFERRED"])
            f += [("type", type), ("direction", type == "OUTGOING" ? "out" : "in"), ("phone", rng.pick(phones)),
                  ("diversion", "74950000000"), ("user", rng.pick(logins)), ("ext", "10\(rng.int(1...4))")]
            if type == "TRANSFERRED" { f.append(("second_callid", "fz-\(rng.int(41...60))")) }
        case "history":
            let start = Date().addingTimeInterval(-Double(rng.int(700...5000)))
            f += [("type", rng.pick(["in", "out"])), ("status", rng.pick(["Success", "missed", "Busy", "NotAvailable", "NotAllowed", "Cancel"])),
                  ("phone", rng.pick(phones)), ("user", rng.pick(logins)), ("start", CompactUTC.format(start)),
                  ("duration", String(rng.int(0...600))), ("wait", String(rng.int(0...60)))]
            if rng.chance(0.5) { f.append(("link", "https://records.example/\(callId).mp3")) }
        case "contact":
            f += [("phone", rng.pick(phones)), ("diversion", "74950000000")]
        default:  // rating
            f += [("rating", String(rng.int(1...5))), ("user", rng.pick(logins)), ("phone", rng.pick(phones))]
        }
        return f
    }

    static func nativeEvent(_ rng: inout FuzzRandom) -> FJ {
        let kind = rng.pick(["leg.ringing", "leg.answered", "leg.ended", "call.transferred", "call.ended", "call.finalized",
                             "recording.ready", "call.rated"])
        let at = Date().addingTimeInterval(-Double(rng.int(0...600)))
        var e: [(String, FJ)] = [
            ("event_id", .str("ev-\(rng.next() % 1_000_000)")), ("type", .str(kind)), ("call_id", .str("nf-\(rng.int(1...40))")),
            ("occurred_at", .str(ISO8601DateFormatter().string(from: at))), ("sequence", .int(rng.int(0...20))),
            ("direction", .str(rng.pick(["inbound", "outbound"]))), ("client_number", .str(rng.pick(phones))),
            ("line_number", .str("+74950000000")),
            ("employee", .obj([("login", .str(rng.pick(logins))), ("extension", .str("101"))])),
        ]
        switch kind {
        case "call.transferred": e.append(("related_call_id", .str("nf-\(rng.int(41...60))")))
        case "call.finalized":
            e.append(("final", .obj([("status", .str(rng.pick(["answered", "missed", "busy"]))),
                                     ("started_at", .str(ISO8601DateFormatter().string(from: at.addingTimeInterval(-700)))),
                                     ("duration_sec", .int(rng.int(0...600))), ("wait_sec", .int(rng.int(0...60))),
                                     ("employee", .str(rng.pick(logins)))])))
        case "recording.ready": e.append(("recording_url", .str("https://records.example/x.mp3")))
        case "call.rated": e.append(("rating", .int(rng.int(1...5))))
        default: break
        }
        return .obj(e)
    }

    static func json(_ fields: [(String, String)]) -> FJ { .obj(fields.map { ($0.0, .str($0.1)) }) }
    static func form(_ fields: [(String, String)]) -> [(String, [UInt8])] { fields.map { ($0.0, Array($0.1.utf8)) } }

    /// Every template, each a function of the generator (a case picks one, then fills it).
    static func all(_ ids: FuzzIds) -> [(String, (inout FuzzRandom) -> FuzzTemplate)] {
        let api: (String, HTTPMethod, [FuzzSegment], FuzzPayload, Bool) -> FuzzTemplate = { name, method, segments, payload, upstream in
            FuzzTemplate(name: name, family: .api, method: method, segments: [.lit("api/v1")] + segments, payload: payload,
                         contentType: { if case .none = payload { return nil } else { return "application/json" } }(),
                         auth: .bearer(ids.token), upstream: upstream)
        }
        let form = "application/x-www-form-urlencoded"
        var out: [(String, (inout FuzzRandom) -> FuzzTemplate)] = []

        // ITooLabs, form and JSON, every command.
        for cmd in ["event", "history", "contact", "rating"] {
            out.append(("itoolabs \(cmd) form", { rng in
                FuzzTemplate(name: "POST /pbx/itoolabs/{id} cmd=\(cmd) form", family: .itoolabs, method: .POST,
                             segments: [.lit("pbx/itoolabs"), .param(ids.itoolabs)],
                             payload: .form(Self.form(itoolabsFields(cmd, ids, &rng))), contentType: form)
            }))
            out.append(("itoolabs \(cmd) json", { rng in
                FuzzTemplate(name: "POST /pbx/itoolabs/{id} cmd=\(cmd) JSON", family: .itoolabs, method: .POST,
                             segments: [.lit("pbx/itoolabs"), .param(ids.itoolabs)],
                             payload: .json(json(itoolabsFields(cmd, ids, &rng))), contentType: "application/json")
            }))
        }
        // The native protocol: one event, a batch, a routing request.
        out.append(("native event", { rng in
            FuzzTemplate(name: "POST /pbx/events/{id} (one event)", family: .native, method: .POST,
                         segments: [.lit("pbx/events"), .param(ids.native)], payload: .json(nativeEvent(&rng)),
                         contentType: "application/json", auth: .signed(secret: ids.nativeSecret))
        }))
        out.append(("native batch", { rng in
            let events = (0..<rng.int(1...4)).map { _ in nativeEvent(&rng) }
            return FuzzTemplate(name: "POST /pbx/events/{id} (batch)", family: .native, method: .POST,
                                segments: [.lit("pbx/events"), .param(ids.native)], payload: .json(.obj([("events", .arr(events))])),
                                contentType: "application/json", auth: .signed(secret: ids.nativeSecret))
        }))
        out.append(("native route", { rng in
            FuzzTemplate(name: "POST /pbx/route/{id}", family: .native, method: .POST, segments: [.lit("pbx/route"), .param(ids.native)],
                         payload: .json(.obj([("call_id", .str("nr-\(rng.int(1...40))")), ("client_number", .str(rng.pick(phones))),
                                              ("line_number", .str("+74950000000")), ("deadline_ms", .int(rng.int(100...600)))])),
                         contentType: "application/json", auth: .signed(secret: ids.nativeSecret))
        }))
        // amoCRM: the webhook, the widget's click-to-call, the OAuth callback.
        out.append(("amo webhook", { rng in
            FuzzTemplate(name: "POST /webhooks/amocrm/{integration}/{key}", family: .amoWebhook, method: .POST,
                         segments: [.lit("webhooks/amocrm"), .param(ids.integration), .param(ids.webhookKey)],
                         payload: .form(Self.form([("contacts[update][0][id]", String(rng.int(1...99))),
                                                   ("contacts[update][0][responsible_user_id]", "8001"),
                                                   ("account[subdomain]", "sandbox"), ("account[id]", "1")])),
                         contentType: form)
        }))
        out.append(("widget click-to-call", { rng in
            FuzzTemplate(name: "POST /integrations/amocrm/{id}/click-to-call", family: .widget, method: .POST,
                         segments: [.lit("integrations/amocrm"), .param(ids.integration), .lit("click-to-call")],
                         payload: .json(.obj([("phone", .str(rng.pick(phones))), ("amo_user_id", .int(8001)), ("key", .str(ids.widgetKey))])),
                         contentType: "application/json", upstream: true)
        }))
        out.append(("oauth callback", { rng in
            FuzzTemplate(name: "GET /oauth/amocrm/callback", family: .oauth, method: .GET, segments: [.lit("oauth/amocrm/callback")],
                         query: [("code", "code-\(rng.next() % 1000)"), ("state", ids.oauthState)], upstream: true)
        }))

        // The management API, every route, with a valid token.
        let reads: [(String, [FuzzSegment], [(String, String)], Bool)] = [
            ("GET tenant", [.lit("tenant")], [], false), ("GET tokens", [.lit("tokens")], [], false),
            ("GET users", [.lit("users")], [], false), ("GET pbx-connections", [.lit("pbx-connections")], [], false),
            ("GET pbx-connections/{id}", [.lit("pbx-connections"), .param(ids.itoolabs)], [], false),
            ("GET pbx-connections/{id}/setup", [.lit("pbx-connections"), .param(ids.itoolabs), .lit("setup")], [], false),
            ("GET pbx-connections/{id}/employees", [.lit("pbx-connections"), .param(ids.itoolabs), .lit("employees")], [], false),
            ("GET pbx-connections/{id}/events", [.lit("pbx-connections"), .param(ids.itoolabs), .lit("events")], [], false),
            ("GET pbx-connections/{id}/lines", [.lit("pbx-connections"), .param(ids.itoolabs), .lit("lines")], [], false),
            ("GET pbx-connections/{id}/accounts", [.lit("pbx-connections"), .param(ids.itoolabs), .lit("accounts")], [], true),
            ("GET credentials", [.lit("credentials")], [("crm", "amocrm")], false),
            ("GET credentials/{id}", [.lit("credentials"), .param(ids.credential)], [], false),
            ("GET credentials/{id}/amocrm/users", [.lit("credentials"), .param(ids.credential), .lit("amocrm/users")], [], true),
            ("GET credentials/{id}/amocrm/pipelines", [.lit("credentials"), .param(ids.credential), .lit("amocrm/pipelines")], [], true),
            ("GET integrations", [.lit("integrations")], [], false),
            ("GET integrations/{id}", [.lit("integrations"), .param(ids.integration)], [], false),
            ("GET integrations/{id}/mappings", [.lit("integrations"), .param(ids.integration), .lit("mappings")], [], false),
            ("GET integrations/{id}/amocrm/widget", [.lit("integrations"), .param(ids.integration), .lit("amocrm/widget")], [], false),
            ("GET jobs", [.lit("jobs")], [("state", "dead"), ("limit", "10")], false),
            ("GET jobs/{id}", [.lit("jobs"), .param(String(ids.jobId))], [], false),
            ("GET calls", [.lit("calls")], [("from", "2020-01-01T00:00:00Z"), ("result", "answered"), ("limit", "5")], false),
            ("GET calls/{id}", [.lit("calls"), .param(ids.callId)], [], false),
            ("GET openapi.json", [.lit("openapi.json")], [], false),
        ]
        for (name, segments, query, upstream) in reads {
            out.append((name, { _ in
                var t = api("\(name)", .GET, segments, .none, upstream)
                t.query = query
                return t
            }))
        }
        out.append(("POST tokens", { rng in api("POST tokens", .POST, [.lit("tokens")], .json(.obj([("name", .str("fuzz-\(rng.int(0...99))"))])), false) }))
        out.append(("DELETE tokens/{id}", { _ in api("DELETE tokens/{id}", .DELETE, [.lit("tokens"), .param(ids.spareToken)], .none, false) }))
        out.append(("POST users", { rng in
            api("POST users", .POST, [.lit("users")],
                .json(.obj([("email", .str("u\(rng.next() % 100_000)@fuzz.test")), ("password", .str("long-password-1")),
                            ("locale", .str(rng.pick(["ru", "en"])))])), false)
        }))
        out.append(("POST pbx-connections", { rng in
            api("POST pbx-connections", .POST, [.lit("pbx-connections")],
                .json(.obj([("name", .str("PBX \(rng.int(0...99))")), ("protocol", .str(rng.pick(["itoolabs", "switchboard"]))),
                            ("apiURL", .str(ids.pbxURL)), ("apiKey", .str("pbx-api-key")), ("apiFlavor", .str("legacy")),
                            ("routingDeadlineMs", .int(rng.int(100...10_000))), ("region", .str("RU"))])), false)
        }))
        out.append(("PATCH pbx-connections/{id}", { rng in
            api("PATCH pbx-connections/{id}", .PATCH, [.lit("pbx-connections"), .param(ids.sparePBX)],
                .json(.obj([("name", .str("Spare \(rng.int(0...99))")), ("routingDeadlineMs", .int(rng.int(100...10_000))),
                            ("apiURL", .str(ids.pbxURL)), ("apiKey", .str("pbx-api-key")), ("region", .str("RU"))])), false)
        }))
        out.append(("DELETE pbx-connections/{id}", { _ in
            api("DELETE pbx-connections/{id}", .DELETE, [.lit("pbx-connections"), .param(ids.sparePBX)], .none, false)
        }))
        out.append(("POST pbx-connections/{id}/employees", { rng in
            api("POST pbx-connections/{id}/employees", .POST, [.lit("pbx-connections"), .param(ids.itoolabs), .lit("employees")],
                .json(.obj([("login", .str("emp\(rng.int(0...30))")), ("extension", .str("2\(rng.int(10...99))")), ("name", .str("Сотрудник")),
                            ("email", .str("e@fuzz.test")), ("directNumber", .str("+74951234567")), ("hasSIP", .bool(rng.chance(0.5)))])), false)
        }))
        out.append(("DELETE employees/{id}", { _ in api("DELETE employees/{id}", .DELETE, [.lit("employees"), .param(ids.spareEmployee)], .none, false) }))
        out.append(("POST pbx-connections/{id}/dnd", { rng in
            api("POST pbx-connections/{id}/dnd", .POST, [.lit("pbx-connections"), .param(ids.itoolabs), .lit("dnd")],
                .json(.obj([("employeeId", .str(ids.employees["anna"]!)), ("on", .bool(rng.chance(0.5)))])), true)
        }))
        out.append(("POST calls/originate", { rng in
            api("POST calls/originate", .POST, [.lit("calls/originate")],
                .json(.obj([("employeeId", .str(ids.employees[rng.pick(logins)]!)), ("phone", .str(rng.pick(phones))),
                            ("integrationId", .str(ids.integration))])), true)
        }))
        out.append(("POST credentials", { rng in
            api("POST credentials", .POST, [.lit("credentials")],
                .json(.obj([("crm", .str("amocrm")), ("name", .str("C \(rng.int(0...99))")), ("baseURL", .str(ids.sandboxURL)),
                            ("authKind", .str("token")), ("token", .str("demo-long-lived-token"))])), false)
        }))
        out.append(("PATCH credentials/{id}", { rng in
            api("PATCH credentials/{id}", .PATCH, [.lit("credentials"), .param(ids.spareCredential)],
                .json(.obj([("name", .str("Renamed \(rng.int(0...99))")), ("baseURL", .str(ids.sandboxURL)),
                            ("token", .str("demo-long-lived-token"))])), false)
        }))
        out.append(("DELETE credentials/{id}", { _ in
            api("DELETE credentials/{id}", .DELETE, [.lit("credentials"), .param(ids.spareCredential)], .none, false)
        }))
        out.append(("POST credentials/{id}/test", { _ in
            api("POST credentials/{id}/test", .POST, [.lit("credentials"), .param(ids.credential), .lit("test")], .none, true)
        }))
        out.append(("POST credentials/{id}/oauth", { _ in
            api("POST credentials/{id}/oauth", .POST, [.lit("credentials"), .param(ids.spareCredential), .lit("oauth")], .none, false)
        }))
        let settings = (try? JSON.decode(JSONValue.self, from: ids.integrationSettings))?.fj ?? .obj([])
        out.append(("POST integrations", { rng in
            api("POST integrations", .POST, [.lit("integrations")],
                .json(.obj([("crm", .str("amocrm")), ("name", .str("I \(rng.int(0...99))")), ("credentialId", .str(ids.credential)),
                            ("pbxConnectionId", .str(ids.itoolabs)), ("active", .bool(false)), ("settings", settings)])), false)
        }))
        out.append(("PATCH integrations/{id}", { rng in
            api("PATCH integrations/{id}", .PATCH, [.lit("integrations"), .param(ids.spareIntegration)],
                .json(.obj([("name", .str("Spare \(rng.int(0...99))")), ("active", .bool(rng.chance(0.5))), ("settings", settings),
                            ("credentialId", .str(ids.credential)), ("pbxConnectionId", .str(ids.itoolabs))])), false)
        }))
        out.append(("DELETE integrations/{id}", { _ in
            api("DELETE integrations/{id}", .DELETE, [.lit("integrations"), .param(ids.spareIntegration)], .none, false)
        }))
        out.append(("PUT integrations/{id}/mappings", { rng in
            api("PUT integrations/{id}/mappings", .PUT, [.lit("integrations"), .param(ids.spareIntegration), .lit("mappings")],
                .json(.arr([.obj([("crmUserId", .str("8001")), ("crmUserName", .str("Анна")), ("employeeId", .str(ids.employees["anna"]!)),
                                  ("useForRouting", .bool(rng.chance(0.5)))])])), false)
        }))
        out.append(("POST jobs/{id}/replay", { _ in
            api("POST jobs/{id}/replay", .POST, [.lit("jobs"), .param(String(ids.jobId)), .lit("replay")], .none, false)
        }))
        // Operations.
        for path in ["healthz", "readyz", "metrics"] {
            out.append(("GET /\(path)", { _ in FuzzTemplate(name: "GET /\(path)", family: .operations, method: .GET, segments: [.lit(path)]) }))
        }

        // The cabinet's forms: sign-in (double-submit CSRF) and, signed in, every POST form with the session's CSRF token.
        out.append(("cabinet sign-in", { rng in
            let nonce = "n\(rng.next() % 1_000_000)"
            let good = rng.chance(0.3)
            return FuzzTemplate(name: "POST /cabinet/login", family: .cabinet, method: .POST, segments: [.lit("cabinet/login")],
                                payload: .form(Self.form([("csrf", nonce), ("email", good ? ids.email : "nobody\(rng.int(0...9))@fuzz.test"),
                                                          ("password", good ? ids.password : "wrong")])),
                                contentType: form, auth: .loginNonce(nonce))
        }))
        let cabinetForm: (String, [FuzzSegment], [(String, String)], String, String) -> FuzzTemplate = { name, segments, fields, session, csrf in
            FuzzTemplate(name: name, family: .cabinet, method: .POST, segments: [.lit("cabinet")] + segments,
                         payload: .form(Self.form([("csrf", csrf)] + fields)), contentType: form, auth: .session(session))
        }
        out.append(("cabinet logout", { _ in cabinetForm("POST /cabinet/logout", [.lit("logout")], [], ids.logoutSession, ids.logoutCsrf) }))
        out.append(("cabinet credentials", { rng in
            cabinetForm("POST /cabinet/credentials", [.lit("credentials")],
                        [("name", "C\(rng.int(0...9))"), ("baseURL", ids.sandboxURL), ("authKind", "token"), ("token", "demo-long-lived-token")],
                        ids.session, ids.csrf)
        }))
        out.append(("cabinet credentials/{id}", { rng in
            cabinetForm("POST /cabinet/credentials/{id}", [.lit("credentials"), .param(ids.spareCredential)],
                        [("action", rng.pick(["test", "oauth", "update", "delete"])), ("name", "Renamed"), ("baseURL", ids.sandboxURL),
                         ("token", "demo-long-lived-token")], ids.session, ids.csrf)
        }))
        out.append(("cabinet pbx", { rng in
            cabinetForm("POST /cabinet/pbx", [.lit("pbx")],
                        [("name", "P\(rng.int(0...9))"), ("protocol", rng.pick(["itoolabs", "switchboard"])), ("apiURL", ids.pbxURL),
                         ("apiKey", "pbx-api-key"), ("apiFlavor", "legacy"), ("routingDeadlineMs", String(rng.int(100...10_000)))],
                        ids.session, ids.csrf)
        }))
        out.append(("cabinet pbx/{id}", { rng in
            cabinetForm("POST /cabinet/pbx/{id}", [.lit("pbx"), .param(ids.sparePBX)],
                        [("action", rng.pick(["employee", "import", "update", "delete"])), ("login", "emp\(rng.int(0...9))"),
                         ("extension", "301"), ("employeeName", "Имя"), ("name", "Spare"), ("apiURL", ids.pbxURL), ("apiKey", "pbx-api-key"),
                         ("routingDeadlineMs", "1500")], ids.session, ids.csrf)
        }))
        out.append(("cabinet employees/{id}/delete", { _ in
            cabinetForm("POST /cabinet/employees/{id}/delete", [.lit("employees"), .param(ids.spareEmployee), .lit("delete")], [],
                        ids.session, ids.csrf)
        }))
        out.append(("cabinet integrations", { _ in cabinetForm("POST /cabinet/integrations", [.lit("integrations")], [], ids.session, ids.csrf) }))
        out.append(("cabinet integrations/{id}", { rng in
            cabinetForm("POST /cabinet/integrations/{id}", [.lit("integrations"), .param(ids.spareIntegration)],
                        [("incoming.answeredUnknown.enabled", "1"), ("incoming.answeredUnknown.action", "contactAndDeal"),
                         ("incoming.answeredUnknown.target", "s:7001:70011"), ("incoming.tags", "1"), ("personalManager", "1"),
                         ("defaultResponsibleUserId", "8003"), ("responsibleTalker", rng.pick(["first", "last"])), ("callerId", "+74950001122"),
                         ("active", rng.pick(["0", "1"])), ("map.8001", ids.employees["anna"]!)], ids.session, ids.csrf)
        }))
        out.append(("cabinet jobs/{id}/retry", { _ in
            cabinetForm("POST /cabinet/jobs/{id}/retry", [.lit("jobs"), .param(String(ids.jobId)), .lit("retry")], [], ids.session, ids.csrf)
        }))
        for (name, segments) in [("GET /cabinet", [FuzzSegment]()), ("GET /cabinet/calls", [.lit("calls")]),
                                 ("GET /cabinet/calls/{id}", [.lit("calls"), .param(ids.callId)]),
                                 ("GET /cabinet/integrations/{id}", [.lit("integrations"), .param(ids.integration)]),
                                 ("GET /cabinet/pbx", [.lit("pbx")]), ("GET /cabinet/credentials", [.lit("credentials")])] {
            out.append((name, { _ in
                FuzzTemplate(name: name, family: .cabinet, method: .GET, segments: [.lit("cabinet")] + segments, auth: .session(ids.session))
            }))
        }
        return out
    }
}
