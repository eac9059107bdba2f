import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardSandbox
import Testing

/// The MoySklad sandbox checked over HTTP against MoySklad's published JSON API 1.2 and Phone API 1.0 behaviour.
@Suite("MoySklad sandbox")
struct MoySkladSandboxTests {
    let demo = MoySkladSandboxSeed.demo

    @Test("requests without Accept-Encoding: gzip get 415 with no body; answers are gzip-encoded")
    func gzipIsMandatory() async throws {
        try await withMoySklad { _, ms in
            // A client that neither asks for nor undoes compression, to see the wire.
            let raw = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                try await checkWire(raw, base: ms.base)
                try await raw.shutdown()
            } catch {
                try? await raw.shutdown()
                throw error
            }
            let decoded = try await ms.remap(.GET, "/entity/employee")
            #expect(decoded.status == 200)
            #expect(decoded.rows.count == demo.employees.count)
        }
    }

    func checkWire(_ raw: HTTPClient, base: String) async throws {
        func get(_ path: String, _ headers: [(String, String)]) async throws -> (Int, HTTPHeaders, [UInt8]) {
            var request = HTTPClientRequest(url: base + path)
            for (n, v) in headers { request.headers.add(name: n, value: v) }
            let response = try await raw.execute(request, timeout: .seconds(10))
            var buffer = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), response.headers, buffer.readBytes(length: buffer.readableBytes) ?? [])
        }
        let bearer = ("Authorization", "Bearer \(demo.solutionTokens[0])")
        let plain = try await get("/api/remap/1.2/entity/employee", [bearer])
        #expect(plain.0 == 415)
        #expect(plain.2.isEmpty)
        #expect(try await get("/api/remap/1.2/entity/employee", [bearer, ("Accept-Encoding", "deflate")]).0 == 415)
        #expect(try await get("/api/phone/1.0/employee", [("Lognex-Phone-Auth-Token", demo.phoneAccessKey)]).0 == 415)
        let zipped = try await get("/api/remap/1.2/entity/employee", [bearer, ("Accept-Encoding", "gzip")])
        #expect(zipped.0 == 200)
        #expect(zipped.1.first(name: "Content-Encoding") == "gzip")
        #expect(Array(zipped.2.prefix(2)) == [0x1F, 0x8B])
    }

    @Test("Basic and Bearer authentication, security/token revoking earlier tokens, 401 with code 1056")
    func authentication() async throws {
        try await withMoySklad { _, ms in
            let none = try await ms.remap(.GET, "/context/employee", auth: .none)
            #expect(none.status == 401)
            #expect(none.errorCode == 1056)
            #expect(none.firstError["moreInfo"] as? String == "https://dev.moysklad.ru/doc/api/remap/1.2/#error_1056")
            #expect(try await ms.remap(.GET, "/context/employee", auth: .basic("admin@demo", "wrong")).status == 401)

            let me = try await ms.remap(.GET, "/context/employee", auth: .admin)
            #expect(me.status == 200)
            #expect(me.object["uid"] as? String == "admin@demo")
            #expect((me.object["meta"] as? [String: Any])?["type"] as? String == "employee")

            let first = try await ms.remap(.POST, "/security/token", auth: .admin)
            let token1 = try #require(first.object["access_token"] as? String)
            #expect(token1.count == 40)
            #expect(try await ms.remap(.GET, "/context/employee", auth: .bearer(token1)).status == 200)
            // A bearer token cannot mint tokens; Basic can, and the new token revokes the old one.
            #expect(try await ms.remap(.POST, "/security/token", auth: .bearer(token1)).status == 401)
            let token2 = try #require(try await ms.remap(.POST, "/security/token", auth: .admin).object["access_token"] as? String)
            #expect(try await ms.remap(.GET, "/context/employee", auth: .bearer(token1)).status == 401)
            #expect(try await ms.remap(.GET, "/context/employee", auth: .bearer(token2)).status == 200)

            _ = try await ms.steer("expire-tokens")
            let expired = try await ms.remap(.GET, "/context/employee", auth: .bearer(token2))
            #expect(expired.status == 401)
            #expect(expired.errorCode == 1056)
            #expect(try await ms.remap(.GET, "/context/employee", auth: .solution).status == 200)
        }
    }

    @Test("counterparties: filter=phone~, =~ and search= find a free-text phone; create with owner; 412 3000; 404 1021; 412 1005")
    func counterparties() async throws {
        try await withMoySklad { _, ms in
            let all = try await ms.remap(.GET, "/entity/counterparty")
            let meta = all.object["meta"] as? [String: Any] ?? [:]
            #expect(meta["size"] as? Int == 1)
            #expect(meta["limit"] as? Int == 1000)
            #expect(meta["offset"] as? Int == 0)
            #expect(meta["type"] as? String == "counterparty")
            #expect(all.object["context"] != nil)

            // The seed stores "+7 (916) 555-12-34".
            #expect(try await ms.remap(.GET, "/entity/counterparty?filter=phone~555-12-34").rows.count == 1)
            #expect(try await ms.remap(.GET, "/entity/counterparty?filter=phone=~12-34").rows.count == 1)
            #expect(try await ms.remap(.GET, "/entity/counterparty?filter=phone=79165551234").rows.isEmpty)
            #expect(try await ms.remap(.GET, "/entity/counterparty?search=9165551234").rows.count == 1)
            #expect(try await ms.remap(.GET, "/entity/counterparty?search=9160000000").rows.isEmpty)

            let vera = demo.employees[2]
            let created = try await ms.remap(.POST, "/entity/counterparty", [
                "name": "Новый клиент", "phone": "+79161112233",
                "owner": ["meta": ["href": "\(ms.base)/api/remap/1.2/entity/employee/\(vera.id)", "type": "employee",
                                   "mediaType": "application/json"]],
            ])
            #expect(created.status == 200)
            let id = try #require(created.object["id"] as? String)
            let owner = (created.object["owner"] as? [String: Any])?["meta"] as? [String: Any]
            #expect((owner?["href"] as? String)?.hasSuffix("/entity/employee/\(vera.id)") == true)
            #expect((created.object["meta"] as? [String: Any])?["href"] as? String == "\(ms.base)/api/remap/1.2/entity/counterparty/\(id)")
            let byPhone = try await ms.remap(.GET, "/entity/counterparty?filter=phone=%2B79161112233")
            #expect(byPhone.rows.first?["id"] as? String == id)
            #expect(try await ms.remap(.GET, "/entity/counterparty/\(id)").object["name"] as? String == "Новый клиент")

            let nameless = try await ms.remap(.POST, "/entity/counterparty", ["phone": "+79160000001"])
            #expect(nameless.status == 412)
            #expect(nameless.errorCode == 3000)
            #expect(nameless.firstError["parameter"] as? String == "name")
            let missing = try await ms.remap(.GET, "/entity/counterparty/00000000-0000-0000-0000-000000000000")
            #expect(missing.status == 404)
            #expect(missing.errorCode == 1021)
            let unknownType = try await ms.remap(.GET, "/entity/counterparty2")
            #expect(unknownType.status == 412)
            #expect(unknownType.errorCode == 1005)

            let note = try await ms.remap(.POST, "/entity/counterparty/\(id)/notes", ["description": "Звонок 42 с"])
            #expect(note.status == 200)
            #expect((note.json as? [[String: Any]])?.first?["description"] as? String == "Звонок 42 с")
        }
    }

    @Test("employees and organizations list with filters")
    func employeesAndOrganizations() async throws {
        try await withMoySklad { _, ms in
            let boris = try await ms.remap(.GET, "/entity/employee?filter=email=boris@demo.example")
            #expect(boris.rows.count == 1)
            #expect(boris.rows.first?["uid"] as? String == "boris@demo")
            let orgs = try await ms.remap(.GET, "/entity/organization")
            #expect(orgs.rows.first?["id"] as? String == demo.organizations[0].id)
            let bad = try await ms.remap(.GET, "/entity/employee?filter=shoeSize=42")
            #expect(bad.status == 412)
            #expect(bad.errorCode == 1034)
        }
    }

    @Test("customer orders: metadata states, create with organization, agent and state, filter by state.name, update")
    func customerOrders() async throws {
        try await withMoySklad { _, ms in
            let metadata = try await ms.remap(.GET, "/entity/customerorder/metadata")
            let states = metadata.object["states"] as? [[String: Any]] ?? []
            #expect(states.map { $0["name"] as? String } == demo.orderStates.map(\.name))
            #expect(states.first?["stateType"] as? String == "Regular")
            let confirmed = try #require(states.first { $0["name"] as? String == "Подтвержден" })
            let root = "\(ms.base)/api/remap/1.2"
            let body: [String: Any] = [
                "organization": ["meta": ["href": "\(root)/entity/organization/\(demo.organizations[0].id)", "type": "organization",
                                          "mediaType": "application/json"]],
                "agent": ["meta": ["href": "\(root)/entity/counterparty/\(demo.counterparties[0].id)", "type": "counterparty",
                                   "mediaType": "application/json"]],
                "state": ["meta": confirmed["meta"] as Any],
                "description": "Заказ по звонку",
            ]
            let order = try await ms.remap(.POST, "/entity/customerorder", body)
            #expect(order.status == 200)
            #expect(order.object["name"] as? String == "00001")
            let stateHref = ((order.object["state"] as? [String: Any])?["meta"] as? [String: Any])?["href"] as? String
            #expect(stateHref?.hasSuffix("/metadata/states/\(confirmed["id"] as? String ?? "")") == true)
            let found = try await ms.remap(.GET, "/entity/customerorder?filter=state.name=Подтвержден".addingPercentEncoding(
                withAllowedCharacters: .urlQueryAllowed)!)
            #expect(found.rows.count == 1)

            var noAgent = body
            noAgent["agent"] = nil
            let refused = try await ms.remap(.POST, "/entity/customerorder", noAgent)
            #expect(refused.status == 412)
            #expect(refused.firstError["parameter"] as? String == "agent")

            let id = try #require(order.object["id"] as? String)
            let cancelled = try #require(states.first { $0["stateType"] as? String == "Unsuccessful" })
            let updated = try await ms.remap(.PUT, "/entity/customerorder/\(id)", ["state": ["meta": cancelled["meta"] as Any]])
            #expect(updated.status == 200)
            let newState = ((updated.object["state"] as? [String: Any])?["meta"] as? [String: Any])?["href"] as? String
            #expect(newState?.hasSuffix(cancelled["id"] as? String ?? "-") == true)
        }
    }

    @Test("tasks: create with assignee, agent and dueToDate; description and assignee required; bad dates refused")
    func tasks() async throws {
        try await withMoySklad { sandbox, ms in
            let root = "\(ms.base)/api/remap/1.2"
            let boris = demo.employees[1]
            let task = try await ms.remap(.POST, "/entity/task", [
                "description": "Перезвонить клиенту", "dueToDate": "2026-12-01 10:00:00",
                "assignee": ["meta": ["href": "\(root)/entity/employee/\(boris.id)", "type": "employee", "mediaType": "application/json"]],
                "agent": ["meta": ["href": "\(root)/entity/counterparty/\(demo.counterparties[0].id)", "type": "counterparty",
                                   "mediaType": "application/json"]],
            ])
            #expect(task.status == 200)
            #expect(task.object["dueToDate"] as? String == "2026-12-01 10:00:00.000")
            #expect(task.object["done"] as? Bool == false)
            #expect(sandbox.snapshot().tasks.first?.assigneeId == boris.id)
            #expect(sandbox.snapshot().tasks.first?.agent == "counterparty/\(demo.counterparties[0].id)")

            let noAssignee = try await ms.remap(.POST, "/entity/task", ["description": "x"])
            #expect(noAssignee.status == 412)
            #expect(noAssignee.firstError["parameter"] as? String == "assignee")
            let badDate = try await ms.remap(.POST, "/entity/task", [
                "description": "x", "dueToDate": "2026-12-01T10:00:00Z",
                "assignee": ["meta": ["href": "\(root)/entity/employee/\(boris.id)", "type": "employee", "mediaType": "application/json"]],
            ])
            #expect(badDate.status == 400)
            #expect(badDate.errorCode == 2016)
        }
    }

    @Test("45 units per 3 s per user or solution: 429 with code 1049 and MoySklad's headers; Basic requests weigh more")
    func rateLimit() async throws {
        var options = MoySkladSandbox.Options()
        options.window = 600 // the documented 45 units, over a window no slow machine can outlast
        options.userAuthWeight = 3
        try await withMoySklad(options) { sandbox, ms in
            let first = try await ms.remap(.GET, "/entity/organization")
            #expect(first.header("X-RateLimit-Limit") == "45")
            #expect(first.header("X-RateLimit-Remaining") == "44")
            #expect(first.header("X-Lognex-Retry-TimeInterval") == "600000")
            for _ in 0..<44 { #expect(try await ms.remap(.GET, "/entity/organization").status == 200) }
            let refused = try await ms.remap(.GET, "/entity/organization")
            #expect(refused.status == 429)
            #expect(refused.errorCode == 1049)
            #expect(refused.header("X-RateLimit-Remaining") == "0")
            #expect(Int(refused.header("X-Lognex-Retry-After") ?? "") ?? 0 > 0)
            #expect(Int(refused.header("X-Lognex-Reset") ?? "") ?? 0 > 0)
            #expect(sandbox.snapshot().rejected1049 == 1)

            // A user's login/password is a separate budget, at weight 3: 15 requests.
            let basic = try await ms.remap(.GET, "/entity/organization", auth: .admin)
            #expect(basic.header("X-RateLimit-Limit") == "15")
            for _ in 0..<14 { #expect(try await ms.remap(.GET, "/entity/organization", auth: .admin).status == 200) }
            #expect(try await ms.remap(.GET, "/entity/organization", auth: .admin).errorCode == 1049)
        }
    }

    @Test("Phone API: 100 requests per 5 s per key, then 429 with code 1049")
    func phoneRateLimit() async throws {
        var options = MoySkladSandbox.Options()
        options.phoneWindow = 600 // the documented 100 requests, over a window no slow machine can outlast
        try await withMoySklad(options) { _, ms in
            for _ in 0..<100 { #expect(try await ms.phone(.GET, "/employee").status == 200) }
            let refused = try await ms.phone(.GET, "/employee")
            #expect(refused.status == 429)
            #expect(refused.errorCode == 1049)
            // The JSON API's budget is separate.
            #expect(try await ms.remap(.GET, "/entity/organization").status == 200)
        }
    }

    @Test("lists page with limit and offset, nextHref and previousHref")
    func paging() async throws {
        try await withMoySklad { _, ms in
            let page = try await ms.remap(.GET, "/entity/employee?limit=2&offset=1")
            let meta = page.object["meta"] as? [String: Any] ?? [:]
            #expect(page.rows.map { $0["uid"] as? String } == ["boris@demo", "vera@demo"])
            #expect(meta["size"] as? Int == 3)
            #expect(meta["nextHref"] == nil)
            #expect((meta["previousHref"] as? String)?.hasSuffix("limit=2&offset=0") == true)
            let first = try await ms.remap(.GET, "/entity/employee?limit=1")
            #expect(((first.object["meta"] as? [String: Any])?["nextHref"] as? String)?.hasSuffix("limit=1&offset=1") == true)
        }
    }

    @Test("the documented weight schedule for login/password and user tokens")
    func weightSchedule() {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm"
        f.timeZone = TimeZone(secondsFromGMT: 3 * 3600)
        #expect(MoySkladSandbox.documentedUserWeight(on: f.date(from: "2026-05-11 12:00")!) == 1)
        #expect(MoySkladSandbox.documentedUserWeight(on: f.date(from: "2026-05-12 00:00")!) == 2)
        #expect(MoySkladSandbox.documentedUserWeight(on: f.date(from: "2026-09-01 00:00")!) == 3)
        #expect(MoySkladSandbox.documentedUserWeight(on: f.date(from: "2026-12-01 00:00")!) == 4)
    }

    @Test("a sixth parallel request of one user gets 429 with code 1073")
    func parallelLimit() async throws {
        try await withMoySklad { sandbox, ms in
            sandbox.hold()
            let held = (0..<5).map { _ in Task { try await ms.remap(.GET, "/entity/organization").status } }
            #expect(try await eventually { sandbox.snapshot().inFlight == 5 })
            let sixth = try await ms.remap(.GET, "/entity/organization")
            #expect(sixth.status == 429)
            #expect(sixth.errorCode == 1073)
            #expect(sixth.header("X-RateLimit-Limit") == nil)
            sandbox.release()
            for t in held { #expect(try await t.value == 200) }
            #expect(try await ms.remap(.GET, "/entity/organization").status == 200)
        }
    }

    @Test("outage: 503 with code 1074 while it lasts")
    func outage() async throws {
        try await withMoySklad { _, ms in
            _ = try await ms.steer("outage", ["status": 503, "requests": 1])
            let down = try await ms.remap(.GET, "/entity/organization")
            #expect(down.status == 503)
            #expect(down.errorCode == 1074)
            #expect(try await ms.remap(.GET, "/entity/organization").status == 200)
        }
    }

    @Test("Phone API: call lifecycle with popups, update by externalId, record URLs, counterparty owner's extension")
    func phoneCallLifecycle() async throws {
        try await withMoySklad { sandbox, ms in
            let unauthorized = try await ms.phone(.POST, "/call", ["externalId": "x"], auth: .phone("wrong"))
            #expect(unauthorized.status == 401)
            #expect(unauthorized.errorCode == 1056)

            let created = try await ms.phone(.POST, "/call", [
                "externalId": "pbx-1", "number": "+79165551234", "isIncoming": true, "startTime": "2026-11-27 10:00:00",
                "events": [["eventType": "SHOW", "extension": "101", "sequence": 1], ["eventType": "SHOW", "extension": "102", "sequence": 2]],
            ])
            #expect(created.status == 200)
            let id = try #require(created.object["id"] as? String)
            #expect(created.object["startTime"] as? String == "2026-11-27 10:00:00.000")
            #expect(created.object["endTime"] is NSNull)
            #expect(created.object["recordUrl"] as? [String] == [])
            #expect((created.object["counterparty"] as? [String: Any])?["href"] as? String
                == "\(ms.base)/api/remap/1.2/entity/counterparty/\(demo.counterparties[0].id)")
            #expect((created.object["counterpartyowner"] as? [String: Any])?["extention"] as? String == "102")
            #expect((created.object["meta"] as? [String: Any])?["type"] as? String == "call")
            #expect(sandbox.snapshot().popups == ["101": [id], "102": [id]])

            #expect(try await ms.phone(.POST, "/call/extid/pbx-1/event", ["eventType": "STARTTIME", "extension": "102", "sequence": 3]).status == 204)
            #expect(try await ms.phone(.POST, "/call/\(id)/event", ["eventType": "HIDE", "extension": "101", "sequence": 4]).status == 204)
            #expect(sandbox.snapshot().popups == ["102": [id]])
            #expect(sandbox.snapshot().timers == ["102": [id]])

            let ended = try await ms.phone(.PUT, "/call/extid/pbx-1", [
                "extension": "102", "endTime": "2026-11-27 10:01:05.000", "recordUrl": ["https://rec.example/1.mp3"],
                "events": [["eventType": "HIDE_ALL", "sequence": 5]],
            ])
            #expect(ended.status == 200)
            #expect(ended.object["duration"] as? Int == 65_000)
            #expect(ended.object["extension"] as? String == "102")
            #expect(sandbox.snapshot().popups.isEmpty)

            // Filled fields stay, recordUrl adds, comment is replaced.
            let again = try await ms.phone(.PUT, "/call/\(id)", [
                "endTime": "2026-11-27 11:00:00", "extension": "103", "recordUrl": ["https://rec.example/2.mp3"], "comment": "второй",
            ])
            #expect(again.object["endTime"] as? String == "2026-11-27 10:01:05.000")
            #expect(again.object["extension"] as? String == "102")
            #expect(again.object["recordUrl"] as? [String] == ["https://rec.example/1.mp3", "https://rec.example/2.mp3"])
            #expect(again.object["comment"] as? String == "второй")
            let call = try #require(sandbox.snapshot().calls.first)
            #expect(call.events.map(\.eventType) == ["SHOW", "SHOW", "STARTTIME", "HIDE", "HIDE_ALL"])
            #expect(call.employeeId == demo.employees[1].id)
        }
    }

    @Test("Phone API errors: required fields, date format, unknown call, bad event type")
    func phoneErrors() async throws {
        try await withMoySklad { _, ms in
            let missing = try await ms.phone(.POST, "/call", ["externalId": "e", "number": "+79160000000", "isIncoming": true])
            #expect(missing.status == 412)
            #expect(missing.errorCode == 3000)
            #expect(missing.firstError["parameter"] as? String == "startTime")
            let badTime = try await ms.phone(.POST, "/call", [
                "externalId": "e", "number": "+79160000000", "isIncoming": true, "startTime": "2026-11-27T10:00:00+03:00",
            ])
            #expect(badTime.status == 400)
            #expect(badTime.errorCode == 2016)
            let unknown = try await ms.phone(.PUT, "/call/extid/nope", ["comment": "x"])
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == 1021)
            _ = try await ms.phone(.POST, "/call", ["externalId": "e", "number": "+79160000000", "isIncoming": false,
                                                    "startTime": "2026-11-27 10:00:00"])
            let badEvent = try await ms.phone(.POST, "/call/extid/e/event", ["eventType": "RING", "extension": "101", "sequence": 1])
            #expect(badEvent.status == 400)
            let noExtension = try await ms.phone(.POST, "/call/extid/e/event", ["eventType": "SHOW", "sequence": 1])
            #expect(noExtension.status == 412)
            #expect(noExtension.firstError["parameter"] as? String == "extension")
        }
    }

    @Test("Phone API employees: extention (sic), employees key, filter")
    func phoneEmployees() async throws {
        try await withMoySklad { _, ms in
            let all = try await ms.phone(.GET, "/employee")
            let list = all.object["employees"] as? [[String: Any]] ?? []
            #expect(list.compactMap { $0["extention"] as? String }.sorted() == ["101", "102", "103"])
            #expect((list.first?["meta"] as? [String: Any])?["type"] as? String == "employee")
            let one = try await ms.phone(.GET, "/employee?filter=extention=102")
            #expect((one.object["employees"] as? [[String: Any]])?.count == 1)
            #expect(((one.object["employees"] as? [[String: Any]])?.first?["meta"] as? [String: Any])?["href"] as? String
                == "\(ms.base)/api/remap/1.2/entity/employee/\(demo.employees[1].id)")
        }
    }

    @Test("webhooks: create, list, duplicate 30003, delete; customer-order changes delivered with requestId and retried")
    func webhooks() async throws {
        let receiver = MSReceiver(failFirst: 2)
        // MoySklad gives a receiver 1.5 s; this test is about retries, so a loaded machine's slow answer must not count.
        var options = MoySkladSandbox.Options()
        options.webhookTimeout = 10
        try await withLiveApplication({ receiver.application(onRunning: $0) }) { hookBase in
            try await withMoySklad(options) { sandbox, ms in
                let url = hookBase + "/hooks/orders"
                let made = try await ms.remap(.POST, "/entity/webhook", ["url": url, "action": "CREATE", "entityType": "customerorder"])
                #expect(made.status == 200)
                #expect(made.object["method"] as? String == "POST")
                #expect(made.object["enabled"] as? Bool == true)
                let duplicate = try await ms.remap(.POST, "/entity/webhook", ["url": url, "action": "CREATE", "entityType": "customerorder"])
                #expect(duplicate.status == 412)
                #expect(duplicate.errorCode == 30_003)
                let byUser = try await ms.remap(.POST, "/entity/webhook", ["url": url + "2", "action": "CREATE", "entityType": "customerorder"],
                                                auth: .basic("boris@demo", "boris-password"))
                #expect(byUser.errorCode == 30_004)
                #expect(try await ms.remap(.GET, "/entity/webhook").rows.count == 1)

                // An order made in MoySklad: delivered, the first two attempts fail (500) and the same requestId is retried.
                let steered = try await ms.steer("orders", ["sum": 150_000])
                let delivery = try #require((steered["deliveries"] as? [[String: Any]])?.first)
                #expect(delivery["attempts"] as? [Int] == [500, 500, 200])
                let hits = receiver.hits
                #expect(hits.count == 3)
                let requestIds = Set(hits.map { $0.uri.components(separatedBy: "requestId=").last ?? "" })
                #expect(requestIds.count == 1)
                let payload = try #require(try JSONSerialization.jsonObject(with: Data(hits[0].body.utf8)) as? [String: Any])
                let event = try #require((payload["events"] as? [[String: Any]])?.first)
                #expect(event["action"] as? String == "CREATE")
                #expect(event["accountId"] as? String == demo.accountId)
                #expect((event["meta"] as? [String: Any])?["href"] as? String == steered["href"] as? String)
                #expect((payload["auditContext"] as? [String: Any])?["uid"] as? String == "admin@demo")

                // One made through the API fires too, unless its URL prefix is disabled for that request.
                let root = "\(ms.base)/api/remap/1.2"
                let order: [String: Any] = [
                    "organization": ["meta": ["href": "\(root)/entity/organization/\(demo.organizations[0].id)", "type": "organization"]],
                    "agent": ["meta": ["href": "\(root)/entity/counterparty/\(demo.counterparties[0].id)", "type": "counterparty"]],
                ]
                _ = try await ms.remap(.POST, "/entity/customerorder", order, headers: [("X-Lognex-WebHook-DisableByPrefix", hookBase)])
                _ = try await ms.remap(.POST, "/entity/customerorder", order)
                #expect(try await eventually { sandbox.snapshot().deliveries.count == 2 })
                try await Task.sleep(for: .milliseconds(200))
                #expect(sandbox.snapshot().deliveries.count == 2)

                let id = try #require(made.object["id"] as? String)
                #expect(try await ms.remap(.DELETE, "/entity/webhook/\(id)").status == 200)
                #expect(try await ms.remap(.GET, "/entity/webhook").rows.isEmpty)
            }
        }
    }

    @Test("click-to-call: the sandbox posts srcNumber, destNumber, uid signed with Lognex-Content-MD5")
    func clickToCall() async throws {
        let provider = MSReceiver()
        try await withLiveApplication({ provider.application(onRunning: $0) }) { providerBase in
            try await withMoySklad { _, ms in
                let answer = try await ms.steer("click-to-call", ["url": providerBase + "/moysklad/call", "destNumber": "+79161112233",
                                                                   "uid": "boris@demo"])
                #expect(answer["status"] as? Int == 200)
                let hit = try #require(provider.hits.first)
                let body = try #require(try JSONSerialization.jsonObject(with: Data(hit.body.utf8)) as? [String: String])
                #expect(body == ["srcNumber": "102", "destNumber": "+79161112233", "uid": "boris@demo"])
                // MD5 of key + srcNumber + destNumber + uid, upper-case hex (the UNCONFIRMED best guess).
                #expect(hit.headers["lognex-content-md5"] == "124E4E927FD3216FB01086897ECDD310")
                #expect(MoySkladClickToCall.signature(accessKey: demo.phoneAccessKey, srcNumber: "102", destNumber: "+79161112233",
                                                      uid: "boris@demo") == "124E4E927FD3216FB01086897ECDD310")
            }
        }
    }
}
