import Foundation
import Testing
import SwitchboardCore
import SwitchboardCRM

@Suite("Bitrix24 settings and rules")
struct B24SettingsTests {
    @Test("a partial document reads with defaults; the required responsibles are named field by field")
    func partialAndRequired() throws {
        let s = try JSON.decode(B24Settings.self, from: #"{"incoming":{"defaultResponsible":3},"clickToCall":{"callerId":"+74951112233"},"callTracking":{"enabled":true}}"#)
        #expect(s.incoming.defaultResponsible == 3 && s.incoming.createEntity && !s.incoming.personalManager)
        #expect(s.clickToCall.callerId == "+74951112233" && !s.clickToCall.overrideCallerId)
        #expect(s.callTracking.enabled && s.callTracking.tags.isEmpty && s.telephonyMode == .ip)
        #expect(s.validate().map(\.field) == ["incoming.responsibleTalker", "outgoing.defaultResponsible"])
        #expect(B24Settings().validate().count == 3)
        var bad = B24Settings()
        bad.callTracking.tags = ["utm_source", "gclid"]
        bad.callTracking.byLine = ["12": ["utm_source": "x"]]
        #expect(bad.validate().filter { $0.field.hasPrefix("callTracking") }.count == 2)
    }

    @Test("UTM fields: only the chosen tags of the call's virtual number, matched by its last ten digits")
    func utm() {
        var s = B24Settings()
        s.callTracking.enabled = true
        s.callTracking.tags = ["utm_source", "utm_term"]
        s.callTracking.byLine = ["8 (495) 123-45-67": ["utm_source": "ya", "utm_medium": "cpc", "utm_term": ""]]
        #expect(s.utmFields(line: "74951234567") == ["UTM_SOURCE": "ya"])
        #expect(s.utmFields(line: "74950000000").isEmpty && s.utmFields(line: nil).isEmpty)
        s.callTracking.enabled = false
        #expect(s.utmFields(line: "74951234567").isEmpty)
    }

    @Test("finish's STATUS_CODE and responsible follow the result, the direction and the talker setting")
    func rules() {
        #expect(B24CallRules.statusCode(.answered, direction: .inbound) == "200")
        #expect(B24CallRules.statusCode(.missed, direction: .inbound) == "304")
        #expect(B24CallRules.statusCode(.busy, direction: .outbound) == "486")
        #expect(B24CallRules.statusCode(.noAnswer, direction: .outbound) == "480")
        #expect(B24CallRules.statusCode(.failed, direction: .inbound) == "603")
        var s = B24Settings()
        s.incoming.defaultResponsible = 9
        s.outgoing.defaultResponsible = 8
        s.incoming.responsibleTalker = .last
        #expect(B24CallRules.finisher(Self.facts(.inbound, answered: true, talkers: [1, 2]), settings: s) == 2)
        s.incoming.responsibleTalker = .first
        #expect(B24CallRules.finisher(Self.facts(.inbound, answered: true, talkers: [1, 2]), settings: s) == 1)
        #expect(B24CallRules.finisher(Self.facts(.inbound, answered: false), settings: s) == 9)
        #expect(B24CallRules.finisher(Self.facts(.inbound, answered: true), settings: s) == 9)
        #expect(B24CallRules.finisher(Self.facts(.outbound, answered: true), settings: s) == 8)
        #expect(B24CallRules.finisher(Self.facts(.outbound, answered: false, dialler: 4), settings: s) == 4)
    }

    static func facts(_ direction: CallDirection, answered: Bool, talkers: [Int] = [], dialler: Int? = nil,
                      result: CallResult? = nil, line: String? = nil, recording: String? = nil, endStatus: String? = nil) -> CallFacts {
        CallFacts(callId: "c1", direction: direction, result: result ?? (answered ? .answered : .missed),
                  client: PhoneNumber.parse("+79101234567"), virtualNumber: line,
                  talkers: talkers.map { CallPerson(login: "e\($0)", crmUser: String($0)) },
                  dialler: direction == .outbound ? CallPerson(login: "d", crmUser: dialler.map(String.init)) : nil,
                  startedAt: Date(timeIntervalSince1970: 1_800_000_000), talkSec: answered ? 42 : 0, recordingURL: recording,
                  endStatus: endStatus)
    }

    struct PlanCase: CustomTestStringConvertible, Sendable {
        let name: String
        let facts: CallFacts
        let steps: [PlanStep<B24Step>]
        var reasons: [String] = []
        var testDescription: String { name }
    }

    static let planCases: [PlanCase] = [
        PlanCase(name: "incoming answered, recorded: finish as the last talker, then the recording",
                 facts: facts(.inbound, answered: true, talkers: [1, 2], recording: "https://r/1.ogg?x=1"),
                 steps: [.own(.finish(user: 2, statusCode: "200", duration: 42, addToChat: true, failedReason: nil)),
                         .own(.attachRecord(url: "https://r/1.ogg?x=1", fileName: "c1.mp3"))]),
        PlanCase(name: "a .wav recording keeps its extension", facts: facts(.inbound, answered: true, talkers: [1], recording: "https://r/1.WAV"),
                 steps: [.own(.finish(user: 1, statusCode: "200", duration: 42, addToChat: true, failedReason: nil)),
                         .own(.attachRecord(url: "https://r/1.WAV", fileName: "c1.wav"))]),
        PlanCase(name: "incoming missed: the default responsible, the PBX's reason", facts: facts(.inbound, answered: false, endStatus: "NOANSWER"),
                 steps: [.own(.finish(user: 9, statusCode: "304", duration: 0, addToChat: true, failedReason: "NOANSWER"))]),
        PlanCase(name: "incoming answered by nobody mapped: the default, and why", facts: facts(.inbound, answered: true),
                 steps: [.own(.finish(user: 9, statusCode: "200", duration: 42, addToChat: true, failedReason: nil))],
                 reasons: ["no talker is mapped to a Bitrix24 user: the call goes to the default responsible"]),
        PlanCase(name: "outgoing busy: the dialler", facts: facts(.outbound, answered: false, dialler: 4, result: .busy, endStatus: "Busy"),
                 steps: [.own(.finish(user: 4, statusCode: "486", duration: 0, addToChat: true, failedReason: "Busy"))]),
        PlanCase(name: "a call on a tracked line: its UTM tags for what the call created",
                 facts: facts(.inbound, answered: true, talkers: [1], line: "74951234567"),
                 steps: [.own(.finish(user: 1, statusCode: "200", duration: 42, addToChat: true, failedReason: nil)),
                         .own(.setUTM(["UTM_SOURCE": "ya"]))]),
    ]

    @Test("a finished call's plan, from the neutral facts alone", arguments: planCases)
    func plan(_ c: PlanCase) {
        var s = B24Settings()
        s.incoming.defaultResponsible = 9
        s.outgoing.defaultResponsible = 8
        s.incoming.responsibleTalker = .last
        s.chatMessage = true
        s.callTracking.enabled = true
        s.callTracking.tags = ["utm_source"]
        s.callTracking.byLine = ["8 (495) 123-45-67": ["utm_source": "ya"]]
        let plan = B24CallRules.plan(c.facts, s)
        #expect(plan.steps == c.steps)
        #expect(plan.reasons.map(\.en) == c.reasons)
        #expect(plan.journal.count == c.reasons.count + c.steps.count)
        #expect(plan.journal.allSatisfy { !$0.ru.isEmpty && $0.ru != $0.en })
    }

    @Test("no responsible at all: no step, and the reason")
    func planWithoutResponsible() {
        let plan = B24CallRules.plan(Self.facts(.inbound, answered: false), B24Settings())
        #expect(plan.steps.isEmpty)
        #expect(plan.reasons.map(\.code) == [B24Says.noResponsible.phrase.code])
    }
}
