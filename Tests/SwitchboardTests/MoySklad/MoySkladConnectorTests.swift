import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardSandbox

/// The MoySklad connector's pure parts: settings (defaults, problems, schema), rules, the click-to-call signature.
@Suite("MoySklad connector: settings, rules, signature")
struct MoySkladConnectorTests {
    @Test("a new integration's settings need only the default responsible; every problem names its field")
    func validate() throws {
        let fresh = try JSON.decode(MSSettings.self, from: "{}")
        #expect(fresh.validate().map(\.field) == ["defaultResponsible"])
        #expect(fresh.incomingMissed.createTask && fresh.incomingAnswered.createCounterparty && !fresh.outgoingMissed.createCounterparty)
        var s = fresh
        s.defaultResponsible = "emp"
        s.taskDueMinutes = 0
        s.lines = ["12"]
        s.ignoredNumbers = ["x"]
        s.extraFields = [.init(attribute: "", source: "utm_nope")]
        #expect(Set(s.validate().map(\.field)) == ["taskDueMinutes", "lines", "ignoredNumbers", "extraFields"])
        #expect(CRMConnector.problems(MSSettings.self) { $0.validate() }(.object([:])).map(\.field) == ["defaultResponsible"])
        #expect(CRMConnector.problems(MSSettings.self) { $0.validate() }(.object(["lines": .string("x")])).map(\.field) == [""])
    }

    @Test("MSSettings with every field set keeps the MSSettings schema")
    func schema() throws {
        var s = MSSettings()
        s.personalManager = true
        s.showInternalCalls = true
        s.defaultResponsible = "emp"
        s.responsibleTalker = .last
        s.incomingAnswered = .init(createCounterparty: true, createOrder: true, createTask: true)
        s.order = .init(state: "Новый", organizationId: "org")
        s.taskDueMinutes = 30
        s.lines = ["+74951234567"]
        s.ignoredNumbers = ["+79030000000"]
        s.extraFields = [.init(attribute: "a", source: "utm_source")]
        s.extraFieldsUpdateAlways = true
        s.utmByLine = ["74951234567": ["utm_source": "yandex"]]
        s.clickToCall = ClickToCallSettings(callerId: "+74951234567", overrideCallerId: true)
        let value = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(s))
        var problems: [String] = []
        OpenAPIContract.served.validate(value, .object(["$ref": .string("#/components/schemas/MSSettings")]), at: "MSSettings",
                                        closed: true, &problems)
        #expect(problems == [])
    }

    @Test("responsible: talker by the setting, the dialler, else the default; filters by line and number")
    func rules() {
        var s = MSSettings()
        s.defaultResponsible = "D"
        #expect(MSCallRules.responsible(Self.facts(.inbound, answered: true, talkers: ["A", "B"]), settings: s) == "A")
        s.responsibleTalker = .last
        #expect(MSCallRules.responsible(Self.facts(.inbound, answered: true, talkers: ["A", "B"]), settings: s) == "B")
        #expect(MSCallRules.responsible(Self.facts(.inbound, answered: false), settings: s) == "D")
        #expect(MSCallRules.responsible(Self.facts(.inbound, answered: true), settings: s) == "D")
        #expect(MSCallRules.responsible(Self.facts(.outbound, answered: false, dialler: "C"), settings: s) == "C")
        #expect(MSCallRules.responsible(Self.facts(.outbound, answered: false), settings: s) == "D")
        s.lines = ["8 (495) 123-45-67"]
        s.ignoredNumbers = ["+7 903 111-22-33"]
        #expect(s.takes(line: "74951234567") && !s.takes(line: "74990000000") && s.takes(line: nil) && s.takes(line: ""))
        #expect(s.ignores(client: PhoneNumber.parse("89031112233")) && !s.ignores(client: PhoneNumber.parse("89031112234")))
    }

    @Test("the click-to-call signature: the sandbox's way is one of the candidates; a wrong key or a changed number is not")
    func signature() {
        let key = MoySkladSandboxSeed.demo.phoneAccessKey
        let body = MoySkladClickToCall.body(srcNumber: "102", destNumber: "+79161112233", uid: "boris@demo")
        let signed = MoySkladClickToCall.signature(accessKey: key, srcNumber: "102", destNumber: "+79161112233", uid: "boris@demo")
        #expect(MSClickToCallSignature.match(signature: signed, accessKey: key, srcNumber: "102", destNumber: "+79161112233",
                                             uid: "boris@demo", rawBody: body) != nil)
        #expect(MSClickToCallSignature.match(signature: signed.lowercased(), accessKey: key, srcNumber: "102",
                                             destNumber: "+79161112233", uid: "boris@demo", rawBody: body) != nil)
        #expect(MSClickToCallSignature.match(signature: signed, accessKey: "other", srcNumber: "102", destNumber: "+79161112233",
                                             uid: "boris@demo", rawBody: body) == nil)
        #expect(MSClickToCallSignature.match(signature: signed, accessKey: key, srcNumber: "102", destNumber: "+79160000000",
                                             uid: "boris@demo", rawBody: body) == nil)
        // The key followed by the raw body is another candidate.
        let raw = MSClickToCallSignature.md5(key + body)
        #expect(MSClickToCallSignature.match(signature: raw, accessKey: key, srcNumber: "102", destNumber: "+79161112233",
                                             uid: "boris@demo", rawBody: body) == "key+body")
    }

    @Test("the connection test, the settings problems and the journal's job kinds read in Russian")
    func russian() {
        let phrases = [MSSays.works(account: "ООО \"Демо\"", employees: 3, withExtensions: 3).phrase,
                       MSSays.answered("429 1049: Превышено ограничение", .createTask).phrase] + MSSettings().validate().map(\.phrase)
        #expect(phrases[0].en == "connection works, account ООО \"Демо\", 3 employees, 3 with extensions in the telephony application")
        for p in phrases {
            #expect(p.ru.range(of: "(account|employees|answered|while|choose)", options: .regularExpression) == nil, "English left in: \(p.ru)")
        }
    }

    static func facts(_ direction: CallDirection, answered: Bool, talkers: [String] = [], dialler: String? = nil,
                      number: String = "+79101234567", line: String? = nil) -> CallFacts {
        CallFacts(callId: "c1", direction: direction, result: answered ? .answered : (direction == .outbound ? .noAnswer : .missed),
                  client: PhoneNumber.parse(number), virtualNumber: line,
                  talkers: talkers.map { CallPerson(login: "e\($0)", crmUser: $0) },
                  dialler: direction == .outbound ? CallPerson(login: "d", crmUser: dialler) : nil,
                  startedAt: Date(timeIntervalSince1970: 1_800_000_000), talkSec: answered ? 30 : 0)
    }

    struct PlanCase: CustomTestStringConvertible, Sendable {
        let name: String
        let facts: CallFacts
        let caller: CallerKnowledge<NoKnowledge>?
        let steps: [PlanStep<MSStep>]
        var testDescription: String { name }
    }

    static let unknown = CallerKnowledge(own: NoKnowledge())
    static let known = CallerKnowledge(contact: "K", owner: "O", own: NoKnowledge())

    static let planCases: [PlanCase] = [
        PlanCase(name: "incoming missed, unknown caller: counterparty with its fields, task, the call closed with nobody's employee",
                 facts: facts(.inbound, answered: false, line: "74951234567"), caller: unknown,
                 steps: [.common(.createContact(responsible: "D", fields: ["attr-src": "ya", "attr-line": "+74951234567"], tags: [])),
                         .own(.customerOrder(owner: "D")),
                         .common(.createTask(responsible: "D", text: "Перезвонить: Входящий звонок, пропущен, +79101234567 (Switchboard c1)",
                                             dueMinutes: 60)),
                         .own(.closeCall(employee: nil, comment: "Входящий звонок, пропущен"))]),
        PlanCase(name: "incoming answered, known caller: fields updated (update always), the last talker's call",
                 facts: facts(.inbound, answered: true, talkers: ["A", "B"], line: "74951234567"), caller: known,
                 steps: [.common(.updateContactFields(["attr-src": "ya", "attr-line": "+74951234567"])),
                         .own(.closeCall(employee: "B", comment: "Входящий звонок, разговор 30 с"))]),
        PlanCase(name: "outgoing missed, unknown, the rule makes no counterparty: the dialler's call and a task to call back",
                 facts: facts(.outbound, answered: false, dialler: "C"), caller: unknown,
                 steps: [.common(.createTask(responsible: "C",
                                             text: "Связаться с клиентом: Исходящий звонок, клиент не ответил, +79101234567 (Switchboard c1)",
                                             dueMinutes: 60)),
                         .own(.closeCall(employee: "C", comment: "Исходящий звонок, клиент не ответил"))]),
        PlanCase(name: "no JSON API access: only the call is closed", facts: facts(.inbound, answered: true, talkers: ["A"]), caller: nil,
                 steps: [.own(.closeCall(employee: "A", comment: "Входящий звонок, разговор 30 с"))]),
        PlanCase(name: "an ignored number: only the call is closed", facts: facts(.inbound, answered: false, number: "8 903 111-22-33"),
                 caller: unknown, steps: [.own(.closeCall(employee: nil, comment: "Входящий звонок, пропущен"))]),
    ]

    @Test("a finished call's plan, from the neutral facts and what MoySklad knew", arguments: planCases)
    func plan(_ c: PlanCase) {
        var s = MSSettings()
        s.defaultResponsible = "D"
        s.responsibleTalker = .last
        s.incomingMissed = MSSettings.Rule(createCounterparty: true, createOrder: true, createTask: true)
        s.outgoingMissed = MSSettings.Rule(createCounterparty: false, createTask: true)
        s.ignoredNumbers = ["+7 903 111-22-33"]
        s.extraFields = [MSSettings.ExtraField(attribute: "attr-src", source: "utm_source"), MSSettings.ExtraField(attribute: "attr-line", source: "line")]
        s.extraFieldsUpdateAlways = true
        s.utmByLine = ["8 (495) 123-45-67": ["utm_source": "ya"]]
        let plan = MSCallRules.plan(c.facts, c.caller, s)
        #expect(plan.steps == c.steps)
        #expect(plan.journal.allSatisfy { !$0.ru.isEmpty && $0.ru != $0.en })
        if c.facts.client?.raw == "8 903 111-22-33" { #expect(plan.reasons.map(\.en).contains { $0.contains("without entities") || $0.contains("CORE-11") }) }
    }
}
