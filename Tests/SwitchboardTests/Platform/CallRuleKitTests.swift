import Foundation
import Testing
import SwitchboardCore

/// Table tests of the helpers every CRM's call rules share (decision 0006 §2), and of the neutral facts they read.
@Suite("Call rules: the shared kit")
struct CallRuleKitTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func facts(_ direction: CallDirection, answered: Bool, talkers: [String?] = [], dialler: String? = nil,
                      line: String? = nil) -> CallFacts {
        CallFacts(callId: "c", direction: direction, result: answered ? .answered : (direction == .outbound ? .noAnswer : .missed),
                  client: PhoneNumber.parse("+79101234567"), virtualNumber: line,
                  talkers: talkers.enumerated().map { CallPerson(login: "e\($0.offset)", crmUser: $0.element) },
                  dialler: direction == .outbound || dialler != nil ? CallPerson(login: "d", crmUser: dialler) : nil, startedAt: t0)
    }

    struct Responsible: CustomTestStringConvertible, Sendable {
        let name: String
        let facts: CallFacts
        let owner: String?
        let choice: TalkerChoice
        /// `responsible(…, fallback: "D")` (CORE-7/8 with the client's manager).
        let responsible: String
        /// `employeeOfCall` (nil: nobody).
        let employee: String?
        var testDescription: String { name }
    }

    static let responsibles: [Responsible] = [
        Responsible(name: "incoming answered, last talker", facts: facts(.inbound, answered: true, talkers: ["1", "2"]), owner: "O",
                    choice: .last, responsible: "2", employee: "2"),
        Responsible(name: "incoming answered, first talker", facts: facts(.inbound, answered: true, talkers: ["1", "2"]), owner: "O",
                    choice: .first, responsible: "1", employee: "1"),
        Responsible(name: "an unmapped talker gives way to the next mapped one", facts: facts(.inbound, answered: true, talkers: ["1", nil]),
                    owner: nil, choice: .last, responsible: "1", employee: "1"),
        Responsible(name: "incoming answered, nobody mapped talked → the client's manager", facts: facts(.inbound, answered: true, talkers: [nil]),
                    owner: "O", choice: .last, responsible: "O", employee: nil),
        Responsible(name: "incoming missed → the client's manager", facts: facts(.inbound, answered: false), owner: "O", choice: .last,
                    responsible: "O", employee: nil),
        Responsible(name: "incoming missed, unknown caller → the default", facts: facts(.inbound, answered: false), owner: nil,
                    choice: .last, responsible: "D", employee: nil),
        Responsible(name: "a dialler on an incoming call means nothing", facts: facts(.inbound, answered: false, dialler: "4"), owner: nil,
                    choice: .last, responsible: "D", employee: nil),
        Responsible(name: "outgoing missed → the manager before the dialler", facts: facts(.outbound, answered: false, dialler: "4"),
                    owner: "O", choice: .last, responsible: "O", employee: "4"),
        Responsible(name: "outgoing missed, unknown → the dialler", facts: facts(.outbound, answered: false, dialler: "4"), owner: nil,
                    choice: .last, responsible: "4", employee: "4"),
        Responsible(name: "outgoing answered → the talker; the call is the dialler's", facts: facts(.outbound, answered: true, talkers: ["1"], dialler: "4"),
                    owner: "O", choice: .last, responsible: "1", employee: "4"),
        Responsible(name: "outgoing, dialler not mapped → the first talker is the call's", facts: facts(.outbound, answered: true, talkers: ["1", "2"]),
                    owner: nil, choice: .last, responsible: "2", employee: "1"),
        Responsible(name: "outgoing, nobody mapped → the default", facts: facts(.outbound, answered: false), owner: nil, choice: .first,
                    responsible: "D", employee: nil),
    ]

    @Test("who is responsible and whose call it is", arguments: responsibles)
    func responsible(_ c: Responsible) {
        #expect(CallRuleKit.responsible(c.facts, owner: c.owner, choice: c.choice, fallback: "D") == c.responsible)
        #expect(CallRuleKit.employeeOfCall(c.facts, choice: c.choice) == c.employee)
    }

    @Test("number filters and virtual numbers: the last ten digits decide, however the number is written",
          arguments: [
              ("8 (910) 123-45-67", ["+79101234567"], true), ("79101234567", ["9101234567"], true),
              ("+79101234567", ["+79101234568"], false), ("+79101234567", [], false), ("101", ["101"], true), ("101", ["102"], false),
          ])
    func filters(_ client: String, _ numbers: [String], _ filtered: Bool) {
        #expect(CallRuleKit.isFiltered(PhoneNumber.parse(client), numbers) == filtered)
    }

    @Test("virtual-number filter: empty passes all; a call without a line passes only when told")
    func lines() {
        #expect(CallRuleKit.onLines("74951234567", [], lineless: false))
        #expect(CallRuleKit.onLines("8 495 123-45-67", ["+74951234567"], lineless: false))
        #expect(!CallRuleKit.onLines("74990000000", ["+74951234567"], lineless: true))
        #expect(CallRuleKit.onLines(nil, ["+74951234567"], lineless: true))
        #expect(!CallRuleKit.onLines("", ["+74951234567"], lineless: false))
        #expect(CallRuleKit.isFiltered(nil, ["+74951234567"]) == false)
    }

    @Test("extra fields: the line's campaign, the virtual number and the client; empty values left out")
    func extraFields() {
        let f = Self.facts(.inbound, answered: true, line: "74951234567")
        let attributes = CallRuleKit.attributes(f, byLine: ["8 (495) 123-45-67": ["utm_source": "ya", "utm_term": ""],
                                                            "74990000000": ["utm_source": "other"]])
        #expect(attributes == ["utm_source": "ya", "utm_term": "", "virtualNumber": "74951234567", "client": "+79101234567"])
        #expect(CallRuleKit.extraFields(attributes, [("utm_source", "F1"), ("utm_term", "F2"), ("virtualNumber", "F3"), ("site", "F4")])
                    == ["F1": "ya", "F3": "74951234567"])
        #expect(CallRuleKit.attributes(Self.facts(.outbound, answered: true), byLine: ["74951234567": ["utm_source": "ya"]])
                    == ["client": "+79101234567"])
        #expect(CallRuleKit.writesFields(contactIsNew: true, updateAlways: false))
        #expect(!CallRuleKit.writesFields(contactIsNew: false, updateAlways: false))
        #expect(CallRuleKit.writesFields(contactIsNew: false, updateAlways: true))
    }

    @Test("direction × outcome selectors", arguments: [
        (CallDirection.inbound, true, DirectionOutcome(.incoming, .answered)), (.inbound, false, DirectionOutcome(.incoming, .missed)),
        (.outbound, true, DirectionOutcome(.outgoing, .answered)), (.outbound, false, DirectionOutcome(.outgoing, .missed)),
    ])
    func selectors(_ direction: CallDirection, _ answered: Bool, _ kind: DirectionOutcome) throws {
        let f = Self.facts(direction, answered: answered)
        #expect(DirectionOutcome.of(f) == kind)
        #expect(CallRuleKit.matches(f, [kind]))
        #expect(!CallRuleKit.matches(f, DirectionOutcome.all.filter { $0 != kind }))
        #expect(try JSON.decode(DirectionOutcome.self, from: JSON.string(kind)) == kind)
    }

    @Test("internal calls and calls of unknown direction match no selector")
    func noSelector() throws {
        #expect(!CallRuleKit.matches(Self.facts(.internal, answered: true), DirectionOutcome.all))
        #expect(DirectionOutcome.of(direction: .unknown, answered: false) == nil)
        #expect(try JSON.decode(DirectionOutcome.self, from: #"{"direction":"outgoing","status":"missed"}"#) == DirectionOutcome(.outgoing, .missed))
    }

    @Test("the facts of a stored call: talkers and dialler through the mapping, times, the line among the attributes")
    func factsOfCall() {
        var call = Call(id: "c9", tenantId: "t", pbxConnectionId: "p", externalIds: ["x"], createdAt: Self.t0)
        call.direction = .outbound
        call.client = PhoneNumber.parse("+79101234567")
        call.lineNumber = "74951234567"
        call.state = .finalized
        call.legs = [Leg(id: "leg2", employeeLogin: "petr", extension_: "102", group: nil, state: .ended, startedAt: Self.t0.addingTimeInterval(5)),
                     Leg(id: "leg1", employeeLogin: nil, extension_: "101", group: nil, state: .ended, startedAt: Self.t0)]
        call.talkers = ["petr"]
        call.answeredAt = Self.t0.addingTimeInterval(10)
        call.endedAt = Self.t0.addingTimeInterval(70)
        call.recordingURL = "https://r/1.mp3"
        let f = CallFacts.make(call, userByLogin: ["101": "U1", "petr": "U2"])
        #expect(f.answered && f.result == .answered && f.moment == .ended)
        #expect(f.talkers == [CallPerson(login: "petr", extension_: "102", crmUser: "U2")])
        // The dialler is the first leg, mapped by its extension when it has no login.
        #expect(f.dialler == CallPerson(login: "leg1", extension_: "101", crmUser: "U1"))
        #expect(f.talkSec == 60 && f.waitSec == 10 && f.recordingURL == "https://r/1.mp3")
        #expect(f.attributes == ["virtualNumber": "74951234567", "client": "+79101234567"])
        #expect(f.legs.map(\.person.crmUser) == ["U2", "U1"])
        call.direction = .inbound
        #expect(CallFacts.make(call, moment: .ringing, employeeLogin: "petr", userByLogin: [:]).dialler == nil)
        #expect(CallFacts.make(call, moment: .ringing, employeeLogin: "petr", userByLogin: ["petr": "U2"]).employee?.crmUser == "U2")
    }

    @Test("common settings: the same keys in every CRM's document, and the keys stored before them")
    func commonSettings() throws {
        func read(_ text: String) throws -> CommonSettings { CommonSettings(json: try JSON.decode(JSONValue.self, from: text)) }
        #expect(try read(#"{}"#) == CommonSettings())
        #expect(try read(#"{"personalManager":true,"clickToCall":{"callerId":"+74950000000"},"virtualNumbers":["1"],"internalCalls":true}"#)
                    == CommonSettings(personalManager: true, clickToCall: ClickToCallSettings(callerId: "+74950000000"),
                                      virtualNumbers: ["1"], internalCalls: true))
        #expect(try read(#"{"incoming":{"personalManager":true}}"#).personalManager)
        #expect(try read(#"{"lineFilter":{"enabled":true,"numbers":["74951234567"]}}"#).virtualNumbers == ["74951234567"])
        #expect(try read(#"{"lineFilter":{"enabled":false,"numbers":["74951234567"]}}"#).virtualNumbers == nil)
        #expect(try read(#"{"lines":["74951234567"],"showInternalCalls":true}"#)
                    == CommonSettings(virtualNumbers: ["74951234567"], internalCalls: true))
        // A value of the wrong type reads as the default, not as an unreadable document.
        #expect(try read(#"{"personalManager":"yes","clickToCall":{"overrideCallerId":true}}"#)
                    == CommonSettings(clickToCall: ClickToCallSettings(overrideCallerId: true)))
        #expect(try read(#"[1,2]"#) == CommonSettings())
    }

    @Test("every common step reads in both languages, under a code of its own")
    func commonSummaries() {
        let steps: [CommonStep] = [
            .createContact(responsible: "7", fields: ["F": "v"], tags: ["t"]), .createContact(responsible: nil, fields: [:], tags: []),
            .updateContactFields(["F": "v"]), .logCall(responsible: "7", withRecording: true), .logCall(responsible: nil, withRecording: false),
            .createTask(responsible: "7", text: "Перезвонить", dueMinutes: 60), .tag(["a", "b"]), .notify(user: "7", text: "x"),
        ]
        for step in steps {
            #expect(step.summary.en.hasPrefix("plan: ") && step.summary.ru.hasPrefix("план: "))
            #expect(step.summary.ru.range(of: "(create|contact|responsible|log the|task|message)", options: .regularExpression) == nil,
                    "English left in: \(step.summary.ru)")
        }
        #expect(Set(steps.map(\.summary.code)).count == 6)
        let plan = Plan<CommonStepOnly>(steps: [.common(.tag(["a"]))], reasons: [Phrase(code: "r", en: "why", ru: "почему")])
        #expect(plan.journal.map(\.en) == ["why", "plan: tag with a"])
    }
}

/// A CRM with no step of its own, for the plan's own tests.
enum CommonStepOnly: Codable, Sendable, Equatable, StepDescribing {
    case nothing
    var summary: Phrase { Phrase(code: "none", en: "none", ru: "ничего") }
}
