import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardPBX
import SwitchboardStorage

/// Seeds calls through the ingest path, as a PBX's events would make them.
struct CallSeed {
    let sb: Switchboard
    let tenantId: String
    let connectionId: String

    /// A call started at `at`: the employee rings; answered after `answerAfter` s and talked `talk` s, or cancelled
    /// after `giveUpAfter` s.
    @discardableResult
    func call(_ external: String, at: Date, _ direction: CallDirection, _ number: String, by login: String,
              answerAfter: Int? = nil, talk: Int = 0, giveUpAfter: Int = 15) async throws -> Call {
        var events = [CallEvent(key: external + ":ring", kind: .legRinging, providerType: direction == .outbound ? "OUTGOING" : "INCOMING",
                                externalCallId: external, occurredAt: at, direction: direction, clientNumberRaw: number,
                                employeeLogin: login)]
        if let answerAfter {
            events.append(CallEvent(key: external + ":answer", kind: .legAnswered, providerType: "ACCEPTED", externalCallId: external,
                                    occurredAt: at.addingTimeInterval(Double(answerAfter)), employeeLogin: login))
            events.append(CallEvent(key: external + ":end", kind: .legEnded, providerType: "COMPLETED", externalCallId: external,
                                    occurredAt: at.addingTimeInterval(Double(answerAfter + talk)), employeeLogin: login))
        } else {
            events.append(CallEvent(key: external + ":end", kind: .legEnded, providerType: "CANCELLED", externalCallId: external,
                                    occurredAt: at.addingTimeInterval(Double(giveUpAfter)), employeeLogin: login))
        }
        var call: Call?
        for e in events {
            call = try await sb.db.transaction { tx in
                try await sb.calls.ingest(e, raw: "{}", tenantId: tenantId, connectionId: connectionId, region: "RU", in: tx).call
            }
        }
        return call!
    }
}

func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

@Suite("Call journal and call dashboard (issue 14, items 4 and 5)")
struct CallJournalTests {
    struct Analytics: Decodable {
        struct Employee: Decodable { var login: String; var name: String; var talkSec: Int; var averageWaitSec: Double? }
        var from: String
        var to: String
        var calls: Int
        var inbound: Int
        var missed: Int
        var missedNotCalledBack: Int
        var answerRate: Double?
        var days: [CallAnalyticsStore.Day]
        var employees: [Employee]
    }

    static let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test("durations read in the page's language, minutes past 60 s")
    func durations() {
        #expect(Cabinet.duration(42, .ru) == "42 с" && Cabinet.duration(42, .en) == "42 s")
        #expect(Cabinet.duration(65, .ru) == "1 мин 5 с" && Cabinet.duration(65, .en) == "1 min 5 s")
        #expect(Cabinet.duration(120, .ru) == "2 мин" && Cabinet.duration(0, .ru) == "0 с")
        #expect(Cabinet.duration(3725, .ru) == "1 ч 2 мин 5 с")
    }

    /// A hand-computed data set (days are Moscow days, UTC+3), period 2026-03-10 … 2026-03-12:
    /// - c1 in, …01, 03-10 09:00Z, anna answers after 10 s, talks 60 s
    /// - c2 in, …02, 03-10 10:00Z, missed; c3 out to …02 at 12:00Z by anna, answered, 30 s: c2 is called back
    /// - c4 in, …03, 03-10 22:30Z (03-11 01:30 Moscow), missed; c5 in, …03, 03-12 00:00Z (25.5 h later), boris after 20 s,
    ///   100 s: too late to be c4's call-back
    /// - c7 in, …04, 03-11 07:00Z, anna after 4 s, 20 s; c6 in, …04, 03-11 08:00Z, missed: c7 came before, no call-back
    /// - c9 out to …05, 03-11 09:00Z by anna, no answer
    /// - left out: an internal call, a call at 03-09 20:30Z (23:30 Moscow, the day before), another tenant's call
    /// Inbound 6 (answered 3, missed 3), outbound 2 (answered 1), rate 0.5, missed not called back 2 (c4, c6), wait
    /// (10 + 20 + 4) / 3; days 03-10: 2 answered + 1 missed, 03-11: 1 answered + 2 missed + 1 no answer, 03-12: 1 answered;
    /// anna 2 in + 1 out, 110 s, wait 7; boris 1 in, 100 s, wait 20.
    func seed(_ sb: Switchboard, tenantId: String) async throws {
        let (pbx, _) = try await sb.pbx.create(tenantId: tenantId, name: "АТС", protocol: .itoolabs, apiURL: nil, apiKey: nil)
        _ = try await sb.pbx.upsertEmployee(tenantId: tenantId, connectionId: pbx.id, login: "anna", extension_: "101",
                                            name: "Анна Смирнова", email: nil, directNumber: nil)
        let s = CallSeed(sb: sb, tenantId: tenantId, connectionId: pbx.id)
        try await s.call("c1", at: utc("2026-03-10T09:00:00Z"), .inbound, "79160000001", by: "anna", answerAfter: 10, talk: 60)
        try await s.call("c2", at: utc("2026-03-10T10:00:00Z"), .inbound, "79160000002", by: "boris")
        try await s.call("c3", at: utc("2026-03-10T12:00:00Z"), .outbound, "79160000002", by: "anna", answerAfter: 5, talk: 30)
        try await s.call("c4", at: utc("2026-03-10T22:30:00Z"), .inbound, "79160000003", by: "boris")
        try await s.call("c5", at: utc("2026-03-12T00:00:00Z"), .inbound, "79160000003", by: "boris", answerAfter: 20, talk: 100)
        try await s.call("c7", at: utc("2026-03-11T07:00:00Z"), .inbound, "79160000004", by: "anna", answerAfter: 4, talk: 20)
        try await s.call("c6", at: utc("2026-03-11T08:00:00Z"), .inbound, "79160000004", by: "boris")
        try await s.call("c9", at: utc("2026-03-11T09:00:00Z"), .outbound, "79160000005", by: "anna")
        try await s.call("c8", at: utc("2026-03-11T10:00:00Z"), .internal, "102", by: "anna", answerAfter: 1, talk: 50)
        try await s.call("c10", at: utc("2026-03-09T20:30:00Z"), .inbound, "79160000006", by: "anna", answerAfter: 3, talk: 10)
        let other = try await sb.tenants.create(name: "Other")
        let (otherPBX, _) = try await sb.pbx.create(tenantId: other.id, name: "АТС", protocol: .itoolabs, apiURL: nil, apiKey: nil)
        try await CallSeed(sb: sb, tenantId: other.id, connectionId: otherPBX.id)
            .call("o1", at: utc("2026-03-11T09:00:00Z"), .inbound, "79160000007", by: "anna")
    }

    @Test("the dashboard's numbers on a hand-computed data set: store, management API and cabinet page agree",
          arguments: Backend.available)
    func dashboardNumbers(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let tenant = try await TestTenant.make(sb)
            _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "boss@acme.ru", passwordHash: Passwords.hash("correct horse"))
            try await seed(sb, tenantId: tenant.id)

            let period = try CallPeriod.parse(from: "2026-03-10", to: "2026-03-12")
            #expect(period.from == utc("2026-03-09T21:00:00Z") && period.to == utc("2026-03-12T21:00:00Z"))
            let r = try await period.report(CallAnalyticsStore(db: sb.db), tenantId: tenant.id)
            #expect(r.calls == 8 && r.inbound == 6 && r.inboundAnswered == 3 && r.outbound == 2 && r.outboundAnswered == 1)
            #expect(r.missed == 3 && r.missedNotCalledBack == 2)
            #expect(r.answerRate == 0.5)
            #expect(abs((r.averageWaitSec ?? 0) - 34.0 / 3) < 1e-9)
            #expect(r.days.map(\.date) == ["2026-03-10", "2026-03-11", "2026-03-12"])
            #expect(r.days.map(\.byResult) == [["answered": 2, "missed": 1], ["answered": 1, "missed": 2, "no_answer": 1], ["answered": 1]])
            #expect(r.days.map(\.total) == [3, 4, 1])
            #expect(r.employees.map(\.login) == ["anna", "boris"] && r.employees.map(\.name) == ["Анна Смирнова", "boris"])
            #expect(r.from == "2026-03-10" && r.to == "2026-03-12")
            #expect(r.employees.map(\.inboundAnswered) == [2, 1] && r.employees.map(\.outboundAnswered) == [1, 0])
            #expect(r.employees.map(\.talkSec) == [110, 100] && r.employees.map(\.averageWaitSec) == [7, 20])

            try await sb.buildApplication(workers: false).test(.router) { client in
                try await client.execute(uri: "/api/v1/analytics/calls?from=2026-03-10&to=2026-03-12", method: .get,
                                         headers: tenant.auth) { res in
                    #expect(res.status == .ok)
                    let j = try JSON.decode(Analytics.self, from: res.body.text)
                    #expect(j.calls == 8 && j.inbound == 6 && j.missed == 3 && j.missedNotCalledBack == 2)
                    #expect(j.answerRate == 0.5 && j.from == "2026-03-10" && j.to == "2026-03-12")
                    #expect(j.days == r.days)
                    #expect(j.employees.map(\.name) == ["Анна Смирнова", "boris"] && j.employees.map(\.talkSec) == [110, 100])
                    #expect(j.employees.map(\.averageWaitSec) == [7, 20])
                }
                try await client.execute(uri: "/api/v1/analytics/calls?from=10.03.2026", method: .get, headers: tenant.auth) { res in
                    #expect(res.status == .badRequest && res.body.j["error"]?["field"]?.stringValue == "from")
                }
                try await client.execute(uri: "/api/v1/analytics/calls?from=2026-03-12&to=2026-03-10", method: .get, headers: tenant.auth) {
                    #expect($0.status == .badRequest)
                }
                // The default period is the last 30 days: nothing of 2026-03 unless that is now.
                try await client.execute(uri: "/api/v1/analytics/calls", method: .get, headers: tenant.auth) { res in
                    #expect(res.status == .ok && (try? JSON.decode(Analytics.self, from: res.body.text))?.days.count == 30)
                }

                let cookie = try await cabinetSignIn(client, email: "boss@acme.ru", password: "correct horse")
                try await client.execute(uri: "/cabinet/calls", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("href=\"/cabinet/dashboard\""))
                }
                try await client.execute(uri: "/cabinet/dashboard?from=2026-03-10&to=2026-03-12", method: .get, headers: cookie) { res in
                    #expect(res.status == .ok)
                    let html = res.body.text
                    #expect(html.contains("data-figure=\"dash.calls\">8<") && html.contains("data-figure=\"dash.answerRate\">50%<"))
                    #expect(html.contains("data-figure=\"dash.missed\">3<") && html.contains("data-figure=\"dash.notCalledBack\">2<"))
                    #expect(html.contains("data-figure=\"dash.avgWait\">11 с<"))
                    // One bar per day, with its total; the chart is drawn on the server.
                    #expect(html.components(separatedBy: "<g class=\"day\"").count == 4)
                    #expect(html.contains("data-day=\"2026-03-11\" data-total=\"4\""))
                    #expect(html.contains("2026-03-11: принят 1, пропущен 2, не ответили 1"))
                    #expect(html.contains("<td>Анна Смирнова</td><td>2</td><td>1</td><td>1 мин 50 с</td><td>7 с</td>"))
                    #expect(html.contains("<td>boris</td><td>1</td><td>0</td><td>1 мин 40 с</td><td>20 с</td>"))
                }
                try await client.execute(uri: "/cabinet/dashboard?from=nonsense", method: .get, headers: cookie) { res in
                    #expect(res.status == .ok && res.body.text.contains("Период указан неверно"))
                }
            }
        }
    }

    @Test("the journal says what was made in each CRM with links, failures in red with the reason and a replay button; names, durations, legs in words",
          arguments: Backend.available)
    func journal(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let tenant = try await sb.tenants.create(name: "Acme")
            _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "boss@acme.ru", passwordHash: Passwords.hash("correct horse"))
            let (pbx, _) = try await sb.pbx.create(tenantId: tenant.id, name: "АТС", protocol: .itoolabs, apiURL: nil, apiKey: nil)
            _ = try await sb.pbx.upsertEmployee(tenantId: tenant.id, connectionId: pbx.id, login: "anna", extension_: "101",
                                                name: "Анна Смирнова", email: nil, directNumber: nil)
            let amoCredential = try await sb.credentials.create(tenantId: tenant.id, crm: .amocrm, name: "amo", baseURL: "https://acme.amocrm.ru",
                                                                authKind: .token, secret: CRMSecret(token: "t"))
            let b24Credential = try await sb.credentials.create(tenantId: tenant.id, crm: .bitrix24, name: "b24", baseURL: "https://acme.bitrix24.ru",
                                                                authKind: .oauth, secret: CRMSecret(login: "local.1", password: "key"))
            let amo = try await sb.integrations.create(tenantId: tenant.id, crm: .amocrm, name: "amo", credentialId: amoCredential.id,
                                                       pbxConnectionId: pbx.id)
            let b24 = try await sb.integrations.create(tenantId: tenant.id, crm: .bitrix24, name: "b24", credentialId: b24Credential.id,
                                                       pbxConnectionId: pbx.id)
            let call = try await CallSeed(sb: sb, tenantId: tenant.id, connectionId: pbx.id)
                .call("j1", at: Date().addingTimeInterval(-600), .inbound, "79101112233", by: "anna", answerAfter: 5, talk: 65)
            let missed = try await CallSeed(sb: sb, tenantId: tenant.id, connectionId: pbx.id)
                .call("j2", at: Date().addingTimeInterval(-300), .inbound, "79101112244", by: "anna")

            // amoCRM made a contact, a deal, the call note and a task, and showed a card; Bitrix24's finish died.
            for kind in ["amocrm.call.ringing", "amocrm.call.finished", "bitrix24.call.finished"] {
                let integration = kind.hasPrefix("amocrm") ? amo : b24
                try await sb.queue.enqueue(JobSpec(tenantId: tenant.id, partitionKey: "crm:\(integration.id)", kind: kind,
                                                   payload: JSON.string(CallJobPayload(callId: call.id, integrationId: integration.id)),
                                                   callId: call.id))
            }
            try await sb.entities.remember(integrationId: amo.id, scope: call.id, [
                "contact": "11", "lead": "22", "call": "33", "task": "44", "shown.8001": "1", "caller": "{\"contactId\":null}",
                "lead.intent": "1700000000000",
            ])
            try await sb.entities.remember(integrationId: b24.id, scope: call.id, ["register": "externalCall.1", "created.LEAD": "7"])
            while let job = try await sb.queue.claim(worker: "w", limit: 1, lease: .seconds(30)).first {
                let dead = job.kind == "bitrix24.call.finished"
                let refused = B24Says.finishRefused("ACCESS_DENIED").phrase
                try await sb.queue.finish(job, worker: "w", startedAt: Date(),
                                          result: dead ? .dead(reason: refused.en, phrase: refused) : .done,
                                          exchanges: [])
            }
            let deadJob = try #require(try await sb.queue.list(tenantId: tenant.id, state: .dead).first)

            try await sb.buildApplication(workers: false).test(.router) { client in
                let cookie = try await cabinetSignIn(client, email: "boss@acme.ru", password: "correct horse")
                try await client.execute(uri: "/cabinet/calls", method: .get, headers: cookie) { res in
                    let html = res.body.text
                    #expect(html.contains("<a class=\"badge ok\" href=\"https://acme.amocrm.ru/contacts/detail/11\" target=\"_blank\" rel=\"noopener\">amoCRM: контакт</a>"))
                    #expect(html.contains("href=\"https://acme.amocrm.ru/leads/detail/22\""))
                    #expect(html.contains(">amoCRM: сделка<") && html.contains(">amoCRM: звонок записан<") && html.contains(">amoCRM: задача<"))
                    #expect(html.contains(">amoCRM: карточка показана<"))
                    #expect(html.contains("href=\"https://acme.bitrix24.ru/crm/lead/details/7/\"") && html.contains(">Bitrix24: лид<"))
                    #expect(html.contains("<span class=\"badge bad\">Bitrix24: звонок завершён — не удалось</span>"))
                    #expect(html.contains("<small class=\"error\">Битрикс24 отказался завершить звонок: ACCESS_DENIED</small>"))
                    // No bare status badges, no bookkeeping rows.
                    #expect(!html.contains(">выполнено<") && !html.contains("intent") && !html.contains("contactId"))
                    #expect(html.contains("<td>Анна Смирнова</td>") && html.contains("<td>1 мин 5 с</td>"))
                    #expect(!html.contains(" s</td>"))
                }
                try await client.execute(uri: "/cabinet/calls?lang=en", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("<td>1 min 5 s</td>") && res.body.text.contains(">amoCRM: contact<"))
                }
                let csrf = try await client.execute(uri: "/cabinet/calls/\(call.id)", method: .get, headers: cookie) { res in
                    let html = res.body.text
                    #expect(html.contains("Итог в CRM") && html.contains("action=\"/cabinet/jobs/\(deadJob.id)/retry\""))
                    #expect(html.contains("ACCESS_DENIED"))
                    #expect(html.contains("Разговаривали: Анна Смирнова") && html.contains("1 мин 5 с") && html.contains("Ожидание: 5 с"))
                    #expect(html.contains("<h3>Bitrix24: звонок завершён"))
                    // The legs table: as many headers as cells, states and end reasons in words.
                    let legs = try #require(html.range(of: "<h2>Плечи звонка</h2>").map { String(html[$0.upperBound...]) })
                    let table = String(legs[..<legs.range(of: "</table>")!.lowerBound])
                    let headers = table.components(separatedBy: "<th>").count - 1
                    let row = String(table[table.range(of: "<tbody>")!.upperBound...])
                    #expect(headers == 7 && row.components(separatedBy: "<td>").count - 1 == headers)
                    #expect(table.contains("<td>завершено</td>") && table.contains("<td>разговор завершён</td>"))
                    #expect(!html.contains(">ended<") && !html.contains(">COMPLETED<") && !html.contains(">ACCEPTED<"))
                    return try #require(hiddenCSRF(html))
                }
                try await client.execute(uri: "/cabinet/calls/\(missed.id)", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("<td>не ответил (вызов отменён)</td>") && !res.body.text.contains("CANCELLED<"))
                }
                try await client.execute(uri: "/cabinet/jobs/\(deadJob.id)/retry", method: .post, headers: cookie + Self.formHeaders,
                                         body: ByteBuffer(string: FormURLEncoding.encode(["csrf": csrf]))) { #expect($0.status == .seeOther) }
                #expect(try await sb.queue.get(tenantId: tenant.id, id: deadJob.id)?.state == .queued)
                try await client.execute(uri: "/cabinet/calls", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("Bitrix24: звонок завершён — повторяется"))
                }
            }
        }
    }
}
