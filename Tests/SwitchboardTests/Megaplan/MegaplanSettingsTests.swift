import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM

@Suite("Megaplan settings and call rules")
struct MegaplanSettingsTests {
    static func filled() -> MegaplanSettings {
        var s = MegaplanSettings()
        s.lineFilter = .init()
        s.lineFilter.enabled = true
        s.lineFilter.numbers = ["+7 495 123-45-67"]
        s.defaultResponsible = "1000003"
        s.createClient.responsibleTalker = .last
        s.extraFields.enabled = true
        s.extraFields.updateAlways = true
        s.extraFields.fields = ["virtualNumber": "Category1CustomFieldA", "utm_source": "Category1CustomFieldB"]
        s.extraFields.byLine = ["74951234567": ["utm_source": "yandex"]]
        s.communication.enabled = true
        s.communication.minutes = 30
        s.todo.enabled = true
        s.todo.responsible = .employee("1000002")
        s.process.enabled = true
        s.process.responsible = .client
        s.process.programId = "8"
        s.personalManager = true
        s.numberFilter = ["+79030000000"]
        s.clickToCall = ClickToCallSettings(callerId: "+74951234567", overrideCallerId: true)
        return s
    }

    @Test("MegaplanSettings with every field set, and the defaults, keep the MPSettings schema of the OpenAPI document")
    func schema() throws {
        for s in [Self.filled(), MegaplanSettings()] {
            let value = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(s))
            var problems: [String] = []
            OpenAPIContract.served.validate(value, .object(["$ref": .string("#/components/schemas/MPSettings")]), at: "MPSettings",
                                            closed: true, &problems)
            #expect(problems == [])
        }
    }

    @Test("an empty document reads as the defaults; a round trip keeps every field")
    func decoding() throws {
        #expect(try JSON.decode(MegaplanSettings.self, from: "{}") == MegaplanSettings())
        let s = Self.filled()
        #expect(try JSON.decode(MegaplanSettings.self, from: JSON.string(s)) == s)
        #expect(MegaplanSettings().communication.minutes == 120 && MegaplanSettings().createClient.enabled)
    }

    @Test("validate names each problem by field")
    func validate() {
        #expect(Self.filled().validate() == [])
        var s = MegaplanSettings()
        s.lineFilter.enabled = true
        s.numberFilter = ["abc"]
        s.extraFields.enabled = true
        s.extraFields.fields = ["colour": "Category1CustomFieldA"]
        s.communication.enabled = true
        s.communication.minutes = 0
        s.todo.enabled = true
        s.todo.kinds = []
        s.process.enabled = true
        let fields = Set(s.validate().map(\.field))
        #expect(fields == ["lineFilter.numbers", "numberFilter", "extraFields.fields", "communication.minutes", "todo.kinds",
                           "process.programId"])
    }

    @Test("rules: line filter, number filter, the call's employee, responsibles, extra field values")
    func rules() {
        let s = Self.filled()
        #expect(MegaplanCallRules.passesLineFilter(line: "74951234567", direction: .inbound, settings: s))
        #expect(!MegaplanCallRules.passesLineFilter(line: "74990000000", direction: .inbound, settings: s))
        #expect(MegaplanCallRules.passesLineFilter(line: nil, direction: .outbound, settings: s))
        #expect(!MegaplanCallRules.passesLineFilter(line: nil, direction: .inbound, settings: s))
        #expect(MegaplanCallRules.numberFiltered(PhoneNumber.parse("8 903 000-00-00"), settings: s))
        #expect(MegaplanCallRules.callUser(Self.facts(.inbound, answered: true, talkers: ["1", "2"]), settings: s) == "2")
        #expect(MegaplanCallRules.callUser(Self.facts(.inbound, answered: false), settings: s) == nil)
        #expect(MegaplanCallRules.callUser(Self.facts(.outbound, answered: false, dialler: "5"), settings: s) == "5")
        #expect(MegaplanCallRules.responsible(.talker, callUser: nil, clientResponsible: "9", settings: s) == "1000003")
        #expect(MegaplanCallRules.responsible(.client, callUser: "1", clientResponsible: "9", settings: s) == "9")
        #expect(MegaplanCallRules.responsible(.employee("7"), callUser: "1", clientResponsible: "9", settings: s) == "7")
        #expect(MegaplanCallRules.kind(direction: .internal, answered: true) == nil)
        #expect(s.extraFieldValues(line: "+7 (495) 123-45-67") == ["Category1CustomFieldA": "+7 (495) 123-45-67",
                                                                    "Category1CustomFieldB": "yandex"])
    }

    @Test("the web phone's command bodies: nested or flat employee, dnd as bool or text, the call by provider id or card")
    func webPhoneCommands() {
        let nested = MegaplanFacts.WebPhoneCommand.read(Array(#"{"command":"makeCall","employee":{"contentType":"Employee","id":"1000001"},"phone":"+79160000000"}"#.utf8))
        #expect(nested?.employeeId == "1000001" && nested?.phone == "+79160000000")
        let flat = MegaplanFacts.WebPhoneCommand.read(Array(#"{"employeeId":1000002,"enabled":"true"}"#.utf8))
        #expect(flat?.employeeId == "1000002" && flat?.dnd == true)
        let hang = MegaplanFacts.WebPhoneCommand.read(Array(#"{"employeeId":"1","providerId":null,"callInfo":{"id":"2000001"}}"#.utf8))
        #expect(hang?.providerId == nil && hang?.callInfoId == "2000001")
        #expect(MegaplanFacts.WebPhoneCommand.read(Array("not json".utf8)) == nil)
    }

    static func facts(_ direction: CallDirection, answered: Bool, talkers: [String] = [], dialler: String? = nil,
                      number: String = "+79101234567", line: String? = nil) -> CallFacts {
        CallFacts(callId: "c1", direction: direction, result: answered ? .answered : .missed, client: PhoneNumber.parse(number),
                  virtualNumber: line, talkers: talkers.map { CallPerson(login: "e\($0)", crmUser: $0) },
                  dialler: direction == .outbound ? CallPerson(login: "d", crmUser: dialler) : nil,
                  startedAt: Date(timeIntervalSince1970: 1_800_000_000), talkSec: answered ? 30 : 0)
    }

    static let unknown = CallerKnowledge(own: MegaplanCallerOwn())
    static let known = CallerKnowledge(contact: "55", owner: "9", own: MegaplanCallerOwn(contentType: "ContractorHuman"))

    /// Everything on: client, extra fields (update always), communication, todo and process for every kind of call.
    static func everything(_ change: (inout MegaplanSettings) -> Void = { _ in }) -> MegaplanSettings {
        var s = MegaplanSettings()
        s.defaultResponsible = "1000003"
        s.createClient.responsibleTalker = .last
        s.extraFields.enabled = true
        s.extraFields.fields = ["utm_source": "F1"]
        s.extraFields.byLine = ["74951234567": ["utm_source": "yandex"]]
        s.communication.enabled = true
        s.communication.minutes = 30
        s.todo.enabled = true
        s.todo.kinds = MegaplanSettings.CallKind.all
        s.todo.responsible = .client
        s.process.enabled = true
        s.process.kinds = MegaplanSettings.CallKind.all
        s.process.programId = "7"
        s.numberFilter = ["+79990000000"]
        change(&s)
        return s
    }

    struct PlanCase: CustomTestStringConvertible, Sendable {
        let name: String
        let facts: CallFacts
        let caller: CallerKnowledge<MegaplanCallerOwn>
        let settings: MegaplanSettings
        let steps: [PlanStep<MegaplanStep>]
        var testDescription: String { name }
    }

    static let planCases: [PlanCase] = [
        PlanCase(name: "incoming answered, unknown caller on a tracked line: the client with its fields, the last talker's",
                 facts: facts(.inbound, answered: true, talkers: ["1", "2"], line: "74951234567"), caller: unknown, settings: everything(),
                 steps: [.common(.createContact(responsible: "2", fields: ["F1": "yandex"], tags: [])), .own(.finishCall(user: "2")),
                         .own(.bindClient), .own(.communication(responsible: "2", minutes: 30)),
                         .common(.createTask(responsible: "2", text: "Обработать звонок +79101234567", dueMinutes: 60)),
                         .own(.process(programId: "7", responsible: "2"))]),
        PlanCase(name: "incoming missed, known caller: fields updated, the todo for the client's responsible, the process the default's",
                 facts: facts(.inbound, answered: false, line: "74951234567"), caller: known,
                 settings: everything { $0.extraFields.updateAlways = true },
                 steps: [.common(.updateContactFields(["F1": "yandex"])), .own(.finishCall(user: nil)), .own(.bindClient),
                         .own(.communication(responsible: "1000003", minutes: 30)),
                         .common(.createTask(responsible: "9", text: "Перезвонить +79101234567", dueMinutes: 60)),
                         .own(.process(programId: "7", responsible: "1000003"))]),
        PlanCase(name: "known caller without update always: no field step",
                 facts: facts(.inbound, answered: true, talkers: ["1"], line: "74951234567"), caller: known,
                 settings: everything { $0.communication.enabled = false; $0.process.enabled = false; $0.todo.enabled = false },
                 steps: [.own(.finishCall(user: "1")), .own(.bindClient)]),
        PlanCase(name: "outgoing missed, nobody to create for: the dialler's call, no client made",
                 facts: facts(.outbound, answered: false, dialler: "5"), caller: unknown,
                 settings: everything { $0.createClient.enabled = false; $0.todo.kinds = [MegaplanSettings.CallKind(.incoming, .missed)] },
                 steps: [.own(.finishCall(user: "5")), .own(.communication(responsible: "5", minutes: 30)),
                         .own(.process(programId: "7", responsible: "5"))]),
        PlanCase(name: "a filtered number: only the cards",
                 facts: facts(.inbound, answered: true, talkers: ["1"], number: "8 999 000-00-00"), caller: known, settings: everything(),
                 steps: [.own(.finishCall(user: "1"))]),
        PlanCase(name: "an internal call plans nothing", facts: facts(.internal, answered: true, talkers: ["1"]), caller: unknown,
                 settings: everything(), steps: []),
    ]

    @Test("a finished call's plan, from the neutral facts and what Megaplan knew", arguments: planCases)
    func plan(_ c: PlanCase) {
        let plan = MegaplanCallRules.plan(c.facts, c.caller, c.settings)
        #expect(plan.steps == c.steps)
        #expect(plan.journal.allSatisfy { !$0.ru.isEmpty && $0.ru != $0.en })
    }
}
