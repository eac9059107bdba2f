import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

@Suite("Phrases: what the engine tells a tenant, in Russian and English, beside the code that decides it")
struct MessagesTests {
    /// Every sentence the generic code can say, with sample values.
    static let generic: [Phrase] = CallSkip.phrases + ContextProblem.phrases + InputProblem.phrases + CRMFailure.phrases
        + DealNote.phrases + TextJobNote.phrases + TextSkip.phrases + CredentialStatus.phrases + OutboundPolicy.Problem.phrases
        + AccountURL.Problem.phrases + SecretMoved.phrases + WorkerProblem.phrases + EmployeeSync.Failure.phrases
        + EmployeeSync.Note.phrases + PBXCommandError.Reason.phrases

    static func connectors() async throws -> [CRMConnector] {
        try await withSwitchboard(.sqlite) { sb in sb.connectors.all }
    }

    @Test("every sentence of the generic code and of each connector has its own code and both languages")
    func catalogue() async throws {
        let connectors = try await Self.connectors()
        #expect(connectors.count >= 4)
        for c in connectors { #expect(c.phrases.count > 20, "\(c.title) lists no phrases") }
        let all = Self.generic + connectors.flatMap(\.phrases)
        var seen: [String: Phrase] = [:]
        for p in all {
            #expect(!p.code.isEmpty && !p.en.isEmpty && !p.ru.isEmpty, "empty: \(p)")
            #expect(p.ru != p.en, "no Russian for \(p.code): \(p.en)")
            #expect(p.ru.range(of: "[а-яё]", options: [.regularExpression, .caseInsensitive]) != nil, "\(p.code) is not Russian: \(p.ru)")
            #expect(seen[p.code] == nil, "code \(p.code) is used for \(seen[p.code]?.en ?? "") and \(p.en)")
            seen[p.code] = p
        }
        #expect(seen.count > 250)
    }

    @Test("what a request was for reads inside the failure, one sentence in each language")
    func nested() {
        let limited = AmoSays.rateLimited(.createTask).phrase
        #expect(limited.en == "amoCRM rate limit (429) while trying to create the task")
        #expect(limited.ru == "amoCRM ограничила частоту запросов (429) при попытке создать задачу")
        #expect(AmoSays.answered(502, .logCall).phrase.ru == "amoCRM ответила 502 при попытке записать звонок")
        let rule = AmoReason.rule(outgoing: false, answered: false, known: true).phrase
        #expect(AmoReason.openDealUsed(rule: rule, deal: 77).phrase.ru
            == "входящий пропущенный звонок существующего клиента: звонок прикреплён к открытой сделке клиента 77")
        let incomplete = ContextProblem.settingsIncomplete(crm: AmoCRM.title, problems: AmoSettings().validate()).phrase
        #expect(incomplete.ru.hasPrefix("настройки amoCRM не заполнены: defaultResponsibleUserId: выберите ответственного по умолчанию"))
        #expect(incomplete.en.hasPrefix("the amoCRM settings are incomplete: defaultResponsibleUserId: choose the default responsible user"))
        let refused = CRMFailure.addressRefused(crm: MoySklad.title, reason: .address(host: "h", address: "10.0.0.1", kind: .private)).phrase
        #expect(refused.ru == "адрес аккаунта МойСклад отклонён: h ведёт на 10.0.0.1 — адрес частной сети, туда Switchboard запросы не отправляет")
    }

    @Test("settings problems, account-address problems and credential states have their Russian; the API's English stays")
    func validation() {
        var s = AmoSettings()
        s.incoming.answeredUnknown = AmoRule(enabled: true, action: .contactAndDeal)
        s.incoming.missedUnknown = AmoRule(enabled: true, action: .unsorted)
        s.incoming.answeredKnown = AmoRule(enabled: true, action: .contactOnly)
        s.outgoing.answeredUnknown = AmoRule(enabled: true, action: .deal)
        s.outgoing.filterNumbers = ["hello"]
        let problems = s.validate()
        #expect(problems.count >= 6)
        #expect(problems.contains { $0.message == "\"hello\" is not a phone number" && $0.phrase.ru == "«hello» — не телефонный номер" })
        #expect(problems.contains { $0.message == "choose a pipeline" && $0.phrase.ru == "выберите воронку" })
        for bad in ["", "not a url", "http://example.amocrm.ru", "http://127.0.0.1:9000", "https://10.0.0.5",
                    "https://169.254.169.254", "https://u:p@example.amocrm.ru"] {
            do {
                _ = try AccountURL.normalize(bad, policy: .init())
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.description == error.phrase.en)
                #expect(error.phrase.ru != error.phrase.en, "no Russian for: \(error.description)")
            }
        }
        #expect(CredentialStatus.allCases.map(\.phrase.ru) == ["не проверено", "работает", "ошибка", "нужно переподключить"])
        for p in MSSettings().validate() + B24Settings().validate() + MegaplanSettings().validate() {
            #expect(p.phrase.ru.range(of: "(choose|add|employee)", options: .regularExpression) == nil, "English left in: \(p.phrase.ru)")
        }
    }

    @Test("a journal note, a failure's reason and a credential's state show in Russian in the cabinet; rows stored as plain English show their English",
          arguments: Backend.available)
    func cabinet(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let tenant = try await sb.tenants.create(name: "Acme")
            _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "boss@acme.ru", passwordHash: Passwords.hash("correct horse"))
            let (pbx, _) = try await sb.pbx.create(tenantId: tenant.id, name: "АТС", protocol: .itoolabs, apiURL: nil, apiKey: nil)
            let blocked = try await sb.credentials.create(tenantId: tenant.id, crm: .amocrm, name: "blocked", baseURL: "https://acme.amocrm.ru",
                                                          authKind: .token, secret: CRMSecret(token: "t"))
            try await sb.credentials.setStatus(tenantId: tenant.id, id: blocked.id, status: .failed, detail: AmoSays.blocked.phrase)
            let legacy = try await sb.credentials.create(tenantId: tenant.id, crm: .amocrm, name: "legacy", baseURL: "https://old.amocrm.ru",
                                                         authKind: .token, secret: CRMSecret(token: "t"))
            _ = try await sb.db.transaction { tx in
                try await tx.execute("UPDATE crm_credentials SET status = 'failed', status_detail = ? WHERE id = ?",
                                     [.text("amoCRM said no"), .text(legacy.id)])
            }
            let stored = try #require(try await sb.credentials.get(tenantId: tenant.id, id: blocked.id))
            #expect(stored.statusDetail == "amoCRM answered 403: the account or the integration is blocked" && stored.statusPhrase == AmoSays.blocked.phrase)

            let integration = try await sb.integrations.create(tenantId: tenant.id, crm: .amocrm, name: "amo", credentialId: blocked.id,
                                                               pbxConnectionId: pbx.id)
            let call = try await CallSeed(sb: sb, tenantId: tenant.id, connectionId: pbx.id)
                .call("p1", at: Date().addingTimeInterval(-600), .inbound, "79101112233", by: "anna", answerAfter: 5, talk: 65)
            try await sb.queue.enqueue(JobSpec(tenantId: tenant.id, partitionKey: "crm:\(integration.id)", kind: "amocrm.call.finished",
                                               payload: JSON.string(CallJobPayload(callId: call.id, integrationId: integration.id)),
                                               callId: call.id))
            let job = try #require(try await sb.queue.claim(worker: "w", limit: 1, lease: .seconds(30)).first)
            let log = AttemptLog()
            log.note(CallSkip.internalCall(crm: AmoCRM.title))
            log.record(Exchange(request: "", note: "a note stored before phrases were"))
            let reason = AmoSays.rateLimited(.createTask).phrase
            try await sb.queue.finish(job, worker: "w", startedAt: Date(), result: .dead(reason: reason.en, phrase: reason),
                                      exchanges: log.exchanges)
            let attempts = try await sb.queue.attempts(tenantId: tenant.id, jobId: job.id)
            #expect(attempts.first?.detail == reason.en && attempts.first?.detailPhrase == reason)
            #expect(attempts.first?.exchanges.first?.note == "internal calls are not sent to amoCRM")

            try await sb.buildApplication(workers: false).test(.router) { client in
                let cookie = try await cabinetSignIn(client, email: "boss@acme.ru", password: "correct horse")
                try await client.execute(uri: "/cabinet/credentials?crm=amocrm", method: .get, headers: cookie) { res in
                    let html = res.body.text
                    #expect(html.contains(">ошибка</span> amoCRM ответила 403: аккаунт или интеграция заблокированы</p>"))
                    #expect(html.contains(">ошибка</span> amoCRM said no</p>"))
                }
                try await client.execute(uri: "/cabinet/credentials?crm=amocrm&lang=en", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains(">failed</span> amoCRM answered 403: the account or the integration is blocked</p>"))
                }
                try await client.execute(uri: "/cabinet/calls/\(call.id)", method: .get, headers: cookie) { res in
                    let html = res.body.text
                    #expect(html.contains("<pre>внутренние звонки в amoCRM не передаются</pre>"))
                    #expect(html.contains("<pre>a note stored before phrases were</pre>"))
                    #expect(html.contains(esc("amoCRM ограничила частоту запросов (429) при попытке создать задачу")))
                    #expect(!html.contains("rate limit (429)"))
                }
                try await client.execute(uri: "/cabinet/calls/\(call.id)?lang=en", method: .get, headers: cookie) { res in
                    #expect(res.body.text.contains("<pre>internal calls are not sent to amoCRM</pre>"))
                    #expect(res.body.text.contains("amoCRM rate limit (429) while trying to create the task"))
                }
            }
        }
    }
}
