import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Testing
import SwitchboardSandbox

/// A plain HTTP client for the Bitrix24 sandbox, speaking to it as an outside program would.
struct B24Wire {
    let base: String

    struct Reply {
        var status: Int
        var json: [String: Any]
        var result: Any? { json["result"] }
        var error: String? { json["error"] as? String }
        var description: String? { json["error_description"] as? String }
    }

    func send(_ path: String, method: HTTPMethod = .POST, body: String? = nil, contentType: String = "application/json") async throws -> Reply {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer: bytes))) as? [String: Any] ?? [:]
        return Reply(status: Int(response.status.code), json: json)
    }

    /// A REST call with a JSON body and `auth` in it, as the SDKs send.
    func call(_ method: String, _ params: [String: Any] = [:], auth: String?) async throws -> Reply {
        var p = params
        if let auth { p["auth"] = auth }
        let data = try JSONSerialization.data(withJSONObject: p)
        return try await send("/rest/\(method).json", body: String(decoding: data, as: UTF8.self))
    }

    /// A REST call with a PHP-style form body (`fields[TITLE]=…`).
    func form(_ method: String, _ body: String) async throws -> Reply {
        try await send("/rest/\(method)", body: body, contentType: "application/x-www-form-urlencoded")
    }

    func token(_ query: String) async throws -> Reply { try await send("/oauth/token/?" + query, method: .GET) }

    func steer(_ path: String, _ body: [String: Any] = [:]) async throws -> Reply {
        try await send("/sandbox/" + path, body: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
    }

    /// An access token for the installing administrator, through the authorization-code grant.
    func login() async throws -> (access: String, refresh: String) {
        let code = try await steer("code").json["code"] as? String ?? ""
        let seed = B24SandboxSeed.demo
        let r = try await token("grant_type=authorization_code&client_id=\(seed.client_id)&client_secret=\(seed.client_secret)&code=\(code)")
        return (r.json["access_token"] as? String ?? "", r.json["refresh_token"] as? String ?? "")
    }
}

/// Runs the sandbox on a free port for `body`.
func withB24Sandbox(_ options: B24Sandbox.Options = .init(), seed: B24SandboxSeed = .demo,
                    _ body: (B24Wire, B24Sandbox) async throws -> Void) async throws {
    let sandbox = B24Sandbox(seed: seed, options: options)
    try await withLiveApplication({ sandbox.application(logger: testLogger(), onRunning: $0) }) { base in
        try await body(B24Wire(base: base), sandbox)
    }
}

/// Collects what an event handler receives.
actor B24Inbox {
    var bodies: [[String: String]] = []
    func add(_ b: [String: String]) { bodies.append(b) }
    func all() -> [[String: String]] { bodies }
}

func withB24Handler(_ body: (String, B24Inbox) async throws -> Void) async throws {
    let inbox = B24Inbox()
    let router = Router()
    router.post("hook") { req, _ -> HTTPResponse.Status in
        var buffer = try await req.body.collect(upTo: 1 << 20)
        let text = buffer.readString(length: buffer.readableBytes) ?? ""
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            fields[kv[0]] = kv.count > 1 ? kv[1] : ""
        }
        await inbox.add(fields)
        return .ok
    }
    try await withLiveApplication({ onRunning in
        Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                    onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: testLogger())
    }) { base in try await body(base + "/hook", inbox) }
}

@Suite("Bitrix24 sandbox")
struct B24SandboxTests {
    let seed = B24SandboxSeed.demo

    @Test func oauthIssuesRefreshesOnceAndRejectsReuse() async throws {
        try await withB24Sandbox { b24, _ in
            let code = try await b24.steer("code").json["code"] as? String ?? ""
            let client = "client_id=\(seed.client_id)&client_secret=\(seed.client_secret)"
            let first = try await b24.token("grant_type=authorization_code&\(client)&code=\(code)")
            #expect(first.status == 200)
            #expect(first.json["expires_in"] as? Int == 3600)
            #expect(first.json["member_id"] as? String == seed.member_id)
            #expect(first.json["domain"] as? String == "oauth.bitrix.info")
            #expect((first.json["client_endpoint"] as? String)?.hasSuffix("/rest/") == true)
            #expect((first.json["server_endpoint"] as? String)?.hasSuffix("/oauth/rest/") == true)
            #expect(first.json["status"] as? String == "L")
            let again = try await b24.token("grant_type=authorization_code&\(client)&code=\(code)")
            #expect(again.status == 400 && again.error == "invalid_grant")
            let refresh = first.json["refresh_token"] as? String ?? ""
            let renewed = try await b24.token("grant_type=refresh_token&\(client)&refresh_token=\(refresh)")
            #expect(renewed.status == 200)
            #expect(renewed.json["refresh_token"] as? String != refresh)
            let reused = try await b24.token("grant_type=refresh_token&\(client)&refresh_token=\(refresh)")
            #expect(reused.status == 400 && reused.error == "invalid_grant")
            let wrong = try await b24.token("grant_type=refresh_token&client_id=\(seed.client_id)&client_secret=x&refresh_token=y")
            #expect(wrong.status == 400 && wrong.error == "invalid_client")
            let profile = try await b24.call("profile", auth: renewed.json["access_token"] as? String)
            #expect((profile.result as? [String: Any])?["ADMIN"] as? Bool == true)
            #expect(profile.json["time"] is [String: Any])
        }
    }

    @Test func authErrorsAndTokenExpiry() async throws {
        var options = B24Sandbox.Options()
        options.accessTokenLifetime = 3600
        try await withB24Sandbox(options) { b24, sandbox in
            let (access, _) = try await b24.login()
            let none = try await b24.call("profile", auth: nil)
            #expect(none.status == 401 && none.error == "NO_AUTH_FOUND")
            let bad = try await b24.call("profile", auth: "nonsense")
            #expect(bad.status == 401 && bad.error == "invalid_token")
            #expect(try await b24.call("profile", auth: access).status == 200)
            sandbox.expireAccessTokens()
            let expired = try await b24.call("profile", auth: access)
            #expect(expired.status == 401 && expired.error == "expired_token")
            #expect(expired.description == "The access token provided has expired.")
            let missing = try await b24.call("crm.nothing.here", auth: access)
            #expect(missing.status == 401)
            let (fresh, _) = try await b24.login()
            let unknown = try await b24.call("crm.nothing.here", auth: fresh)
            #expect(unknown.status == 404 && unknown.error == "ERROR_METHOD_NOT_FOUND")
            // An incoming webhook reaches the CRM but not the application-only telephony methods.
            let viaHook = try await b24.send("/rest/1/demo-webhook-secret/crm.settings.mode.get.json", method: .GET)
            #expect(viaHook.status == 200 && viaHook.result as? Int == 1)
            let telephony = try await b24.send("/rest/1/demo-webhook-secret/telephony.externalCall.register",
                                               body: #"{"USER_ID":1,"PHONE_NUMBER":"79161112233","TYPE":2}"#)
            #expect(telephony.status == 403 && telephony.error == "WRONG_AUTH_TYPE")
            let wrongHook = try await b24.send("/rest/1/wrong/profile.json", method: .GET)
            #expect(wrongHook.status == 401 && wrongHook.error == "INVALID_CREDENTIALS")
            sandbox.revokeTokens()
            let revoked = try await b24.call("profile", auth: fresh)
            #expect(revoked.error == "invalid_token")
        }
    }

    @Test func leakyBucketRefusesPastTheBurst() async throws {
        var options = B24Sandbox.Options()
        options.burst = 5
        options.drainPerSecond = 0.0001
        try await withB24Sandbox(options) { b24, sandbox in
            let (access, _) = try await b24.login()
            for _ in 0..<5 { #expect(try await b24.call("profile", auth: access).status == 200) }
            let refused = try await b24.call("profile", auth: access)
            #expect(refused.status == 503)
            #expect(refused.error == "QUERY_LIMIT_EXCEEDED" && refused.description == "Too many requests")
            #expect(sandbox.snapshot().rejected_query_limit == 1)
        }
        // A batch of many commands is one request for the bucket.
        options.burst = 2
        try await withB24Sandbox(options) { b24, _ in
            let (access, _) = try await b24.login()
            let cmd = Dictionary(uniqueKeysWithValues: (0..<30).map { ("c\($0)", "profile") })
            let batch = try await b24.call("batch", ["cmd": cmd], auth: access)
            #expect(((batch.result as? [String: Any])?["result"] as? [String: Any])?.count == 30)
            #expect(try await b24.call("profile", auth: access).status == 200)
            #expect(try await b24.call("profile", auth: access).error == "QUERY_LIMIT_EXCEEDED")
        }
    }

    @Test func userGetPagesFiltersAndFindsInnerNumbers() async throws {
        try await withB24Sandbox { b24, _ in
            let (access, _) = try await b24.login()
            let first = try await b24.call("user.get", auth: access)
            #expect((first.result as? [Any])?.count == 50)
            #expect(first.json["total"] as? Int == seed.users.count && first.json["next"] as? Int == 50)
            let second = try await b24.call("user.get", ["start": 50], auth: access)
            #expect((second.result as? [Any])?.count == seed.users.count - 50 && second.json["next"] == nil)
            let active = try await b24.call("user.get", ["FILTER": ["ACTIVE": true]], auth: access)
            #expect(active.json["total"] as? Int == seed.users.filter(\.active).count)
            let form = try await b24.form("user.get.json", "auth=\(access)&FILTER[UF_PHONE_INNER]=102")
            let found = form.result as? [[String: Any]]
            #expect(found?.count == 1 && found?.first?["ID"] as? String == "2" && found?.first?["ACTIVE"] as? Bool == true)
        }
    }

    @Test func crmRecordsWithPhpFormsAndDuplicateSearch() async throws {
        try await withB24Sandbox { b24, sandbox in
            let (access, _) = try await b24.login()
            let added = try await b24.form("crm.contact.add.json",
                                           "auth=\(access)&fields[NAME]=Иван&fields[PHONE][0][VALUE]=%2B7+(999)+123-45-67&fields[PHONE][0][VALUE_TYPE]=MOBILE")
            let id = try #require(added.result as? Int)
            let got = try await b24.call("crm.contact.get", ["id": id], auth: access)
            let record = try #require(got.result as? [String: Any])
            #expect(record["ID"] as? String == String(id) && record["ASSIGNED_BY_ID"] as? String == "1")
            #expect((record["PHONE"] as? [[String: Any]])?.first?["VALUE_TYPE"] as? String == "MOBILE")
            let dup = try await b24.call("crm.duplicate.findbycomm", ["type": "PHONE", "values": ["89991234567", "+7 916 555 12 34 доб. 12"]],
                                         auth: access)
            #expect((dup.result as? [String: Any])?["CONTACT"] as? [Int] == [11, id])
            let none = try await b24.call("crm.duplicate.findbycomm", ["type": "PHONE", "values": ["+1 555 000"]], auth: access)
            #expect((none.result as? [Any])?.isEmpty == true)
            let noType = try await b24.call("crm.duplicate.findbycomm", ["values": ["1"]], auth: access)
            #expect(noType.status == 400)
            let missing = try await b24.call("crm.deal.get", ["id": 9999], auth: access)
            #expect(missing.status == 400 && missing.error == "" && missing.description == "Not found")
            let deal = try #require(try await b24.call("crm.deal.add", ["fields": ["TITLE": "Звонок", "CONTACT_ID": id, "UTM_SOURCE": "yandex"]],
                                                       auth: access).result as? Int)
            #expect(try await b24.call("crm.deal.update", ["id": deal, "fields": ["STAGE_ID": "EXECUTING"]], auth: access).result as? Bool == true)
            let list = try await b24.call("crm.deal.list", ["filter": ["CONTACT_ID": id], "select": ["ID", "STAGE_ID", "UTM_SOURCE"]], auth: access)
            let deals = try #require(list.result as? [[String: Any]])
            #expect(deals.count == 1 && deals[0]["STAGE_ID"] as? String == "EXECUTING" && deals[0]["UTM_SOURCE"] as? String == "yandex")
            #expect(list.json["total"] as? Int == 1)
            let lead = try await b24.call("crm.lead.add", ["fields": ["TITLE": "Лид", "UTM_CAMPAIGN": "spring"]], auth: access)
            #expect(lead.result is Int)
            sandbox.setCRMMode(2)
            #expect(try await b24.call("crm.settings.mode.get", auth: access).result as? Int == 2)
            #expect(try await b24.call("crm.lead.add", ["fields": ["TITLE": "Лид"]], auth: access).status == 400)
            #expect(try await b24.call("crm.activity.add", ["fields": ["OWNER_TYPE_ID": 2, "OWNER_ID": deal, "TYPE_ID": 4, "SUBJECT": "Позвонить"]],
                                       auth: access).result is Int)
            let activities = try await b24.call("crm.activity.list", ["filter": ["OWNER_ID": deal]], auth: access)
            #expect((activities.result as? [Any])?.count == 1)
        }
    }

    @Test func batchCollectsResultsErrorsAndHalts() async throws {
        try await withB24Sandbox { b24, _ in
            let (access, _) = try await b24.login()
            let reply = try await b24.call("batch", ["halt": 0, "cmd": [
                "me": "user.current", "deal": "crm.deal.get?id=41", "missing": "crm.deal.get?id=999",
                "users": "user.get?FILTER[ID]=$result[deal][ASSIGNED_BY_ID]",
            ]], auth: access)
            let r = try #require(reply.result as? [String: Any])
            let results = try #require(r["result"] as? [String: Any])
            #expect((results["users"] as? [[String: Any]])?.first?["ID"] as? String == "2")
            #expect((r["result_error"] as? [String: Any])?["missing"] is [String: Any])
            #expect((r["result_total"] as? [String: Any])?["users"] as? Int == 1)
            #expect((r["result_time"] as? [String: Any])?.count == 4)
            let halted = try await b24.call("batch", ["halt": 1, "cmd": ["crm.deal.get?id=999", "user.current"]], auth: access)
            let h = try #require(halted.result as? [String: Any])
            #expect((h["result"] as? [Any])?.isEmpty == true && (h["result_error"] as? [Any])?.count == 1)
            let tooMany = try await b24.call("batch", ["cmd": (0...50).map { _ in "profile" }], auth: access)
            #expect(tooMany.status == 400 && tooMany.error == "ERROR_BATCH_LENGTH_EXCEEDED")
            let nested = try await b24.call("batch", ["cmd": ["batch?cmd[0]=profile"]], auth: access)
            let n = try #require(nested.result as? [String: Any])
            #expect(((n["result_error"] as? [Any])?.first as? [String: Any])?["error"] as? String == "ERROR_BATCH_METHOD_NOT_ALLOWED")
        }
    }

    @Test func externalCallLifecycle() async throws {
        try await withB24Sandbox { b24, sandbox in
            let (access, _) = try await b24.login()
            #expect(try await b24.call("telephony.externalLine.add", ["NUMBER": "74950000000", "NAME": "Офис"], auth: access).status == 200)
            let dupLine = try await b24.call("telephony.externalLine.add", ["NUMBER": "74950000000"], auth: access)
            #expect(dupLine.error == "ERROR_CORE" && dupLine.description == "Line already exists")
            #expect((try await b24.call("telephony.externalLine.get", auth: access).result as? [Any])?.count == 1)

            // Known client: bound to the contact, nothing created.
            let known = try await b24.call("telephony.externalCall.register", [
                "USER_PHONE_INNER": "102", "PHONE_NUMBER": "79165551234", "TYPE": 2, "CRM_CREATE": 1, "LINE_NUMBER": "74950000000",
                "CALL_START_DATE": "2026-03-07T10:20:30+03:00", "EXTERNAL_CALL_ID": "pbx-1",
            ], auth: access)
            let k = try #require(known.result as? [String: Any])
            #expect(k["CRM_ENTITY_TYPE"] as? String == "CONTACT" && k["CRM_ENTITY_ID"] as? Int == 11)
            #expect((k["CRM_CREATED_ENTITIES"] as? [Any])?.isEmpty == true && k["CRM_CREATED_LEAD"] is NSNull)
            let callId = try #require(k["CALL_ID"] as? String)
            #expect(callId.hasPrefix("externalCall."))
            let again = try await b24.call("telephony.externalCall.register", [
                "USER_PHONE_INNER": "102", "PHONE_NUMBER": "79165551234", "TYPE": 2, "LINE_NUMBER": "74950000000", "EXTERNAL_CALL_ID": "pbx-1",
            ], auth: access)
            #expect((again.result as? [String: Any])?["CALL_ID"] as? String == callId)
            #expect(try await b24.call("telephony.externalCall.show", ["CALL_ID": callId, "USER_ID": [1, 3]], auth: access).result as? Bool == true)
            #expect(try await b24.call("telephony.externalCall.hide", ["CALL_ID": callId, "USER_ID": 3], auth: access).result as? Bool == true)
            let early = try await b24.call("telephony.externalCall.attachRecord", ["CALL_ID": callId, "RECORD_URL": "https://pbx/r.mp3"], auth: access)
            #expect(early.error == "ERROR_CORE")
            let finished = try await b24.call("telephony.externalCall.finish", [
                "CALL_ID": callId, "USER_ID": 2, "DURATION": 95, "STATUS_CODE": "200", "VOTE": 5, "ADD_TO_CHAT": 1,
            ], auth: access)
            let f = try #require(finished.result as? [String: Any])
            #expect(f["CALL_STATUS"] as? Int == 1 && f["CALL_DURATION"] as? Int == 95 && f["INCOMING"] as? String == "2")
            #expect(f["CRM_ACTIVITY_ID"] is Int && f["PORTAL_NUMBER"] as? String == "74950000000")
            #expect(f["CALL_START_DATE"] is [String: Any])
            let twice = try await b24.call("telephony.externalCall.finish", ["CALL_ID": callId, "USER_ID": 2], auth: access)
            #expect(twice.status == 400 && twice.error == "ERROR_CORE")
            let attached = try await b24.call("telephony.externalCall.attachRecord", [
                "CALL_ID": callId, "FILENAME": "call.mp3", "FILE_CONTENT": Data("ID3 fake".utf8).base64EncodedString(),
            ], auth: access)
            #expect((attached.result as? [String: Any])?["FILE_ID"] is Int)
            let badExt = try await b24.call("telephony.externalCall.attachRecord", ["CALL_ID": callId, "FILENAME": "call.ogg"], auth: access)
            #expect(badExt.description == "Wrong file extension. Only wav and mp3 are allowed")

            // Unknown client, classic CRM: a lead; missed, so the activity stays open.
            let unknown = try await b24.call("telephony.externalCall.register", [
                "USER_ID": 3, "PHONE_NUMBER": "+7 903 000-11-22", "TYPE": 2, "CRM_CREATE": 1, "CRM_SOURCE": "CALL", "SHOW": 0,
            ], auth: access)
            let u = try #require(unknown.result as? [String: Any])
            let lead = try #require(u["CRM_CREATED_LEAD"] as? Int)
            #expect(u["CRM_ENTITY_TYPE"] as? String == "LEAD" && u["CRM_ENTITY_ID"] as? Int == lead)
            let missed = try await b24.call("telephony.externalCall.finish", ["CALL_ID": u["CALL_ID"] ?? "", "USER_ID": 1], auth: access)
            #expect((missed.result as? [String: Any])?["CALL_FAILED_CODE"] as? String == "304")
            let leadRecord = try await b24.call("crm.lead.get", ["id": lead], auth: access).result as? [String: Any]
            #expect(leadRecord?["ASSIGNED_BY_ID"] as? String == "1" && leadRecord?["SOURCE_ID"] as? String == "CALL")

            // Simple CRM: a contact and a deal.
            sandbox.setCRMMode(2)
            let simple = try await b24.call("telephony.externalCall.register", [
                "USER_ID": 2, "PHONE_NUMBER": "79031112233", "TYPE": 2, "CRM_CREATE": 1,
            ], auth: access)
            let s = try #require(simple.result as? [String: Any])
            #expect((s["CRM_CREATED_ENTITIES"] as? [[String: Any]])?.map { $0["ENTITY_TYPE"] as? String } == ["CONTACT", "DEAL"])
            #expect(s["CRM_CREATED_LEAD"] is NSNull)

            let noUser = try await b24.call("telephony.externalCall.register", ["USER_ID": 4, "PHONE_NUMBER": "79031112233", "TYPE": 2], auth: access)
            #expect(noUser.description == "User is not found or is not active")
            let badType = try await b24.call("telephony.externalCall.register", ["USER_ID": 1, "PHONE_NUMBER": "79031112233", "TYPE": 9], auth: access)
            #expect(badType.description == "Unknown TYPE")
            let badDate = try await b24.call("telephony.externalCall.register", [
                "USER_ID": 1, "PHONE_NUMBER": "79031112233", "TYPE": 2, "CALL_START_DATE": "yesterday",
            ], auth: access)
            #expect(badDate.description == "CALL_START_DATE should be in the ISO-8601 format")
            let search = try await b24.call("telephony.externalCall.searchCrmEntities", ["PHONE_NUMBER": "8 916 555-12-34"], auth: access)
            let hit = try #require((search.result as? [[String: Any]])?.first)
            #expect(hit["CRM_ENTITY_TYPE"] as? String == "CONTACT" && hit["ASSIGNED_BY_ID"] as? Int == 2)
            #expect((hit["ASSIGNED_BY"] as? [String: Any])?["USER_PHONE_INNER"] as? String == "102")
            let state = sandbox.snapshot()
            #expect(state.chat.count == 2 && state.activities.count == 2)
        }
    }

    @Test func eventsReachBoundHandlers() async throws {
        try await withB24Handler { hook, inbox in
            try await withB24Sandbox { b24, _ in
                let installed = try await b24.steer("install", ["handler": hook])
                #expect(installed.json["handler_status"] as? Int == 200)
                let install = try #require(await inbox.all().first)
                #expect(install["event"] == "ONAPPINSTALL")
                #expect(install["auth[application_token]"] == seed.application_token)
                #expect(install["auth[member_id]"] == seed.member_id)
                let access = try #require(install["auth[access_token]"])
                #expect(try await b24.call("profile", auth: access).status == 200)

                #expect(try await b24.call("event.bind", ["event": "ONEXTERNALCALLSTART", "handler": hook], auth: access).result as? Bool == true)
                #expect(try await b24.call("event.bind", ["event": "onCrmDealUpdate", "handler": hook], auth: access).result as? Bool == true)
                let unknown = try await b24.call("event.bind", ["event": "ONNOTHING", "handler": hook], auth: access)
                #expect(unknown.status == 400 && unknown.error == "ERROR_EVENT_NOT_FOUND")
                #expect((try await b24.call("event.get", auth: access).result as? [Any])?.count == 2)

                let click = try await b24.steer("click-to-call", ["user_id": 2, "phone": "+79165551234", "line_number": "74950000000"])
                let callId = try #require(click.json["CALL_ID"] as? String)
                let start = try #require(await inbox.all().last)
                #expect(start["event"] == "ONEXTERNALCALLSTART")
                #expect(start["data[CALL_ID]"] == callId && start["data[USER_ID]"] == "2")
                #expect(start["data[CRM_ENTITY_TYPE]"] == "CONTACT" && start["data[CRM_ENTITY_ID]"] == "11")
                #expect(start["auth[application_token]"] == seed.application_token)
                // The portal registered the call: the application only finishes it.
                let done = try await b24.call("telephony.externalCall.finish", ["CALL_ID": callId, "USER_ID": 2, "DURATION": 10], auth: access)
                #expect((done.result as? [String: Any])?["INCOMING"] as? String == "1")

                _ = try await b24.steer("deal-update", ["id": 41, "fields": ["STAGE_ID": "WON"]])
                let update = try #require(await inbox.all().last)
                #expect(update["event"] == "ONCRMDEALUPDATE" && update["data[FIELDS][ID]"] == "41")
                #expect((try await b24.call("event.unbind", ["event": "ONCRMDEALUPDATE", "handler": hook], auth: access).result
                    as? [String: Any])?["count"] as? Int == 1)
            }
        }
    }
}
